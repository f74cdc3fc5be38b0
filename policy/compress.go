package policy

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
)

// MaxFileBytes bounds a policy file read back from its compressed form: a
// LoadPolicy answer is not trusted, and a small gzip stream can stand for
// gigabytes. The sample policy is 11 KB.
const MaxFileBytes = 4 << 20

// Compress is data gzip-compressed (best compression: it is written once
// per content and stored in every release's history).
func Compress(data []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	return writeAll(&b, w, data)
}

// writeAll is data written through w, which writes to b, once w is closed.
func writeAll(b *bytes.Buffer, w io.WriteCloser, data []byte) ([]byte, error) {
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// decompressGzip is the bytes Compress made of them; a stream that is not gzip,
// is cut short or holds more than MaxFileBytes is refused.
func decompressGzip(gz []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("compressed policy: %w", err)
	}
	return readBounded(r, "compressed policy")
}

// readBounded is what r decompresses to, refused beyond MaxFileBytes; what
// names the stream in errors.
func readBounded(r io.Reader, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%s: more than %d bytes uncompressed", what, MaxFileBytes)
	}
	return data, nil
}
