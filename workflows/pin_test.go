package workflows

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/policy"
)

// TestPinTakesCompressedContent: since versionLeanHistory LoadPolicy answers
// the file gzip-compressed; the pin hashes the bytes it decompressed itself,
// and refuses an answer that is both, neither, or a decompression bomb.
func TestPinTakesCompressedContent(t *testing.T) {
	data, err := os.ReadFile("../deployments/policy.yaml")
	require.NoError(t, err)
	gz, err := policy.Compress(data)
	require.NoError(t, err)

	got, err := snapContent(policy.Snapshot{Compressed: gz, Hash: "claimed, not trusted"})
	require.NoError(t, err)
	assert.Equal(t, data, got)
	got, err = snapContent(policy.Snapshot{Content: data})
	require.NoError(t, err)
	assert.Equal(t, data, got, "releases before versionLeanHistory")

	_, err = snapContent(policy.Snapshot{Content: data, Compressed: gz})
	assert.ErrorContains(t, err, "twice")
	_, err = snapContent(policy.Snapshot{})
	assert.ErrorContains(t, err, "without the policy's content")
	bomb, err := policy.Compress(bytes.Repeat([]byte("a"), policy.MaxFileBytes+1))
	require.NoError(t, err)
	_, err = snapContent(policy.Snapshot{Compressed: bomb})
	assert.ErrorContains(t, err, "more than")
}
