package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// sample builds a small chain like a release would.
func sample(n int) *Chain {
	c := &Chain{}
	events := []Entry{
		{Type: EventReleaseStarted, Actor: "alice", Channel: "cli", Outcome: "ok", Detail: "svc@abc"},
		{Type: EventStageFinished, Stage: "code", Executor: "foureyes-build@h", Outcome: "ok"},
		{Type: EventDecision, Stage: "review", Actor: "bob", Channel: "slack", Outcome: "accepted", Detail: "lgtm <3 & \"quotes\""},
		{Type: EventReleaseEnded, Outcome: "deployed"},
	}
	for i := range n {
		e := events[i%len(events)]
		e.Time = t0.Add(time.Duration(i) * time.Second)
		e.Release = "rel-1"
		c.Append(e)
	}
	return c
}

func export(t testing.TB, entries []Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, Export(&buf, entries))
	return buf.Bytes()
}

func TestAppendSealsEntries(t *testing.T) {
	c := sample(3)
	es := c.Entries()
	require.Len(t, es, 3)
	for i, e := range es {
		assert.Equal(t, i+1, e.Seq)
		assert.Equal(t, HashEntry(e), e.Hash)
		if i == 0 {
			assert.Empty(t, e.Prev)
		} else {
			assert.Equal(t, es[i-1].Hash, e.Prev)
		}
	}
	assert.Equal(t, es[2].Hash, c.Head())
	assert.Equal(t, sample(3).Head(), c.Head(), "Append is deterministic")
}

func TestAppendIgnoresCallerSeqPrevHash(t *testing.T) {
	c := &Chain{}
	got := c.Append(Entry{Seq: 9, Prev: "x", Hash: "y", Time: t0, Type: EventDeploy})
	assert.Equal(t, 1, got.Seq)
	assert.Empty(t, got.Prev)
	assert.Equal(t, HashEntry(got), got.Hash)
}

func TestEmptyChain(t *testing.T) {
	var c Chain
	assert.Empty(t, c.Head())
	assert.NotNil(t, c.Entries())
	assert.Empty(t, c.Entries())
}

func TestEntriesIsACopy(t *testing.T) {
	c := sample(2)
	es := c.Entries()
	es[0].Detail = "changed"
	assert.NotEqual(t, "changed", c.Entries()[0].Detail)
}

func TestAppendNormalisesToWhatVerifyReads(t *testing.T) {
	c := &Chain{}
	zone := time.FixedZone("CEST", 2*3600)
	got := c.Append(Entry{Time: t0.In(zone), Type: EventDeploy, Detail: "bad \xff utf8"})
	assert.Equal(t, time.UTC, got.Time.Location())
	assert.True(t, got.Time.Equal(t0))
	assert.Equal(t, "bad \uFFFD utf8", got.Detail)

	var back Entry
	require.NoError(t, json.Unmarshal(bytes.TrimSpace(export(t, c.Entries())), &back))
	assert.Equal(t, got, back)
}

func TestAppendUnencodableTime(t *testing.T) {
	c := &Chain{}
	got := c.Append(Entry{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Detail: "d"})
	assert.True(t, got.Time.IsZero())
	assert.Equal(t, "[unencodable time 10000-01-01T00:00:00Z] d", got.Detail)
	n, err := Verify(bytes.NewReader(export(t, c.Entries())))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

// TestHashEntryKnownAnswer pins the canonical form: field order, UTC
// RFC3339Nano time, encoding/json escaping.
func TestHashEntryKnownAnswer(t *testing.T) {
	e := Entry{
		Seq: 2, Time: t0.In(time.FixedZone("X", -5*3600)), Release: "r", Type: EventDecision,
		Stage: "review", Actor: "bob", Executor: "foureyes-approval@h", Channel: "api",
		Outcome: "accepted", Detail: "a<b", Prev: "p", Hash: "ignored",
	}
	want := `{"seq":2,"time":"2025-03-14T15:09:26.535897932Z","release":"r","type":"decision_accepted",` +
		`"stage":"review","actor":"bob","executor":"foureyes-approval@h","channel":"api",` +
		`"outcome":"accepted","detail":"a\u003cb","prev":"p","hash":""}`
	sum := sha256.Sum256([]byte(want))
	assert.Equal(t, hex.EncodeToString(sum[:]), HashEntry(e))
}

func TestChainJSONRoundTrip(t *testing.T) {
	c := sample(2)
	b, err := json.Marshal(c)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), `{"entries":[`))

	var back Chain
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, c.Entries(), back.Entries())
	e := Entry{Time: t0, Type: EventReleaseEnded}
	assert.Equal(t, c.Append(e), back.Append(e), "a restored chain continues identically")
}

func TestExportFormat(t *testing.T) {
	out := export(t, sample(3).Entries())
	lines := strings.Split(string(out), "\n")
	require.Len(t, lines, 4)
	assert.Empty(t, lines[3], "every line ends with a newline")
	for _, l := range lines[:3] {
		assert.True(t, json.Valid([]byte(l)))
		assert.NotContains(t, l, " \"", "compact")
	}
}

func TestVerifyValid(t *testing.T) {
	for _, n := range []int{1, 2, 5, 100} {
		out := export(t, sample(n).Entries())
		got, err := Verify(bytes.NewReader(out))
		require.NoError(t, err)
		assert.Equal(t, n, got)

		got, err = Verify(bytes.NewReader(bytes.TrimSuffix(out, []byte("\n"))))
		require.NoError(t, err, "final newline is optional")
		assert.Equal(t, n, got)
	}
}

// TestVerifyEveryByteChanged is the "one byte changed" guarantee: every
// position of an exported chain, set to every other byte value, fails.
func TestVerifyEveryByteChanged(t *testing.T) {
	out := export(t, sample(3).Entries())
	values := 256
	if testing.Short() {
		values = 4
	}
	for i := range out {
		for d := 1; d < values; d++ {
			mod := bytes.Clone(out)
			mod[i] ^= byte(d)
			if testing.Short() {
				mod[i] = out[i] ^ []byte{0x01, 0x20, 0x80}[d-1]
			}
			if _, err := Verify(bytes.NewReader(mod)); err == nil {
				t.Fatalf("byte %d changed %q -> %q: Verify passed", i, out[i], mod[i])
			}
		}
	}
}

func TestVerifyErrors(t *testing.T) {
	good := strings.Split(strings.TrimSuffix(string(export(t, sample(4).Entries())), "\n"), "\n")
	reseal := func(edit func(*Entry)) []string {
		es := sample(4).Entries()
		edit(&es[1])
		es[1].Hash = HashEntry(es[1])
		return strings.Split(strings.TrimSuffix(string(export(t, es)), "\n"), "\n")
	}
	e2 := sample(4).Entries()[1]
	other := &Chain{}
	for range 3 {
		other.Append(Entry{Time: t0, Release: "rel-2", Type: EventDeploy})
	}
	foreign := strings.Split(string(export(t, other.Entries())), "\n")[2]
	tests := []struct {
		name    string
		lines   []string
		raw     string // used instead of lines when set
		want    string
		wantN   int
		wantErr bool
	}{
		{name: "empty file", raw: "", want: "no entries"},
		{name: "only newline", raw: "\n", want: "line 1: not canonical JSON"},
		{name: "delete first", lines: good[1:], want: "line 1 (seq 2, stage_finished): first entry has seq 2, want 1"},
		{name: "delete middle", lines: []string{good[0], good[2], good[3]}, wantN: 1,
			want: "line 2 (seq 3, decision_accepted): seq 3 follows 1"},
		{name: "swap", lines: []string{good[0], good[2], good[1], good[3]}, wantN: 1,
			want: "line 2 (seq 3, decision_accepted): seq 3 follows 1"},
		{name: "duplicate", lines: []string{good[0], good[1], good[1], good[2]}, wantN: 2,
			want: "line 3 (seq 2, stage_finished): seq 2 follows 2"},
		{name: "insert foreign", lines: []string{good[0], good[1], foreign, good[2]}, wantN: 2,
			want: "line 3 (seq 3, deploy): prev does not match hash of seq 2"},
		{name: "blank line", raw: good[0] + "\n\n" + good[1] + "\n", wantN: 1, want: "line 2: not canonical JSON"},
		{name: "crlf", raw: good[0] + "\r\n" + good[1] + "\r\n", want: "line 1 (seq 1, release_started): not canonical JSON"},
		{name: "spaces", lines: []string{strings.Replace(good[0], `":`, `": `, 1)}, want: "line 1 (seq 1, release_started): not canonical JSON"},
		{name: "unknown field", lines: []string{strings.Replace(good[0], `{`, `{"x":1,`, 1)},
			want: "line 1: not canonical JSON: json: unknown field \"x\""},
		{name: "key case", lines: []string{strings.Replace(good[0], `"seq"`, `"Seq"`, 1)}, want: "line 1 (seq 1, release_started): not canonical JSON"},
		{name: "trailing data", lines: []string{good[0] + "}"}, want: "line 1 (seq 1, release_started): not canonical JSON"},
		{name: "two objects on one line", lines: []string{good[0] + good[1]}, want: "line 1: not canonical JSON: trailing data"},
		{name: "non-UTC time", lines: []string{strings.Replace(good[0], "15:09:26.535897932Z", "16:09:26.535897932+01:00", 1)},
			want: "line 1 (seq 1, release_started): not canonical JSON"},
		{name: "edited detail", lines: []string{good[0], strings.Replace(good[1], `"outcome":"ok"`, `"outcome":"failed"`, 1)}, wantN: 1,
			want: "line 2 (seq 2, stage_finished): hash mismatch: recorded " + e2.Hash + ", computed "},
		{name: "edited and resealed", lines: reseal(func(e *Entry) { e.Outcome = "failed" }), wantN: 2,
			want: "line 3 (seq 3, decision_accepted): prev does not match hash of seq 2"},
		{name: "first prev set", lines: []string{strings.Replace(good[0], `"prev":""`, `"prev":"00"`, 1)},
			want: "line 1 (seq 1, release_started): prev of the first entry must be empty"},
		{name: "truncated line", lines: []string{good[0], good[1][:len(good[1])-5]}, wantN: 1, want: "line 2: not canonical JSON: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.raw
			if tt.lines != nil {
				in = strings.Join(tt.lines, "\n") + "\n"
			}
			n, err := Verify(strings.NewReader(in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), tt.want), "error %q", err)
			assert.Equal(t, tt.wantN, n)
		})
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(export(f, sample(3).Entries()))
	f.Add(export(f, sample(1).Entries()))
	f.Add([]byte(""))
	f.Add([]byte("{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Verify(bytes.NewReader(data))
		if err != nil {
			return
		}
		// A verified file is exactly the export of what it decodes to.
		var es []Entry
		for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			var e Entry
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatalf("verified line does not decode: %v", err)
			}
			es = append(es, e)
		}
		if n != len(es) {
			t.Fatalf("n = %d, lines = %d", n, len(es))
		}
		want := export(t, es)
		if !bytes.Equal(want, data) && !bytes.Equal(want, append(bytes.Clone(data), '\n')) {
			t.Fatalf("verified input is not its own export:\n%q\n%q", data, want)
		}
		c := &Chain{}
		for _, e := range es {
			c.Append(e)
		}
		if c.Head() != es[len(es)-1].Hash {
			t.Fatalf("re-appending gives head %s, file has %s", c.Head(), es[len(es)-1].Hash)
		}
	})
}

func BenchmarkAppend(b *testing.B) {
	e := Entry{Release: "rel-1", Type: EventStageFinished, Stage: "deploy",
		Executor: "foureyes-deploy@host", Outcome: "ok", Detail: "deployed svc@0123456789abcdef"}
	b.ReportAllocs()
	for b.Loop() {
		c := &Chain{}
		for i := range 1000 {
			e.Time = t0.Add(time.Duration(i) * time.Millisecond)
			c.Append(e)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	out := export(b, sample(1000).Entries())
	b.SetBytes(int64(len(out)))
	for b.Loop() {
		if _, err := Verify(bytes.NewReader(out)); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleVerify() {
	c := &Chain{}
	c.Append(Entry{Time: t0, Release: "rel-1", Type: EventReleaseStarted, Actor: "alice"})
	c.Append(Entry{Time: t0.Add(time.Minute), Release: "rel-1", Type: EventReleaseEnded, Outcome: "deployed"})
	var buf bytes.Buffer
	_ = Export(&buf, c.Entries())
	tampered := bytes.Replace(buf.Bytes(), []byte("alice"), []byte("mallo"), 1)

	n, err := Verify(bytes.NewReader(buf.Bytes()))
	fmt.Println(n, err)
	n, err = Verify(bytes.NewReader(tampered))
	fmt.Println(n, err != nil && strings.HasPrefix(err.Error(), "line 1 (seq 1, release_started): hash mismatch"))
	// Output:
	// 2 <nil>
	// 0 true
}
