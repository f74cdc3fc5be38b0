package policy

import (
	"bytes"
	"compress/flate"
	_ "embed" // the frozen dictionary
)

// DictionarySampleV1 names the preset dictionary of a pinned policy
// (LoadPolicyInput.Dict): the sample policy as it was when the dictionary
// was made (deployments/policy.yaml and the keys: section the stack adds,
// without key values). A policy kept close to the sample, comments
// included, compresses to little more than what it adds: its keys, tokens
// and names (docs/benchmarks.md, issue 26). The file is part of the
// format of every history that pinned a policy with it: it never changes
// (TestSampleDictionaryIsFrozen); a new dictionary gets a new name.
const DictionarySampleV1 = "sample-v1"

//go:embed dict/sample-v1.yaml
var sampleV1 []byte

// gzipMagic starts every gzip stream; no raw DEFLATE stream starts with it
// (its first byte would name the reserved block type 3).
var gzipMagic = []byte{0x1f, 0x8b}

// CompressWithDictionary is data raw-DEFLATE-compressed with the
// DictionarySampleV1 dictionary (best compression: it is written once per
// content and stored in every release's history).
func CompressWithDictionary(data []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := flate.NewWriterDict(&b, flate.BestCompression, sampleV1)
	if err != nil {
		return nil, err
	}
	return writeAll(&b, w, data)
}

// DecompressPinned is the policy file's bytes from either compressed form
// a LoadPolicy answer may take: gzip (Compress) or DEFLATE with the
// DictionarySampleV1 dictionary (CompressWithDictionary). A stream that is
// neither, is cut short or holds more than MaxFileBytes is refused.
func DecompressPinned(b []byte) ([]byte, error) {
	if bytes.HasPrefix(b, gzipMagic) {
		return decompressGzip(b)
	}
	r := flate.NewReaderDict(bytes.NewReader(b), sampleV1)
	defer r.Close()
	return readBounded(r, "compressed policy (DEFLATE, dictionary "+DictionarySampleV1+")")
}
