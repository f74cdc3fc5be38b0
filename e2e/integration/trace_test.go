package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/tracesvg"
	"github.com/foureyes/foureyes/tracing"
)

// TestOneTracePerRelease: the real starter starts a release, bob, carol and
// dave decide through the gateway over HTTP, and it deploys. Every span any
// process exported about it (the stack writes them to data/traces/, one
// JSON-lines file per process) is in the one trace `starter start` began,
// from the starter's root span to the deploy role's Deploy and Verify (its
// receipts), across the starter, the gateway and all five roles: the trace
// context crossed foureyes' own Temporal server in headers, through its
// authorizer. `starter status` and the roles' log lines name the trace.
//
// FOUREYES_TRACE_SVG=docs/images/trace.svg writes the release's waterfall
// (tracesvg) there.
func TestOneTracePerRelease(t *testing.T) {
	s := startStack(t, nil)
	out, code := s.starter("", "start", "--service", "payments", "--env", "prod", "--commit", s.git.A,
		"--author", "alice", "--requester", "rita", "--title", "traced", "--json")
	require.Equal(t, 0, code, out)
	var started struct {
		ReleaseID string `json:"release_id"`
		TraceID   string `json:"trace_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &started), out)
	id, traceID := started.ReleaseID, started.TraceID
	require.Len(t, traceID, 32, "the starter traces (%s)", out)

	for _, d := range []struct{ gate, who string }{{"review", "bob"}, {"approval", "carol"}, {"approval", "dave"}} {
		s.waitOpenGate(id, d.gate)
		code, a := s.decide(id, d.gate, api.VerdictApprove, d.who)
		require.Equal(t, http.StatusOK, code, a.Reason)
	}
	res := s.resultOf(id)
	require.Equal(t, api.StatusDeployed, res.Status, res.Reason)

	out, code = s.starter("", "status", id)
	require.Equal(t, 0, code, out)
	assert.Regexp(t, `(?m)^trace\s+`+traceID+`$`, out, "starter status names the release's trace")

	s.Local.StopRoles() // each flushes its spans on the way out
	spans, err := tracing.ReadSpans(s.Local.TracesDir())
	require.NoError(t, err)
	var mine []tracing.Span
	seen := map[string]bool{} // service + " " + span name
	for _, sp := range spans {
		if sp.Release() != id {
			continue
		}
		mine = append(mine, sp)
		seen[sp.Service+" "+sp.Name] = true
		assert.Equal(t, traceID, sp.TraceID, "%s's span %q of the release is in another trace", sp.Service, sp.Name)
	}
	for _, want := range []string{
		"foureyes-starter starter start",
		"foureyes-starter StartWorkflow:Release",
		"foureyes-orchestrator RunWorkflow:Release",
		"foureyes-orchestrator StartActivity:Build",
		"foureyes-build RunActivity:Build",
		"foureyes-review RunActivity:Review",
		"foureyes-approval RunActivity:Notify",
		"foureyes-approval gateway decide",
		"foureyes-approval UpdateWorkflow:decide",
		"foureyes-orchestrator HandleUpdate:decide",
		"foureyes-deploy RunActivity:Deploy",
		"foureyes-deploy RunActivity:Verify",
		"foureyes-orchestrator RunActivity:Seal",
	} {
		assert.True(t, seen[want], "no span %q about the release (spans: %v)", want, keys(seen))
	}
	// One root, `starter start`. A parent missing from the files is
	// logged, not failed: a workflow evicted from the orchestrator's cache
	// before it ends (a task timeout on a loaded machine) never ends, so
	// never exports, its first RunWorkflow span, whose children were.
	ids := map[string]bool{}
	for _, sp := range spans {
		if sp.TraceID == traceID {
			ids[sp.SpanID] = true
		}
	}
	roots := 0
	for _, sp := range spans {
		if sp.TraceID != traceID {
			continue
		}
		if sp.ParentID == "" {
			roots++
			assert.Equal(t, "starter start", sp.Name, "the only root")
		} else if !ids[sp.ParentID] {
			t.Logf("%s's span %q: its parent %s was not exported", sp.Service, sp.Name, sp.ParentID)
		}
	}
	assert.Equal(t, 1, roots)

	// The deploy role's and the gateway's own log lines name the trace.
	deployLog := readFile(t, filepath.Join(s.Local.LogDir(), "deploy.log"))
	assert.Regexp(t, `msg="activity finished"[^\n]*ActivityType=Deploy[^\n]*TraceID=`+traceID, deployLog)
	approvalLog := readFile(t, filepath.Join(s.Local.LogDir(), "approval.log"))
	assert.Regexp(t, `msg=decision [^\n]*WorkflowID=`+id+`[^\n]*identity=carol[^\n]*TraceID=`+traceID, approvalLog)

	if path := os.Getenv("FOUREYES_TRACE_SVG"); path != "" && !t.Failed() {
		f, err := os.Create(path)
		require.NoError(t, err)
		defer f.Close()
		require.NoError(t, tracesvg.Render(f, tracesvg.OfTrace(spans, traceID), "release "+id))
	}
}

func readFile(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func keys(m map[string]bool) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return strings.Join(ks, "; ")
}
