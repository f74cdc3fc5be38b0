package activities

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/testkeys"
	"github.com/foureyes/foureyes/policy"
)

func TestLoadPolicyRefusesBadFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "policy.json")
	writeFile(t, bad, `{"version": 99}`)
	for _, path := range []string{bad, filepath.Join(dir, "missing.yaml")} {
		a := &PolicyActivities{Identity: "foureyes-orchestrator@test", PolicyFile: path}
		_, err := execute[policy.Snapshot](t, a, a.LoadPolicy, api.LoadPolicyInput{})
		appErr := requireAppError(t, err, ErrTypeBadPolicy, true)
		assert.Contains(t, appErr.Error(), path)
	}
	_, err := execute[policy.Snapshot](t, &PolicyActivities{PolicyFile: bad}, (&PolicyActivities{PolicyFile: bad}).LoadPolicy, api.LoadPolicyInput{})
	assert.ErrorContains(t, err, "version", "the error names the field")
}

// A changed file is parsed again; an unchanged one is not.
func TestLoadPolicyFollowsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	demo, err := os.ReadFile(filepath.Join("..", "deployments", "policy.yaml"))
	require.NoError(t, err)
	keyed := withKeys(string(demo))
	writeFile(t, path, keyed)
	a := &PolicyActivities{Identity: "foureyes-orchestrator@test", PolicyFile: path}
	first, err := execute[policy.Snapshot](t, a, a.LoadPolicy, api.LoadPolicyInput{})
	require.NoError(t, err)
	assert.Equal(t, []byte(keyed), first.Content, "the file's exact bytes")
	assert.Equal(t, policy.HashBytes([]byte(keyed)), first.Hash)
	assert.Equal(t, path, first.Path)
	assert.Nil(t, first.Policy, "the workflow parses Content itself")
	gz, err := execute[policy.Snapshot](t, a, a.LoadPolicy, api.LoadPolicyInput{Gzip: true})
	require.NoError(t, err)
	assert.Empty(t, gz.Content, "compressed instead, not besides")
	unzipped, err := policy.DecompressPinned(gz.Compressed)
	require.NoError(t, err)
	assert.Equal(t, []byte(keyed), unzipped, "the file's exact bytes, compressed")
	assert.Less(t, len(gz.Compressed), len(keyed)*2/3)
	assert.Equal(t, first.Hash, gz.Hash)
	bare, err := execute[[]byte](t, a, a.LoadPolicy, api.LoadPolicyInput{Gzip: true, Bytes: true})
	require.NoError(t, err)
	assert.Equal(t, gz.Compressed, bare, "the same compressed bytes, alone")
	deflated, err := execute[[]byte](t, a, a.LoadPolicy, api.LoadPolicyInput{Gzip: true, Bytes: true, Dict: policy.DictionarySampleV1})
	require.NoError(t, err)
	inflated, err := policy.DecompressPinned(deflated)
	require.NoError(t, err)
	assert.Equal(t, []byte(keyed), inflated, "the file's exact bytes, with the dictionary")
	assert.Less(t, len(deflated), len(bare)/4, "the demo policy is mostly the sample: the dictionary knows it")
	unknown, err := execute[[]byte](t, a, a.LoadPolicy, api.LoadPolicyInput{Gzip: true, Bytes: true, Dict: "sample-v99"})
	require.NoError(t, err)
	assert.Equal(t, bare, unknown, "a dictionary it does not know: gzip, which the release reads too")
	again, err := execute[policy.Snapshot](t, a, a.LoadPolicy, api.LoadPolicyInput{})
	require.NoError(t, err)
	assert.Equal(t, first, again)
	writeFile(t, path, keyed+"\n# changed\n")
	changed, err := execute[policy.Snapshot](t, a, a.LoadPolicy, api.LoadPolicyInput{})
	require.NoError(t, err)
	assert.NotEqual(t, first.Hash, changed.Hash)
	writeFile(t, path, `{"version": 99}`)
	_, err = execute[policy.Snapshot](t, a, a.LoadPolicy, api.LoadPolicyInput{})
	assert.ErrorContains(t, err, "version", "a bad file fails even after good ones")
}

// A policy that lacks a signing role's key could verify nothing: refused
// with the file and the field, like any bad policy.
func TestLoadPolicyRefusesPolicyWithoutKeys(t *testing.T) {
	path, _ := writePolicy(t, fmt.Sprintf(testPolicyYAML, ""))
	a := &PolicyActivities{PolicyFile: path}
	_, err := execute[policy.Snapshot](t, a, a.LoadPolicy, api.LoadPolicyInput{})
	appErr := requireAppError(t, err, ErrTypeBadPolicy, true)
	assert.Contains(t, appErr.Error(), path+": keys.orchestrator: is required")

	content := withKeys(fmt.Sprintf(testPolicyYAML, ""))
	deployKeyLine := fmt.Sprintf("  deploy: [%q]\n", testkeys.Public(attest.RoleDeploy))
	require.Contains(t, content, deployKeyLine)
	path, _ = writePolicy(t, strings.Replace(content, deployKeyLine, "", 1))
	a = &PolicyActivities{PolicyFile: path}
	_, err = execute[policy.Snapshot](t, a, a.LoadPolicy, api.LoadPolicyInput{})
	assert.ErrorContains(t, err, path+": keys.deploy: is required")
}

func TestSealSignsTheChainHead(t *testing.T) {
	a := &PolicyActivities{Identity: "foureyes-orchestrator@test", Signer: sealKey, Caller: runOf("rel-1", api.WorkflowRelease)}
	head := strings.Repeat("c", 64)
	in := api.SealInput{ReleaseID: "rel-1", PolicyHash: strings.Repeat("d", 64), Head: head, Entries: 17, Status: "deployed"}
	res, err := execute[api.SealResult](t, a, a.Seal, in)
	require.NoError(t, err)
	assert.Equal(t, "foureyes-orchestrator@test", res.Executor)

	f, err := testkeys.Ring().Verify(res.Seal, attest.RoleOrchestrator, attest.PredicateSeal)
	require.NoError(t, err)
	assert.Equal(t, attest.SealSubject("rel-1", head), f.Subject)
	var seal attest.Seal
	require.NoError(t, f.Decode(&seal))
	require.NoError(t, seal.Binding.Check(attest.Binding{Release: "rel-1", PolicySHA256: in.PolicyHash}))
	assert.Equal(t, []any{head, 17, "deployed", "foureyes-orchestrator@test"},
		[]any{seal.Head, seal.Entries, seal.Status, seal.Sealer})
	assert.WithinDuration(t, time.Now(), seal.At, time.Minute)
	_, err = testkeys.Ring().Verify(res.Seal, attest.RoleDeploy, attest.PredicateSeal)
	assert.Equal(t, attest.CodeWrongRole, attest.CodeOf(err), "only the orchestrator's key seals")
}

// runOf plays the server's part: the run that asked is id, of type typ.
func runOf(id, typ string) CallerReader {
	return func(context.Context) (Caller, error) { return Caller{ID: id, RunID: testRunID, Type: typ}, nil }
}

// TestSealIsNoOracle: the orchestrator role seals a release's trail only
// when that release asks; any other workflow (a client's own, another
// release) is refused, so the role's key signs no head a caller chose for
// someone else's trail. Without sealsOwnTrail both calls are signed.
func TestSealIsNoOracle(t *testing.T) {
	in := api.SealInput{ReleaseID: "rel-1", PolicyHash: strings.Repeat("d", 64), Head: strings.Repeat("c", 64), Entries: 3}
	for name, caller := range map[string]CallerReader{
		"another release":            runOf("rel-2", api.WorkflowRelease),
		"a workflow of another type": runOf("rel-1", "Rogue"),
	} {
		a := &PolicyActivities{Identity: "foureyes-orchestrator@test", Signer: sealKey, Caller: caller}
		res, err := execute[api.SealResult](t, a, a.Seal, in)
		appErr := requireAppError(t, err, api.ErrTypeDeployRefused, true)
		assert.Contains(t, appErr.Error(), "a release seals only its own", name)
		assert.Empty(t, res.Seal, name)
	}
}

func TestSealRefuses(t *testing.T) {
	good := api.SealInput{ReleaseID: "rel-1", Head: strings.Repeat("c", 64), Entries: 3}
	cases := map[string]struct {
		a    *PolicyActivities
		edit func(*api.SealInput)
		typ  string
	}{
		"no key":      {&PolicyActivities{}, func(*api.SealInput) {}, ErrTypeNoSigningKey},
		"short head":  {&PolicyActivities{Signer: sealKey}, func(in *api.SealInput) { in.Head = "abc" }, ErrTypeInvalidInput},
		"bad release": {&PolicyActivities{Signer: sealKey}, func(in *api.SealInput) { in.ReleaseID = "../x" }, ErrTypeInvalidInput},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			in := good
			c.edit(&in)
			_, err := execute[api.SealResult](t, c.a, c.a.Seal, in)
			requireAppError(t, err, c.typ, true)
		})
	}
}
