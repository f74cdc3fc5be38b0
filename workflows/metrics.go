package workflows

import (
	"slices"
	"time"

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

// meter is what a release's metrics are labelled with; it counts and
// times through workflow.GetMetricsHandler (silent during replay).
type meter struct {
	service, environment string
	emergency            string // "true" for a verified break-glass release
	stage                string // the current stage, for the log
}

// meter is the release's meter as of now.
func (r *release) meter() meter {
	return meter{service: r.req.Service, environment: r.req.Environment,
		emergency: r.emergency.tag(), stage: r.progress.stage}
}

// logger is the workflow logger (WorkflowID, RunID…) with the stage.
func (m meter) logger(ctx workflow.Context) log.Logger {
	return log.With(workflow.GetLogger(ctx), "stage", m.stage)
}

// decision counts one judged decision by outcome and reason code.
func (m meter) decision(ctx workflow.Context, d api.Decision, o api.DecisionOutcome) {
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{
		"gate": oneOf(d.Gate, policy.Gates), "outcome": o.Outcome, "reason": ReasonLabel(o),
		"channel": oneOf(d.Channel, channels), "environment": m.environment, "emergency": m.emergency,
	}).Counter(MetricDecisions).Inc(1)
	m.logger(ctx).Info("decision judged", "identity", d.Identity, "gate", d.Gate, "verdict", d.Verdict,
		"channel", d.Channel, "outcome", o.Outcome, "rule", o.Rule, "reason", o.Reason)
}

// gateWait records how long a gate waited and how it ended.
func (m meter) gateWait(ctx workflow.Context, g *gate) {
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{
		"gate": g.name, "outcome": g.state, "environment": m.environment,
	}).Timer(MetricGateWait).Record(workflow.Now(ctx).Sub(g.opened))
}

// stageTime records how long the current stage, begun at since, took.
func (m meter) stageTime(ctx workflow.Context, outcome string, since time.Time) {
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{
		"stage": m.stage, "outcome": outcome, "environment": m.environment,
	}).Timer(MetricStageDuration).Record(workflow.Now(ctx).Sub(since))
}

// release records the end of the release: the last stage and the outcome.
func (m meter) release(ctx workflow.Context, since time.Time, status, reason string) {
	m.stageTime(ctx, status, since)
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{
		"outcome": status, "service": m.service, "environment": m.environment, "emergency": m.emergency,
	}).Counter(MetricReleases).Inc(1)
	m.logger(ctx).Info("release ended", "outcome", status, "reason", reason)
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
