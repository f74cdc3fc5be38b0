package integration

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/internal/devstack"
	"github.com/foureyes/foureyes/internal/gitrepo"
)

// commits are the real commits the integration releases build, added to the
// stack's demo repositories (data/repos) before the roles start.
type commits struct {
	payments, ledger *gitrepo.Repo
	// A (tagged v1.4.0) is alice's payments commit the deployed release
	// ships; C follows it and fails its verification (the rolled-back
	// release); B is alice's ledger commit (rejected, cancelled).
	A, B, C string
}

func makeCommits(t *testing.T, repos string) commits {
	t.Helper()
	require.NoError(t, gitrepo.Available())
	g := commits{payments: &gitrepo.Repo{Dir: filepath.Join(repos, "payments")},
		ledger: &gitrepo.Repo{Dir: filepath.Join(repos, "ledger")}}
	g.A = commit(t, g.payments, devstack.DemoAlice, "payments: faster card refunds\n", "refund.go")
	require.NoError(t, g.payments.Tag("v1.4.0", g.A, "payments 1.4.0", devstack.DemoAlice))
	g.C = commit(t, g.payments, devstack.DemoAlice, "payments: refund fees\n", "fees.go")
	g.B = commit(t, g.ledger, devstack.DemoAlice, "ledger: export entries\n", "export.go")
	return g
}

func commit(t *testing.T, r *gitrepo.Repo, who gitrepo.Person, message, file string) string {
	t.Helper()
	key, err := devstack.DemoSigningKey(identityOf(who)) // prod takes only signed commits
	require.NoError(t, err)
	sha, err := r.Commit(gitrepo.Commit{Author: who, Message: message,
		Files: map[string]string{file: "package main // " + message}, SigningKey: key})
	require.NoError(t, err)
	return sha
}

// identityOf is the demo identity of a demo person ("alice" for alice@…).
func identityOf(p gitrepo.Person) string {
	id, _, _ := strings.Cut(p.Email, "@")
	return id
}
