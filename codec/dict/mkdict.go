//go:build ignore

// mkdict built json-v1, the preset dictionary of content code 6
// (codec/compress.go), once: `go run ./codec/dict/mkdict.go > codec/dict/json-v1`
// from the repository's root. It is frozen: the codec opens code-6 data
// with these exact bytes forever (TestDictionaryIsFrozen pins its SHA-256),
// so running this again is only for a new dictionary under a new code.
//
// How: every json/plain payload of the recorded -v12 histories, decoded;
// values that are random (hex digests, UUIDs, timestamps, signatures and
// other long base64) cut out, since they never repeat across releases;
// a DSSE envelope's base64 payload kept as the base64 groups whose three
// statement bytes are all non-random, aligned as in the envelope (the
// in-toto prefix, field names and predicate types). What is left splits
// into fragments; the fragments found in most payloads, longest first,
// fill at most maxSize bytes, least common first so that the most common
// sit at the end, nearest the data (flate's matches are cheaper near).
// First of all, for facts the recordings hold few of: the base64 of every
// predicate type of attest/ where a statement names it (after the random
// subject digest), at each of base64's three alignments.
package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/payloads"
)

const (
	maxSize     = 16 << 10
	minFragment = 4
	cut         = "\x00"
)

var (
	random = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}` +
		`|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z|[0-9a-f]{7,}|[0-9]{6,}|[A-Za-z0-9+/]{40,}={0,2}`)
	dssePayload = regexp.MustCompile(`"payload":"([A-Za-z0-9+/=]+)"`)
)

func main() {
	glob := "workflows/testdata/histories/*-v12.json"
	if len(os.Args) > 1 {
		glob = os.Args[1] // to measure the method on histories it was not built from
	}
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		fail(fmt.Errorf("no -v12 histories (run from the repository's root): %v", err))
	}
	count := map[string]int{}
	for _, f := range files {
		for _, data := range jsonPayloads(f) {
			for _, frag := range fragments(data) {
				count[frag]++
			}
		}
	}
	seeds := predicateTypeSeeds()
	os.Stdout.Write(append([]byte(seeds), assemble(choose(count, maxSize-len(seeds)))...))
}

// jsonPayloads are the data of the json/plain payloads of history file f.
func jsonPayloads(f string) [][]byte {
	b, err := os.ReadFile(f)
	if err != nil {
		fail(err)
	}
	var h historypb.History
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, &h); err != nil {
		fail(fmt.Errorf("%s: %w", f, err))
	}
	var out [][]byte
	payloads.EachEncoded(h.ProtoReflect(), func(p *commonpb.Payload) {
		if string(p.Metadata["encoding"]) == "json/plain" && len(p.Data) >= 64 {
			out = append(out, p.Data)
		}
	})
	return out
}

// fragments are the distinct non-random pieces of one payload.
func fragments(data []byte) []string {
	var envelopes []string
	text := dssePayload.ReplaceAllStringFunc(string(data), func(m string) string {
		envelopes = append(envelopes, maskedBase64(dssePayload.FindStringSubmatch(m)[1]))
		return `"payload":"` + cut + `"`
	})
	text = random.ReplaceAllString(text, cut)
	for _, e := range envelopes {
		text = strings.Replace(text, `"payload":"`+cut, `"payload":"`+e, 1)
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range strings.Split(text, cut) {
		if len(f) >= minFragment && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// maskedBase64 is b64 with every 4-character group that codes a random
// statement byte replaced by a cut: the rest stays aligned as it was.
func maskedBase64(b64 string) string {
	stmt, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return cut
	}
	isRandom := make([]bool, len(stmt))
	for _, loc := range random.FindAllIndex(stmt, -1) {
		for i := loc[0]; i < loc[1]; i++ {
			isRandom[i] = true
		}
	}
	var out strings.Builder
	for g := 0; g*4 < len(b64); g++ {
		if groupIsRandom(isRandom, g) {
			out.WriteString(cut)
		} else {
			out.WriteString(b64[g*4 : g*4+4])
		}
	}
	return out.String()
}

func groupIsRandom(isRandom []bool, g int) bool {
	for i := g * 3; i < g*3+3 && i < len(isRandom); i++ {
		if isRandom[i] {
			return true
		}
	}
	return false
}

type fragment struct {
	text  string
	count int
}

// predicateTypeSeeds are the base64 groups that code only a statement's
// predicate type and the bytes around it, at each alignment.
func predicateTypeSeeds() string {
	var b strings.Builder
	for _, pt := range []string{attest.PredicateProvenance, attest.PredicateReview, attest.PredicateDecision,
		attest.PredicateCancel, attest.PredicateDeploy, attest.PredicateSeal, attest.PredicateDeployed, attest.PredicateEmergency} {
		known := `"}}],"predicateType":"` + pt + `","predicate":{"`
		for skip := range 3 { // known's first byte at offset 0, 2 or 1 of a group
			k := known[skip:]
			b.WriteString(base64.StdEncoding.EncodeToString([]byte(k[:len(k)/3*3])))
		}
	}
	return b.String()
}

// choose takes the fragments of most payloads, longest first, that are
// not inside one already taken, up to budget bytes.
func choose(count map[string]int, budget int) []fragment {
	all := make([]fragment, 0, len(count))
	for t, n := range count {
		if n > 1 {
			all = append(all, fragment{t, n})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].count != all[j].count {
			return all[i].count > all[j].count
		}
		if len(all[i].text) != len(all[j].text) {
			return len(all[i].text) > len(all[j].text)
		}
		return all[i].text < all[j].text
	})
	var taken []fragment
	size := 0
	for _, f := range all {
		if size+len(f.text) > budget || insideAny(taken, f.text) {
			continue
		}
		taken = append(taken, f)
		size += len(f.text)
	}
	return taken
}

func insideAny(taken []fragment, s string) bool {
	for _, t := range taken {
		if strings.Contains(t.text, s) {
			return true
		}
	}
	return false
}

// assemble puts the least common first, the most common last.
func assemble(taken []fragment) []byte {
	var b bytes.Buffer
	for i := len(taken) - 1; i >= 0; i-- {
		b.WriteString(taken[i].text)
	}
	return b.Bytes()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "mkdict:", err)
	os.Exit(1)
}
