package policy

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompressRoundTrip(t *testing.T) {
	data, err := os.ReadFile("../deployments/policy.yaml")
	require.NoError(t, err)
	gz, err := Compress(data)
	require.NoError(t, err)
	assert.Less(t, len(gz), len(data)/2, "the sample policy compresses to less than half")
	back, err := decompressGzip(gz)
	require.NoError(t, err)
	assert.Equal(t, HashBytes(data), HashBytes(back))
}

// TestDecompressRefusesBombsAndJunk: a LoadPolicy answer is not trusted.
func TestDecompressRefusesBombsAndJunk(t *testing.T) {
	bomb, err := Compress(bytes.Repeat([]byte{'a'}, MaxFileBytes+1))
	require.NoError(t, err)
	_, err = decompressGzip(bomb)
	assert.ErrorContains(t, err, "more than")
	exact, err := Compress(bytes.Repeat([]byte{'a'}, MaxFileBytes))
	require.NoError(t, err)
	_, err = decompressGzip(exact)
	assert.NoError(t, err)
	_, err = decompressGzip([]byte("not gzip"))
	assert.ErrorContains(t, err, "compressed policy")
	cut, err := Compress([]byte("version: 1\n"))
	require.NoError(t, err)
	_, err = decompressGzip(cut[:len(cut)-4])
	assert.Error(t, err)
}
