package slackui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/foureyes/foureyes/api"
)

// Message is the prompt in its current state: the facts of the release, the
// progress or outcome, a link to the release (releaseURL), and the buttons
// while the gate is open. others are the other releases of the artifact
// waiting at the same gate (at most MaxSiblings are offered). onPage: the
// gate takes only the approver's own signature, so its one button opens
// the clicker's approval page (the gateway answers with their link).
func Message(n api.Notification, releaseURL string, others []Waiting, onPage bool) []slack.MsgOption {
	blocks := []slack.Block{slack.NewHeaderBlock(plain(title(n)))}
	if n.Emergency != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(emergencyText(n)), nil, nil))
	}
	blocks = append(blocks, slack.NewSectionBlock(nil, facts(n), nil))
	if c := changeText(n); c != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(c), nil, nil))
	}
	blocks = append(blocks,
		slack.NewSectionBlock(mrkdwn(state(n)), nil, nil),
		slack.NewContextBlock("", mrkdwn(fmt.Sprintf("<%s|%s in Temporal>", releaseURL, esc(n.ReleaseID)))))
	switch {
	case Open(n) && onPage:
		blocks = append(blocks, signButton(n))
	case Open(n):
		blocks = append(blocks, buttons(n, others[:min(len(others), MaxSiblings)]))
	}
	return []slack.MsgOption{slack.MsgOptionText(title(n)+" ("+n.ReleaseID+")", false),
		slack.MsgOptionBlocks(blocks...)}
}

// emergencyText flags a break-glass release with its reason.
func emergencyText(n api.Notification) string {
	return fmt.Sprintf(":rotating_light: *EMERGENCY* (break-glass): %s\nTwo approvers at least; a follow-up review after the deploy.",
		esc(short(n.Emergency, 500)))
}

// title says what the message is about now.
func title(n api.Notification) string {
	what := fmt.Sprintf("%s → %s", n.Service, n.Environment)
	if n.Emergency != "" {
		what = "EMERGENCY " + what
	}
	gate := capital(n.Gate)
	switch {
	case n.Ended:
		return fmt.Sprintf("Release %s: %s", words(n.Outcome), what)
	case Open(n):
		return fmt.Sprintf("%s needed: %s", gate, what)
	}
	return fmt.Sprintf("%s %s: %s", gate, words(gateState(n)), what)
}

// facts are the section's fields (Slack allows ten).
func facts(n api.Notification) []*slack.TextBlockObject {
	commit := "`" + short(n.Commit, 7) + "`"
	if safeLink(n.Link) {
		commit = fmt.Sprintf("<%s|%s>", n.Link, short(n.Commit, 7))
	}
	return []*slack.TextBlockObject{
		field("Service", esc(n.Service)), field("Environment", esc(n.Environment)),
		field("Commit", commit), field("Authors", esc(strings.Join(n.Authors, ", "))),
		field("Requester", esc(n.Requester)), field("Artifact", "`sha256:"+short(n.ArtifactDigest, 12)+"`"),
		field("Policy", "`sha256:"+short(n.PolicyHash, 12)+"`"), field("Needed", esc(n.Needed)),
		field("Deadline", deadline(n.Deadline)), field("Approvals", progress(n)),
	}
}

// changeText lists the change's commits as git tells them (short SHA,
// subject, author) and the emails that map to nobody; "" without git.
func changeText(n api.Notification) string {
	if len(n.Commits) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*Change* (%s of %s, from git):", plural(n.CommitCount, "commit"), esc(n.CommitRef))
	for _, c := range n.Commits {
		fmt.Fprintf(&b, "\n`%s` %s — %s", esc(c.Short), esc(c.Subject), esc(c.Author))
		if c.Proof != "" {
			fmt.Fprintf(&b, " (%s)", esc(c.Proof))
		}
	}
	if more := n.CommitCount - len(n.Commits); more > 0 {
		fmt.Fprintf(&b, "\n… and %d more", more)
	}
	if len(n.Unmapped) > 0 {
		fmt.Fprintf(&b, "\n:warning: *Emails that map to nobody:* %s", esc(strings.Join(n.Unmapped, ", ")))
	}
	return b.String()
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// state is the line under the facts: who may still sign, or how it ended.
func state(n api.Notification) string {
	detail := ""
	if n.Detail != "" {
		detail = "\n" + esc(n.Detail)
	}
	switch {
	case n.Ended:
		return fmt.Sprintf("%s *Release %s*%s", icon(n.Outcome), words(n.Outcome), detail)
	case Open(n) && len(n.Awaiting) > 0:
		return "*Can still sign:* " + esc(strings.Join(n.Awaiting, ", ")) + detail
	case Open(n):
		return "*Nobody else can sign this gate.*" + detail
	}
	return fmt.Sprintf("%s *%s %s*%s", icon(gateState(n)), capital(n.Gate), words(gateState(n)), detail)
}

func progress(n api.Notification) string {
	signed := "nobody yet"
	if len(n.Signed) > 0 {
		signed = esc(strings.Join(n.Signed, ", "))
	}
	if n.Quorum == 0 {
		return signed
	}
	return fmt.Sprintf("%d of %d: %s", len(n.Signed), n.Quorum, signed)
}

// buttons: Approve (primary, confirmed) and Reject (danger), and, when
// other releases of the artifact wait at the same gate, "Approve for
// staging and prod" (confirmed).
func buttons(n api.Notification, others []Waiting) *slack.ActionBlock {
	value := ButtonValue(n)
	confirm := slack.NewConfirmationBlockObject(plain("Approve?"),
		mrkdwn(fmt.Sprintf("Approve the %s gate of %s → %s at `%s`? Your name goes into the audit trail.",
			esc(n.Gate), esc(n.Service), esc(n.Environment), short(n.Commit, 7))),
		plain("Approve"), plain("Cancel"))
	approve := slack.NewButtonBlockElement(api.SlackActionApprove, value, plain("Approve")).
		WithStyle(slack.StylePrimary).WithConfirm(confirm)
	reject := slack.NewButtonBlockElement(api.SlackActionReject, value, plain("Reject")).WithStyle(slack.StyleDanger)
	if len(others) == 0 {
		return slack.NewActionBlock(ActionsBlock, approve, reject)
	}
	return slack.NewActionBlock(ActionsBlock, approve, approveAll(n, others), reject)
}

// signButton asks the gateway for the clicker's approval page link.
func signButton(n api.Notification) *slack.ActionBlock {
	b := slack.NewButtonBlockElement(api.SlackActionSign, ButtonValue(n), plain("Review and sign with passkey")).
		WithStyle(slack.StylePrimary)
	return slack.NewActionBlock(ActionsBlock, b)
}

// approveAll approves the gate of n's release and of others, each judged
// by its own gate.
func approveAll(n api.Notification, others []Waiting) *slack.ButtonBlockElement {
	var envs []string
	for _, w := range others {
		if !slices.Contains(envs, w.Env) && w.Env != n.Environment {
			envs = append(envs, w.Env)
		}
	}
	envs = append(envs, n.Environment)
	label := "Approve for " + strings.Join(envs, " and ")
	confirm := slack.NewConfirmationBlockObject(plain(short(label, 90)+"?"),
		mrkdwn(fmt.Sprintf("Approve the %s gate of %d releases of %s at `%s` (artifact `sha256:%s`)? Each gate judges your approval on its own; your name goes into each audit trail.",
			esc(n.Gate), len(others)+1, esc(n.Service), short(n.Commit, 7), short(n.ArtifactDigest, 12))),
		plain("Approve all"), plain("Cancel"))
	return slack.NewButtonBlockElement(api.SlackActionApproveAll, ButtonValue(n, others...), plain(short(label, 70))).
		WithStyle(slack.StylePrimary).WithConfirm(confirm)
}

// ReminderText is the reminder in the prompt's thread.
func ReminderText(n api.Notification) string {
	return fmt.Sprintf("Reminder: the %s gate of %s → %s still needs %s (%s) by %s.",
		n.Gate, esc(n.Service), esc(n.Environment), esc(n.Needed), progress(n), deadline(n.Deadline))
}

// deadline renders in each reader's time zone, with UTC as the fallback.
func deadline(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format(time.RFC3339))
}

func icon(outcome string) string {
	switch outcome {
	case "approved", "deployed":
		return ":white_check_mark:"
	case "rejected", "failed", "rolled_back":
		return ":x:"
	}
	return ":double_vertical_bar:"
}

func field(name, value string) *slack.TextBlockObject {
	if value == "" {
		value = "-"
	}
	return mrkdwn("*" + name + "*\n" + value)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// slackEscapes are Slack's three escapes, built once: a Replacer built per
// call was 4 % of the approval role's CPU (docs/benchmarks.md, issue 26).
var slackEscapes = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// esc keeps text from forming links or mentions.
func esc(s string) string { return slackEscapes.Replace(s) }

func short(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// gateState of a closed gate; releases started before the field existed
// do not report it.
func gateState(n api.Notification) string {
	if n.GateState == "" || n.GateState == api.GateOpen {
		return "ended"
	}
	return n.GateState
}

// safeLink: only a plain http(s) URL becomes a link; the release request's
// link is user input.
func safeLink(u string) bool {
	return (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) &&
		!strings.ContainsAny(u, "<>| \t\n")
}

func words(s string) string { return strings.ReplaceAll(s, "_", " ") }

func capital(s string) string {
	if s == "" {
		return "Release"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
