package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Chain is an append-only, hash-linked list of entries. The zero value is an
// empty chain. It is a plain value: it serialises to JSON and can be kept in
// workflow state. (The field is Links, not Entries, because Go does not allow
// a field and the Entries method to share a name.)
type Chain struct {
	Links []Entry `json:"entries"`
}

// Append seals e as the next link: it sets Seq, Prev and Hash, normalises Time
// to UTC, and returns the sealed entry. It reads no clock: callers set Time.
func (c *Chain) Append(e Entry) Entry {
	e.Seq = len(c.Links) + 1
	e.Prev = c.Head()
	e = normalize(e)
	e.Hash = HashEntry(e)
	c.Links = append(c.Links, e)
	return e
}

// Entries returns a copy of the chain's entries (never nil).
func (c *Chain) Entries() []Entry {
	return append([]Entry{}, c.Links...)
}

// Head returns the hash of the last entry, or "" for an empty chain.
func (c *Chain) Head() string {
	if len(c.Links) == 0 {
		return ""
	}
	return c.Links[len(c.Links)-1].Hash
}

// HashEntry returns the hex SHA-256 of e's canonical JSON with Hash set to "".
// It returns "" if e cannot be encoded (a time outside years 0000-9999),
// which never verifies; Append never produces such an entry.
func HashEntry(e Entry) string {
	e.Hash = ""
	b, err := canonical(e)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Export writes entries as JSON lines, one canonical object per line.
func Export(w io.Writer, entries []Entry) error {
	bw := bufio.NewWriter(w)
	for _, e := range entries {
		b, err := canonical(e)
		if err != nil {
			return fmt.Errorf("audit: export seq %d: %w", e.Seq, err)
		}
		bw.Write(b)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// Verify reads JSON lines as written by Export and checks that every line is
// the canonical JSON of an Entry, that Seq runs 1, 2, 3…, that each Prev is
// the previous entry's Hash and that each Hash holds. It returns the number
// of entries verified; the error names the first line that does not hold.
// The final newline is optional; any other deviation is an error.
//
// Verify proves only that the file is internally consistent: anyone can cut
// it after any entry, or remove entries and recompute every hash, and the
// result still verifies. It is for callers that have no policy; whoever must
// know the trail is the one the release sealed uses VerifySigned.
func Verify(r io.Reader) (int, error) {
	return scan(r, nil)
}

// scan verifies the hash chain line by line and calls check (if not nil) on
// every entry that links, so that VerifySigned reads the file only once and
// names failures the same way. It returns the number of entries verified.
func scan(r io.Reader, check func(*Entry) error) (int, error) {
	br := bufio.NewReader(r)
	var prev *Entry
	n := 0
	for {
		line, err := br.ReadBytes('\n')
		if len(line) == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			return n, fmt.Errorf("line %d: %w", n+1, err)
		}
		e, verr := verifyLine(bytes.TrimSuffix(line, []byte{'\n'}), prev)
		if verr == nil && check != nil {
			verr = check(e)
		}
		if verr != nil {
			return n, fmt.Errorf("line %d%s: %w", n+1, seqNote(e), verr)
		}
		prev = e
		n++
	}
	if n == 0 {
		return 0, errors.New("no entries")
	}
	return n, nil
}

// verifyLine checks one line against the entry before it (nil for the
// first). It returns the decoded entry when it could be decoded.
func verifyLine(line []byte, prev *Entry) (*Entry, error) {
	e, err := decodeStrict(line)
	if err != nil {
		return nil, fmt.Errorf("not canonical JSON: %w", err)
	}
	if b, err := canonical(*e); err != nil || !bytes.Equal(b, line) {
		return e, errors.New("not canonical JSON")
	}
	want, prevHash := 1, ""
	if prev != nil {
		want, prevHash = prev.Seq+1, prev.Hash
	}
	switch {
	case prev == nil && e.Seq != 1:
		return e, fmt.Errorf("first entry has seq %d, want 1", e.Seq)
	case e.Seq != want:
		return e, fmt.Errorf("seq %d follows %d", e.Seq, prev.Seq)
	case prev == nil && e.Prev != "":
		return e, errors.New("prev of the first entry must be empty")
	case e.Prev != prevHash:
		return e, fmt.Errorf("prev does not match hash of seq %d", prev.Seq)
	}
	if h := HashEntry(*e); e.Hash != h {
		return e, fmt.Errorf("hash mismatch: recorded %s, computed %s", e.Hash, h)
	}
	return e, nil
}

// decodeStrict decodes exactly one Entry object, rejecting unknown fields
// and trailing data.
func decodeStrict(line []byte) (*Entry, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var e Entry
	if err := dec.Decode(&e); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the object")
	}
	return &e, nil
}

// seqNote names an entry in an error: " (seq 3, decision_accepted)".
func seqNote(e *Entry) string {
	switch {
	case e == nil:
		return ""
	case e.Type == "":
		return fmt.Sprintf(" (seq %d)", e.Seq)
	}
	return fmt.Sprintf(" (seq %d, %s)", e.Seq, e.Type)
}

// canonical is the encoding/json form of e with Time in UTC.
func canonical(e Entry) ([]byte, error) {
	e.Time = e.Time.UTC()
	return json.Marshal(e)
}

// normalize returns e as it reads back from its canonical JSON (UTC time,
// invalid UTF-8 replaced), so sealed entries equal verified ones. A time that
// cannot be encoded is recorded in Detail and replaced by the zero time.
func normalize(e Entry) Entry {
	b, err := canonical(e)
	if err != nil {
		e.Detail = fmt.Sprintf("[unencodable time %s] %s", e.Time.UTC().Format(time.RFC3339Nano), e.Detail)
		e.Time = time.Time{}
		b, _ = canonical(e)
	}
	var n Entry
	_ = json.Unmarshal(b, &n)
	return n
}
