package workflows

import (
	"slices"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/policy"
)

// Metrics the workflow emits through workflow.GetMetricsHandler (silent
// during replay), exposed by the orchestrator. With Prometheus naming they
// end in _total (counters) and _seconds (timers, as histograms).
const (
	MetricDecisions     = "foureyes_decisions"      // gate, outcome, reason, channel, environment, emergency
	MetricGateWait      = "foureyes_gate_wait"      // gate, outcome, environment
	MetricStageDuration = "foureyes_stage_duration" // stage, outcome, environment
	MetricReleases      = "foureyes_releases"       // outcome, service, environment, emergency
)

// logger is the workflow logger (WorkflowID, RunID…) with the stage.
func (r *release) logger(ctx workflow.Context) log.Logger {
	return log.With(workflow.GetLogger(ctx), "stage", r.progress.stage)
}

// countDecision counts one judged decision by outcome and reason code.
func (r *release) countDecision(ctx workflow.Context, d api.Decision, o api.DecisionOutcome) {
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{
		"gate": oneOf(d.Gate, policy.Gates), "outcome": o.Outcome, "reason": ReasonLabel(o),
		"channel": oneOf(d.Channel, channels), "environment": r.req.Environment, "emergency": r.urgency.tag(),
	}).Counter(MetricDecisions).Inc(1)
	r.logger(ctx).Info("decision judged", "identity", d.Identity, "gate", d.Gate, "verdict", d.Verdict,
		"channel", d.Channel, "outcome", o.Outcome, "rule", o.Rule, "reason", o.Reason)
}

// observeGate records how long a gate waited and how it ended.
func (r *release) observeGate(ctx workflow.Context, g *gate) {
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{
		"gate": g.name, "outcome": g.state, "environment": r.req.Environment,
	}).Timer(MetricGateWait).Record(workflow.Now(ctx).Sub(g.opened))
}

// enterStage ends the current stage (its duration, outcome "passed") when
// the release moves to another.
func (r *release) enterStage(ctx workflow.Context, stage string) {
	if stage == r.progress.stage {
		return
	}
	if r.progress.stage != "" {
		r.observeStage(ctx, "passed")
	}
	r.progress.since = workflow.Now(ctx)
}

func (r *release) observeStage(ctx workflow.Context, outcome string) {
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{
		"stage": r.progress.stage, "outcome": outcome, "environment": r.req.Environment,
	}).Timer(MetricStageDuration).Record(workflow.Now(ctx).Sub(r.progress.since))
}

// countRelease records the end of the release: the last stage and the outcome.
func (r *release) countRelease(ctx workflow.Context, status, reason string) {
	r.observeStage(ctx, status)
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{
		"outcome": status, "service": r.req.Service, "environment": r.req.Environment, "emergency": r.urgency.tag(),
	}).Counter(MetricReleases).Inc(1)
	r.logger(ctx).Info("release ended", "outcome", status, "reason", reason)
}

// ReasonLabel is the metric label of a decision's reason: "none" when
// accepted, else the code of the rule that refused it ("other" if none
// did, which ReleaseSuite.TearDownTest catches). Never the message:
// rewording one must not move its counts.
func ReasonLabel(o api.DecisionOutcome) string {
	switch {
	case o.Outcome == api.OutcomeAccepted:
		return "none"
	case o.Rule == "":
		return "other"
	}
	return string(o.Rule)
}

var channels = []string{api.ChannelAPI, api.ChannelSlack, api.ChannelCLI, api.ChannelPage}

// oneOf keeps a label value bounded: signals may carry anything.
func oneOf(s string, known []string) string {
	if slices.Contains(known, s) {
		return s
	}
	return "other"
}
