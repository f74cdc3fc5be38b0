package attest_test

import (
	"strings"
	"testing"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/testkeys"
)

// FuzzVerify feeds arbitrary bytes as an envelope: Verify reads what any
// namespace client can send, so it must never panic, and it may accept
// only what the approval key signed.
func FuzzVerify(f *testing.F) {
	good, err := testkeys.Signer(attest.RoleApproval).Attest(attest.ArtifactSubject("ab"+strings.Repeat("cd", 31)), attest.PredicateDecision,
		attest.Decision{RequestID: "bob/1", Identity: "bob"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(good))
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AA=="}]}`))
	f.Add([]byte("null"))
	ring := testkeys.Ring()
	f.Fuzz(func(t *testing.T, env []byte) {
		fact, err := ring.Verify(env, attest.RoleApproval, attest.PredicateDecision)
		if err != nil {
			return
		}
		// Accepted: the signed payload must be the approval key's own statement.
		if fact.Role != attest.RoleApproval || fact.PredicateType != attest.PredicateDecision || len(fact.Payload) == 0 {
			t.Fatalf("accepted a fact that is not the approval role's decision: %+v", fact)
		}
	})
}
