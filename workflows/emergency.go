package workflows

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/judge"
	"github.com/foureyes/foureyes/policy"
)

// emergency is a release's verified break-glass declaration, with the
// environment's break-glass settings it is run under.
type emergency struct {
	declared *attest.Emergency // nil: no emergency
	rule     policy.Emergency
}

// on reports whether the release is a verified emergency.
func (e *emergency) on() bool { return e.declared != nil }

// declarer is who declared the emergency ("" when none).
func (e *emergency) declarer() string {
	if !e.on() {
		return ""
	}
	return e.declared.Identity
}

// reason is the declaration's reason ("" when none).
func (e *emergency) reason() string {
	if !e.on() {
		return ""
	}
	return e.declared.Reason
}

// tag is the metrics' emergency label.
func (e *emergency) tag() string { return strconv.FormatBool(e.on()) }

// view is the emergency as the status query shows it (nil when none).
func (e *emergency) view() *api.EmergencyView {
	if !e.on() {
		return nil
	}
	return &api.EmergencyView{DeclaredBy: e.declared.Identity, Reason: e.declared.Reason}
}

// gateRule is a gate's rule as an emergency applies it: the approval gate
// never below two approvers, deadlines only shortened.
func (e *emergency) gateRule(name string, rule policy.GateRule) policy.GateRule {
	if !e.on() {
		return rule
	}
	if name == policy.GateApproval {
		rule.Quorum = policy.EmergencyQuorum(rule)
	}
	rule.Deadline = policy.Duration(policy.EmergencyDeadline(rule, e.rule))
	return rule
}

// checkEmergency verifies the request's break-glass declaration, if any:
// the approval role vouches that a release manager declared an emergency
// for this service and environment, with a reason, where the policy allows
// it, and the judge checks who declared it against the request's signer.
func (r *release) checkEmergency(ctx workflow.Context) string {
	env := r.req.Emergency
	if len(env) == 0 {
		return ""
	}
	e, err := r.pin.judge().Emergency(view{r}.judged(), env)
	if err == nil {
		_, err = r.pin.judge().Declarer(view{r}.judged(), env, r.req.Requester)
	}
	if err != nil {
		return "emergency declaration refused (fail closed): " + err.Error()
	}
	r.emergency.declared = &e
	r.emergency.rule, _ = r.pin.policy.EmergencyRule(r.req.Environment)
	r.record(ctx, audit.Entry{Type: audit.EventEmergency, Actor: e.Identity, Channel: e.Channel, Outcome: "declared",
		Envelope: json.RawMessage(env), Detail: fmt.Sprintf("EMERGENCY declared by %s: %s (two approvers at least; follow-up review after the deploy)",
			e.Identity, e.Reason)})
	r.rt.notify(ctx, view{r}.emergencyNotice())
	return ""
}

// unflagEmergency sets ReleaseEmergency back to false after the request's
// declaration was refused: the release is no emergency, and an operator
// searching for break-glass releases must not find it as one.
func unflagEmergency(ctx workflow.Context) {
	if on, _ := workflow.GetTypedSearchAttributes(ctx).GetBool(api.AttrEmergency); !on {
		return
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, api.AttrEmergency.ValueSet(false)); err != nil {
		workflow.GetLogger(ctx).Warn("ReleaseEmergency not reset", "error", err)
	}
}

// emergencyNotice announces the emergency in the policy's channel.
func (v view) emergencyNotice() api.Notification {
	r := v.r
	n := v.notification(api.NotifyOutcome, nil, fmt.Sprintf("EMERGENCY release declared by %s: %s", r.emergency.declarer(), r.emergency.reason()))
	n.SlackChannel, n.Emergency = r.emergency.rule.SlackChannel, r.emergency.reason()
	return n
}

// followUp opens, after an emergency's deploy, a review gate that stays
// open until one eligible reviewer (not its author, requester, declarer,
// nor who signed an earlier gate) signs it off; the release ends when they do.
func (r *release) followUp(ctx workflow.Context) ending {
	rule, _ := r.pin.policy.Rule(r.req.Environment, policy.GateReview)
	rule.Quorum = judge.FollowUpQuorum
	r.setStage(ctx, api.StageFollowUp, api.StatusAwaitingFollowUp)
	g := &gate{name: api.GateFollowUp, rule: rule, opened: workflow.Now(ctx).UTC(), state: api.GateOpen}
	r.gates.add(g)
	r.record(ctx, audit.Entry{Type: audit.EventGateOpened, Stage: api.StageFollowUp, Detail: fmt.Sprintf(
		"emergency follow-up: gate %s needs 1 of %s after the deploy; it stays open until signed off", g.name, strings.Join(rule.Groups, ", "))})
	r.prompt(ctx, g)
	err := workflow.Await(ctx, func() bool { return !g.open() || r.cancelled() })
	r.gates.close(g)
	r.rt.notify(ctx, view{r}.notification(api.NotifyOutcome, g, "follow-up "+g.state))
	return followUpEnding(g, err, r.cancel)
}

// followUpEnding is how an emergency ends with its follow-up gate: it was
// deployed whatever the follow-up found.
func followUpEnding(g *gate, err error, cancel *api.CancelRequest) ending {
	const deployed = "deployed in an emergency; "
	switch {
	case err != nil:
		return endWith(api.StatusDeployed, deployed+"the follow-up review was not signed off: "+rootMessage(err))
	case len(g.signed) == 0:
		return endWith(api.StatusDeployed, deployed+"the follow-up review was closed unsigned by "+cancelReason(cancel))
	}
	last := g.signed[len(g.signed)-1]
	if last.Verdict == api.VerdictReject {
		return endWith(api.StatusDeployed, fmt.Sprintf(deployed+"the follow-up review by %s found: %s", last.Identity, last.Comment))
	}
	return endWith(api.StatusDeployed, fmt.Sprintf(deployed+"follow-up review signed off by %s: %s", last.Identity, last.Comment))
}
