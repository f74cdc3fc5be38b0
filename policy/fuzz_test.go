package policy

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// minimalYAML is a small valid policy in flow style, easy to mutate.
const minimalYAML = `{version: 1, service_identities: [svc],
humans: [{id: a, email: a@x, groups: [g], slack: UA1, token_sha256: 9c220f200955d76c0a38d308225e0ef10c5f971acaf2f8d1d8f732affa5bd1dc}],
bots: [{id: b, token_sha256: df27f9beb68b7766af3ab2cd7eeefe0c759ca4d085db8b2235811ad36f27cd1c, gates: [review], groups: [g]}],
release_managers: [g],
environments: {e: {gates: {review: {groups: [g], quorum: 2, bots_count: true, deadline: 1h},
approval: {identities: [a], quorum: 1, deadline: 90m, freeze: [{start: 2025-01-01, end: 2025-01-02, reason: r}]}}}}}
`

func FuzzParse(f *testing.F) {
	f.Add([]byte(testYAML))
	if demo, err := os.ReadFile("../deployments/policy.yaml"); err == nil {
		f.Add(demo)
	}
	if p, err := Parse("seed", []byte(testYAML)); err == nil {
		if data, err := json.Marshal(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(minimalYAML))
	f.Add([]byte(strings.Replace(minimalYAML, "start: 2025-01-01", "start: 0001-01-01T00:30:00+01:00", 1)))
	f.Add([]byte("version: 1\n"))
	f.Add([]byte("version: [1\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		exercise(p)
		roundTrip(t, p)
	})
}

// exercise runs the rule engine on every gate; it must not panic.
func exercise(p *Policy) {
	for env := range p.Environments {
		for _, gate := range Gates {
			c := Check{Environment: env, Gate: gate, Now: time.Unix(1766620800, 0)}
			p.Explain(c)
			p.Awaiting(c)
		}
	}
}

// roundTrip: the policy survives JSON unchanged and re-validates from it.
func roundTrip(t *testing.T, p *Policy) {
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var q Policy
	if err := json.Unmarshal(data, &q); err != nil {
		t.Fatalf("unmarshal: %v\n%s", err, data)
	}
	r, err := Parse("roundtrip.json", data)
	if err != nil {
		t.Fatalf("re-validate: %v\n%s", err, data)
	}
	if !reflect.DeepEqual(p, &q) || !reflect.DeepEqual(p, r) {
		t.Fatalf("round trip changed the policy:\n%#v\n%#v\n%#v", p, &q, r)
	}
}

// Valid policies written in unusual ways all survive the JSON round trip.
func TestRoundTripVariants(t *testing.T) {
	variants := map[string][2]string{
		"unicode reason":    {"reason: holiday freeze", `reason: "Weihnachtsruhe 🎄 <ops> & \u2713"`},
		"offset times":      {"end: 2025-12-27T00:00:00Z", "end: 2025-12-27T00:00:00.123456789+05:30"},
		"date only":         {"end: 2025-12-27T00:00:00Z", "end: 2025-12-27"},
		"fractional hours":  {"deadline: 24h\n      approval", "deadline: 1.5h\n      approval"},
		"yes is true":       {"bots_count: true", "bots_count: yes"},
		"empty lists":       {"    groups: [qa]\n", "    groups: []\n"},
		"flow rule":         {"      review:\n        groups: [reviewers]\n        quorum: 1\n        bots_count: true\n        deadline: 24h\n", "      review: {groups: [reviewers], identities: [], quorum: 1, bots_count: true, deadline: 24h, freeze: []}\n"},
		"max duration":      {"deadline: 24h\n      approval", "deadline: 2562047h47m16.854775807s\n      approval"},
		"quoted channel":    {`slack_channel: "#releases-prod"`, `slack_channel: 'C0123 #prod'`},
		"no token no slack": {"    slack: U0ALICE01\n", ""},
	}
	for _, name := range sortedKeys(variants) {
		t.Run(name, func(t *testing.T) {
			v := variants[name]
			p, err := Parse("policy.yaml", []byte(mutate(t, v[0], v[1])))
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, p)
		})
	}
}
