package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/attest"
)

func TestKeysGenerate(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := cli(t, nil, "keys", "generate", "approval", "--dir", dir)
	require.Equal(t, 0, code, errs)
	keyPath, pubPath := filepath.Join(dir, "approval.key"), filepath.Join(dir, "approval.pub")
	info, err := os.Stat(keyPath)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the private key is the role's alone")
	pub, err := os.ReadFile(pubPath)
	require.NoError(t, err)
	line := strings.TrimSpace(string(pub))
	_, err = attest.ParsePublicKey(line)
	require.NoError(t, err)
	assert.Contains(t, out, "\n"+line+"\n", "the public key is printed on its own line")
	assert.Contains(t, out, "add under keys.approval in the policy")

	// The key signs what its public half verifies.
	priv, err := attest.ReadPrivateKey(keyPath)
	require.NoError(t, err)
	ring, err := attest.NewKeyRing(map[string][]string{"approval": {line}})
	require.NoError(t, err)
	env, err := attest.NewSigner("approval", priv).Attest(attest.ReleaseSubject("r"), attest.PredicateCancel, attest.Cancel{})
	require.NoError(t, err)
	_, err = ring.Verify(env, "approval", attest.PredicateCancel)
	assert.NoError(t, err)
}

func TestKeysGenerateNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	code, _, errs := cli(t, nil, "keys", "generate", "deploy", "--dir", dir)
	require.Equal(t, 0, code, errs)
	keyPath := filepath.Join(dir, "deploy.key")
	before, err := os.ReadFile(keyPath)
	require.NoError(t, err)
	code, out, errs := cli(t, nil, "keys", "generate", "deploy", "--dir", dir)
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Contains(t, errs, "starter: keys generate: "+keyPath+" exists: refusing to overwrite")
	after, err := os.ReadFile(keyPath)
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

func TestKeysGenerateDefaultsToCurrentDirectory(t *testing.T) {
	t.Chdir(t.TempDir())
	code, _, errs := cli(t, nil, "keys", "generate", "orchestrator")
	require.Equal(t, 0, code, errs)
	assert.FileExists(t, "orchestrator.key")
	assert.FileExists(t, "orchestrator.pub")
}

func TestKeysGenerateUnknownRole(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := cli(t, nil, "keys", "generate", "admin", "--dir", dir)
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	assert.Contains(t, errs, `starter: keys generate: unknown role "admin": want one of orchestrator, build, review, approval, deploy`)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing written")
}
