package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
)

// refusalCap bounds what one sender's refused decisions add to a release:
// the first refusalCap are recorded, then one refusals_capped entry; later
// ones are rejected by the update validator, so they never reach history.
const refusalCap = 20

// unverifiedSender is the sender of decisions whose signature did not verify.
const unverifiedSender = "(unverified)"

// refusals are the release's refused requests: the last one (the status
// and details show it), how many each sender had, and how many decision
// signals arrived (a signal carries no signature: each is refused).
type refusals struct {
	last     *api.Refusal
	bySender map[string]int // looked up, never iterated
	signals  int            // decision signals received, to name those without a request id
}

// count counts one refusal of sender and reports whether it may still be
// recorded.
func (f *refusals) count(sender string) bool {
	f.bySender[sender]++
	return f.bySender[sender] <= refusalCap
}

// justCapped reports whether sender's refusals just reached the cap: the
// one time the release records that later ones go unrecorded.
func (f *refusals) justCapped(sender string) bool { return f.bySender[sender] == refusalCap }

// admit is the Update validators' answer for sender: nil while its
// refusals may still be recorded.
func (f *refusals) admit(sender string) error {
	if f.bySender[sender] < refusalCap {
		return nil
	}
	return temporal.NewApplicationError(fmt.Sprintf(
		"refused and not recorded: %s already has %d refused requests recorded on this release", sender, refusalCap),
		api.ErrTypeRefusalsCapped)
}

// nameSignal counts a decision signal and names it when it has no request id.
func (f *refusals) nameSignal(d api.Decision) api.Decision {
	f.signals++
	if d.RequestID == "" {
		d.RequestID = fmt.Sprintf("unnamed-%d", f.signals)
	}
	return d
}

// line is the details' line of the last refusal.
func (f *refusals) line() string {
	l := f.last
	if l == nil {
		return "- Last refused: none\n"
	}
	return fmt.Sprintf("- Last refused: %s at %s via %s (%s): %s\n", l.Identity, l.Gate, l.Channel,
		l.At.Format(shortTime), l.Reason)
}
