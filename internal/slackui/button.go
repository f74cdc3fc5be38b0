package slackui

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/foureyes/foureyes/api"
)

// ActionsBlock is the block id of the prompt's buttons.
const ActionsBlock = "foureyes_decide"

// MaxSiblings bounds the releases one button approves (its value must stay
// within Slack's 2000 characters).
const MaxSiblings = 5

// Waiting is an open prompt: a release waiting at a gate, in an environment.
type Waiting struct{ Release, Env string }

// ButtonValue names the release, gate and prompt (the gate's deadline tells
// one opening of a gate from another), and for "approve all" the other
// releases. Its JSON is in recorded messages: keep it byte-identical.
func ButtonValue(n api.Notification, others ...Waiting) string {
	sum := sha256.Sum256([]byte(n.ReleaseID + "|" + n.Gate + "|" + n.Deadline.UTC().String()))
	v := api.SlackButton{ReleaseID: n.ReleaseID, Gate: n.Gate, Prompt: hex.EncodeToString(sum[:6])}
	for _, w := range others {
		v.Releases = append(v.Releases, w.Release)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Open reports whether the gate still takes decisions (its buttons stay).
func Open(n api.Notification) bool {
	if n.Ended || n.Kind == api.NotifyOutcome {
		return false
	}
	return n.GateState == api.GateOpen || n.GateState == ""
}

// Rank orders the states of one prompt: more signers, then the gate closed,
// then the release ended. A prompt never goes back to a lower rank.
func Rank(n api.Notification) int {
	r := len(n.Signed)
	if !Open(n) {
		r += 1000
	}
	if n.Ended {
		r += 1000
	}
	return r
}
