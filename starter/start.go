package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/tracing"
)

// fullSHA: a full SHA in any case, which start lowercases.
var fullSHA = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)

// startOutput is what start prints with --json.
type startOutput struct {
	ReleaseID string `json:"release_id"`
	RunID     string `json:"run_id"`
	URL       string `json:"url"`
	// TraceID is the release's OpenTelemetry trace (tracing on only).
	TraceID string             `json:"trace_id,omitempty"`
	Result  *api.ReleaseResult `json:"result,omitempty"`
}

func cmdStart(e *env, args []string) error {
	fs := newFlags("start")
	var req api.ReleaseRequest
	var authors stringList
	fs.StringVar(&req.Service, "service", "", "required: the service, a `NAME` of [a-z0-9-], at most 63")
	fs.StringVar(&req.Environment, "env", "", "required: the environment `ENV`, as named in the policy")
	fs.StringVar(&req.Commit, "commit", "", "required: the commit, a full or short `SHA|TAG|BRANCH` (resolved by the build role)")
	fs.Var(&authors, "author", "author `IDENTITY` (repeatable; the commits' authors count anyway)")
	fs.StringVar(&req.Requester, "requester", e.getenv("FOUREYES_IDENTITY"), "requester `IDENTITY`")
	fs.StringVar(&req.Title, "title", "", "title")
	fs.StringVar(&req.Link, "link", "", "link to the change")
	wait := fs.Bool("wait", false, "wait for the result")
	asJSON := fs.Bool("json", false, "print JSON")
	var em emergencyFlags
	em.define(e, fs)
	em.key.define(e, fs)
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	req.Authors = authors
	if err := em.key.asRequester(e, &req); err != nil {
		return err
	}
	if err := validateStart(&req); err != nil {
		return err
	}
	return startDeclared(e, req, em, *wait, *asJSON)
}

// startDeclared starts the release, first declared an emergency when
// --emergency says so.
func startDeclared(e *env, req api.ReleaseRequest, em emergencyFlags, wait, asJSON bool) error {
	id := releaseID(req)
	if em.reason != "" {
		env, err := em.declare(e, id, req)
		if err != nil {
			return err
		}
		req.Emergency = attest.Envelope(env)
	}
	if em.key.wanted() {
		proof, err := em.key.signRequest(e, id, req, em.reason)
		if err != nil {
			return err
		}
		req.RequestProof = proof
	}
	return startRelease(e, id, req, wait, asJSON)
}

// releaseID is release-<service>-<env>-<uuid>.
func releaseID(req api.ReleaseRequest) string {
	return fmt.Sprintf("release-%s-%s-%s", req.Service, req.Environment, uuid.NewString())
}

// validateStart checks a request locally, naming the flag at fault. The
// commit may be a full or short SHA, a tag or a branch: the build role
// resolves it in the service's repository (a service without one needs the
// full SHA and --author: the release says so). Authors are optional: the
// change's commits name theirs, and the declared ones count too.
func validateStart(req *api.ReleaseRequest) error {
	if fullSHA.MatchString(req.Commit) {
		req.Commit = strings.ToLower(req.Commit)
	}
	switch {
	case !api.ValidName(req.Service):
		return fail(exitUsage, "--service: must be set, %s (got %q)", api.NameRule, req.Service)
	case !api.ValidName(req.Environment):
		return fail(exitUsage, "--env: must be set, %s (got %q)", api.NameRule, req.Environment)
	case !api.ValidRevision(req.Commit):
		return fail(exitUsage, "--commit: must be a commit SHA (full or short), a tag or a branch (got %q)", req.Commit)
	case strings.TrimSpace(req.Requester) == "":
		return fail(exitUsage, "--requester: required (or set FOUREYES_IDENTITY)")
	}
	for _, a := range req.Authors {
		if strings.TrimSpace(a) == "" || strings.ContainsAny(a, " \t\n") {
			return fail(exitUsage, "--author: %q is not an identity", a)
		}
	}
	return nil
}

func startRelease(e *env, id string, req api.ReleaseRequest, wait, asJSON bool) error {
	c, err := dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	run, traceID, err := launch(c, id, req)
	if err != nil {
		return err
	}
	out := startOutput{ReleaseID: run.GetID(), RunID: run.GetRunID(), URL: uiLink(e, run.GetID()), TraceID: traceID}
	if !asJSON {
		fmt.Fprintf(e.stdout, "started %s\n  %s\n", out.ReleaseID, out.URL)
		if traceID != "" {
			fmt.Fprintf(e.stdout, "  trace %s\n", traceID)
		}
	}
	if !wait {
		return printIf(e, asJSON, out)
	}
	return waitStarted(e, run, out, asJSON)
}

// launch starts the Release workflow, by type name, with id
// release-<service>-<env>-<uuid>, what the UI shows (summary, details, memo)
// and the search attributes it is found by. With tracing on, its span
// "starter start" is the root of the release's trace (traceID: its id); the
// SDK's interceptor carries it to every role in Temporal headers.
func launch(c client.Client, id string, req api.ReleaseRequest) (run client.WorkflowRun, traceID string, err error) {
	ctx, cancel := interruptible(callTimeout)
	defer cancel()
	ctx, span := tracing.Tracer().Start(ctx, "starter start", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("foureyes.release", id), attribute.String("foureyes.service", req.Service),
			attribute.String("foureyes.environment", req.Environment)))
	defer span.End()
	if sc := span.SpanContext(); sc.IsValid() {
		traceID = sc.TraceID().String()
	}
	m := memo(req)
	if tp := tracing.Traceparent(span.SpanContext()); tp != "" {
		m[tracing.MemoKey] = tp // for the gateway, which joins decisions to this trace
	}
	opts := client.StartWorkflowOptions{ID: id, TaskQueue: api.QueueOrchestrator,
		StaticSummary: staticSummary(req), StaticDetails: staticDetails(req),
		Memo:                  m,
		TypedSearchAttributes: api.StartAttributes(req)}
	run, err = c.ExecuteWorkflow(ctx, opts, api.WorkflowRelease, req)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		return nil, "", fail(exitFailure, "starting release: %v", err)
	}
	return run, traceID, nil
}

// memo is what the UI shows of the request; a promotion names its release.
func memo(req api.ReleaseRequest) map[string]any {
	m := map[string]any{"service": req.Service, "environment": req.Environment, "title": req.Title, "link": req.Link}
	if req.Promotes != nil {
		m["promotes"] = req.Promotes.Release
	}
	if len(req.Emergency) > 0 {
		m["emergency"] = true
	}
	return m
}

// staticSummary is the release's one line in the UI's workflow list.
func staticSummary(req api.ReleaseRequest) string {
	return fmt.Sprintf("%s → %s @ %.7s by %s", req.Service, req.Environment, req.Commit, req.Requester)
}

// staticDetails is the release request as Temporal markdown.
func staticDetails(req api.ReleaseRequest) string {
	var b strings.Builder
	title := req.Title
	if title == "" {
		title = "Release"
	}
	fmt.Fprintf(&b, "**%s**\n\n", oneLine(title, 200))
	fmt.Fprintf(&b, "- Service: %s, environment: %s\n", req.Service, req.Environment)
	fmt.Fprintf(&b, "- Commit: `%s`\n", req.Commit)
	declared := strings.Join(req.Authors, ", ")
	if declared == "" {
		declared = "from git"
	} else {
		declared += " (and those of the commits)"
	}
	fmt.Fprintf(&b, "- Authors: %s; requested by %s\n", declared, req.Requester)
	if req.Promotes != nil {
		fmt.Fprintf(&b, "- Promotes: %s (same artifact, no rebuild)\n", req.Promotes.Release)
	}
	if len(req.Emergency) > 0 {
		b.WriteString("- **EMERGENCY** (break-glass; see the trail for who and why)\n")
	}
	if req.Link != "" {
		fmt.Fprintf(&b, "- Change: %s\n", oneLine(req.Link, 500))
	}
	return b.String()
}

// waitStarted waits for a release just started: exit 0 only if deployed.
func waitStarted(e *env, run client.WorkflowRun, out startOutput, asJSON bool) error {
	res, err := awaitResult(run)
	if err == nil {
		out.Result = &res
	}
	if perr := printIf(e, asJSON, out); perr != nil {
		return perr
	}
	if err != nil {
		return temporalError(out.ReleaseID, err)
	}
	return resultError(e, res, asJSON)
}

// printIf prints v as JSON when asJSON is set.
func printIf(e *env, asJSON bool, v any) error {
	if !asJSON {
		return nil
	}
	return printJSON(e.stdout, v)
}
