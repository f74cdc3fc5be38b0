package codec

import (
	"bytes"
	"compress/flate"
	_ "embed"
	"errors"
	"fmt"
	"io"
)

// codeJSONDeflateV1: json/plain, its data raw DEFLATE (RFC 1951) with
// dict/json-v1 as the preset dictionary. A content code like wellKnown's:
// never renumbered; a new dictionary gets a new code, this one opens
// forever.
const codeJSONDeflateV1 = 6

// jsonDictV1 is frozen (dict/mkdict.go says how it was built; a test pins
// its SHA-256): every code-6 payload ever written inflates with it.
//
//go:embed dict/json-v1
var jsonDictV1 []byte

// minCompressed: deflating costs ~40 µs whatever the size (Reset), and a
// release's many short payloads save little: from 128 B, 29 % fewer
// deflations than from 64 B for 4 % fewer bytes saved (docs/benchmarks.md).
const minCompressed = 128

// MaxInflated bounds what one code-6 payload inflates to: a role that
// shares the key ring could seal a zip bomb. Above Temporal's 2 MB payload
// limit, so nothing the server accepted is refused.
const MaxInflated = 8 << 20

// compressionLevel: flate's default; its best (9) saved 0.1 % more of the
// recorded histories' json payloads (8,853 against 8,865 B of 23,722).
const compressionLevel = flate.DefaultCompression

// Free writers and readers, kept: a writer costs 0.8 MB and about 1 ms to
// make (NewWriterDict), 25 times what compressing a payload does, and a
// sync.Pool drops its items at every GC, which in a busy worker comes
// more often than a payload (measured: 13 ms more workers' CPU per
// release). Reset keeps the dictionary. At most maxFree of each: more
// payloads are in flight than there are processors (a goroutine is
// preempted mid-payload), and with GOMAXPROCS kept (2 here) the
// orchestrator made a new writer for a third of its payloads (its memo,
// 0.7 ms each in the profile); 8 writers are 6.4 MB.
var (
	maxFree   = 8
	deflaters = make(chan *flate.Writer, maxFree)
	inflaters = make(chan io.ReadCloser, maxFree)
)

func getDeflater() *flate.Writer {
	select {
	case w := <-deflaters:
		return w
	default:
		w, err := flate.NewWriterDict(io.Discard, compressionLevel, jsonDictV1)
		if err != nil {
			panic(err) // only for a bad level, a constant
		}
		return w
	}
}

func getInflater() io.ReadCloser {
	select {
	case r := <-inflaters:
		return r
	default:
		return flate.NewReaderDict(bytes.NewReader(nil), jsonDictV1)
	}
}

// putFree keeps x for the next payload unless maxFree are kept already.
func putFree[T any](free chan T, x T) {
	select {
	case free <- x:
	default:
	}
}

// deflateJSON appends data deflated with json-v1 to dst, or returns ok
// false when that is no smaller than data.
func deflateJSON(dst *bytes.Buffer, data []byte) (ok bool) {
	if len(data) < minCompressed {
		return false
	}
	w := getDeflater()
	defer putFree(deflaters, w)
	w.Reset(dst)
	if _, err := w.Write(data); err != nil { // a bytes.Buffer does not fail
		return false
	}
	if err := w.Close(); err != nil {
		return false
	}
	return dst.Len() < len(data)
}

// inflateJSON is code-6 data inflated, refused beyond MaxInflated.
func inflateJSON(keyID string, deflated []byte) ([]byte, error) {
	r := getInflater()
	defer putFree(inflaters, r)
	if err := r.(flate.Resetter).Reset(bytes.NewReader(deflated), jsonDictV1); err != nil {
		return nil, errInflate(keyID, err)
	}
	out := bytes.NewBuffer(make([]byte, 0, min(4*len(deflated), MaxInflated)))
	n, err := out.ReadFrom(io.LimitReader(r, MaxInflated+1))
	if err != nil {
		return nil, errInflate(keyID, err)
	}
	if n > MaxInflated {
		return nil, fmt.Errorf("payload codec: decrypted payload of key %q, content code %d (json/plain deflated with json-v1), inflates beyond the limit of %d bytes: refused (a zip bomb?)", keyID, codeJSONDeflateV1, MaxInflated)
	}
	return out.Bytes(), nil
}

func errInflate(keyID string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("truncated deflate stream: %w", err)
	}
	return fmt.Errorf("payload codec: decrypted payload of key %q, content code %d (json/plain deflated with json-v1), does not inflate: %w", keyID, codeJSONDeflateV1, err)
}
