package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/policy"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

func TestStartValidation(t *testing.T) {
	base := []string{"start", "--service", "api", "--env", "prod", "--commit", sha, "--author", "alice", "--requester", "rita"}
	with := func(flag, value string) []string {
		out := append([]string{}, base...)
		for i := range out {
			if out[i] == flag {
				out[i+1] = value
			}
		}
		return out
	}
	tests := []struct {
		args []string
		want string
	}{
		{with("--service", "API"), "--service: must be set, lowercase letters, digits and '-'"},
		{with("--service", ""), "--service"},
		{with("--env", "prod env"), "--env:"},
		{with("--commit", "main..v2"), "--commit: must be a commit SHA (full or short), a tag or a branch"},
		{with("--commit", "-main"), "--commit"},
		{with("--commit", "HEAD@{1}"), "--commit"},
		{with("--commit", ""), "--commit"},
		{with("--author", " "), "--author:"},
		{with("--requester", ""), "--requester: required"},
		{base[:9], "--requester: required"}, // no requester flag, no FOUREYES_IDENTITY
		{append(base, "extra"), `unexpected argument "extra"`},
	}
	t.Setenv("FOUREYES_IDENTITY", "")
	for _, tc := range tests {
		code, _, errs := cli(t, nil, tc.args...)
		assert.Equal(t, 2, code, "%v", tc.args)
		assert.Contains(t, errs, "starter: start: "+tc.want, "%v", tc.args)
	}
}

func TestStart(t *testing.T) {
	t.Setenv("FOUREYES_IDENTITY", "rita")
	t.Setenv("TEMPORAL_NAMESPACE", "ns1")
	t.Setenv("FOUREYES_UI_URL", "http://ui.example/")
	fake := &fakeTemporal{}
	code, out, errs := cli(t, fake, "start", "--service", "api", "--env", "prod", "--commit", strings.ToUpper(sha),
		"--author", "alice", "--author", "bob", "--title", "Fix", "--link", "https://git/pr/1")
	require.Equal(t, 0, code, errs)
	require.Len(t, fake.started, 1)
	o := fake.started[0]
	assert.Regexp(t, `^release-api-prod-[0-9a-f-]{36}$`, o.ID)
	assert.Equal(t, api.QueueOrchestrator, o.TaskQueue)
	assert.Equal(t, []any{"Release", api.ReleaseRequest{Service: "api", Environment: "prod", Commit: sha,
		Authors: []string{"alice", "bob"}, Requester: "rita", Title: "Fix", Link: "https://git/pr/1"}}, fake.startArgs)
	assert.Equal(t, map[string]any{"service": "api", "environment": "prod", "title": "Fix", "link": "https://git/pr/1"}, o.Memo)
	assert.Equal(t, "api → prod @ 0123456 by rita", o.StaticSummary)
	assert.Contains(t, o.StaticDetails, "- Change: https://git/pr/1")
	env, _ := o.TypedSearchAttributes.GetKeyword(api.AttrEnvironment)
	status, _ := o.TypedSearchAttributes.GetKeyword(api.AttrStatus)
	assert.Equal(t, []string{"prod", "building"}, []string{env, status})
	assert.Contains(t, out, "started "+o.ID)
	assert.Contains(t, out, "http://ui.example/namespaces/ns1/workflows/"+o.ID)
	assert.True(t, fake.closed)
}

// A short SHA, a tag or a branch is the build role's to resolve; the
// authors may be left to git.
func TestStartTakesRefsAndNoAuthor(t *testing.T) {
	t.Setenv("FOUREYES_IDENTITY", "rita")
	for _, rev := range []string{"main", "v1.2.0", "release/2026-01", "0123abc", "refs/heads/main", "Feature-X"} {
		fake := &fakeTemporal{}
		code, _, errs := cli(t, fake, "start", "--service", "api", "--env", "prod", "--commit", rev)
		require.Equal(t, 0, code, errs)
		req := fake.startArgs[1].(api.ReleaseRequest)
		assert.Equal(t, rev, req.Commit, "kept as given")
		assert.Empty(t, req.Authors)
		assert.Contains(t, fake.started[0].StaticDetails, "- Authors: from git; requested by rita")
	}
}

func TestStartWait(t *testing.T) {
	args := []string{"start", "--service", "api", "--env", "prod", "--commit", sha, "--author", "alice", "--requester", "rita", "--wait"}
	tests := []struct {
		name      string
		result    api.ReleaseResult
		resultErr error
		code      int
		out, errs string
	}{
		{"deployed", api.ReleaseResult{Status: "deployed", ArtifactDigest: "d1"}, nil, 0, "result  deployed", ""},
		{"rejected", api.ReleaseResult{Status: "rejected", Reason: "bob rejected"}, nil, 3, "rejected", "release ended rejected: bob rejected"},
		{"unreachable", api.ReleaseResult{}, errors.New("connection lost"), 1, "", "connection lost"},
	}
	for _, tc := range tests {
		fake := &fakeTemporal{result: tc.result, resultErr: tc.resultErr}
		code, out, errs := cli(t, fake, args...)
		assert.Equal(t, tc.code, code, tc.name)
		assert.Contains(t, out, tc.out, tc.name)
		assert.Contains(t, errs, tc.errs, tc.name)
	}
	fake := &fakeTemporal{result: api.ReleaseResult{Status: "deployed"}}
	code, out, _ := cli(t, fake, append(args, "--json")...)
	require.Equal(t, 0, code)
	var got startOutput
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	assert.Equal(t, "deployed", got.Result.Status)
	assert.Equal(t, fake.started[0].ID, got.ReleaseID)
}

func sampleStatus() api.Status {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return api.Status{
		ReleaseID: "release-api-prod-1", Stage: "approve", Status: "awaiting_approval", OpenGate: "approval", Quorum: 2,
		Request:  api.ReleaseRequest{Service: "api", Environment: "prod", Commit: sha, Authors: []string{"alice"}, Requester: "rita"},
		Signed:   []api.Signer{{Identity: "carol", Verdict: "approve", Channel: "slack", At: at}},
		Awaiting: []string{"dave", "erin"}, Deadline: at.Add(time.Hour), ArtifactDigest: "digest1", PolicyHash: "phash",
		LastRefusal: &api.Refusal{Identity: "alice", Gate: "approval", Channel: "api", Reason: "alice authored the change"},
		Executors:   []string{"foureyes-build@h"},
	}
}

func TestStatusShowsTheChangeFromGit(t *testing.T) {
	st := sampleStatus()
	st.Request.Commit, st.Request.Authors, st.Commit = "main", nil, sha
	st.Authors = []string{"alice", "erin"}
	st.Change = &api.Change{Repository: "repos/api", Ref: "main", Base: strings.Repeat("b", 40), BaseRelease: "release-api-prod-0",
		BaseIsAncestor: true, CommitCount: 3, Authors: []string{"alice", "erin"}, Unmapped: []string{"zed@elsewhere.org"},
		Commits: []attest.ChangeCommit{{SHA: sha, Subject: "Fix rounding", Author: "alice@example.com"},
			{SHA: strings.Repeat("c", 40), Subject: "Export", Author: "zed@elsewhere.org"}}}
	fake := &fakeTemporal{queries: map[string]any{api.QueryStatus: st}}
	code, out, errs := cli(t, fake, "status", "release-api-prod-1")
	require.Equal(t, 0, code, errs)
	for _, want := range []string{"api → prod @ main", "commit        " + sha + " (main resolved by the build role)",
		"commits       3 of repos/api, since bbbbbbbbbbbb (release release-api-prod-0)",
		"0123456789ab Fix rounding (alice@example.com)", "cccccccccccc Export (zed@elsewhere.org)", "… and 1 more",
		"git authors   alice, erin", "unmapped      zed@elsewhere.org (map to no identity", "all authors   alice, erin"} {
		assert.Contains(t, out, want)
	}
}

func TestStatus(t *testing.T) {
	fake := &fakeTemporal{queries: map[string]any{api.QueryStatus: sampleStatus()}}
	code, out, errs := cli(t, fake, "status", "release-api-prod-1")
	require.Equal(t, 0, code, errs)
	for _, want := range []string{"awaiting_approval", "approval: 1 of 2 signed", "carol (slack)", "dave, erin",
		"2026-01-02T04:04:05Z", "digest1", "phash", "alice at approval via api: alice authored the change", "foureyes-build@h"} {
		assert.Contains(t, out, want)
	}
	code, out, _ = cli(t, fake, "status", "release-api-prod-1", "--json")
	require.Equal(t, 0, code)
	var st api.Status
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	assert.Equal(t, "carol", st.Signed[0].Identity)
}

func TestStatusFallbacks(t *testing.T) {
	failing := serviceerror.NewQueryFailed("no handler")
	code, _, errs := cli(t, &fakeTemporal{}, "status", "nope")
	assert.Equal(t, 4, code)
	assert.Contains(t, errs, "starter: status: release nope not found")

	code, out, _ := cli(t, &fakeTemporal{queryErr: failing, describe: enums.WORKFLOW_EXECUTION_STATUS_TERMINATED}, "status", "r1")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "release r1: terminated at")

	code, _, errs = cli(t, &fakeTemporal{queryErr: failing, describe: enums.WORKFLOW_EXECUTION_STATUS_RUNNING}, "status", "r1")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "is running but its status query failed")
}

// execution is a listed release: the memo of releases started before the
// search attributes, or the search attributes (status != "").
func execution(id, service, env, status string, st enums.WorkflowExecutionStatus) *workflowpb.WorkflowExecutionInfo {
	dc := converter.GetDefaultDataConverter()
	fields := map[string]*commonpb.Payload{}
	for k, v := range map[string]any{"service": service, "environment": env} {
		fields[k], _ = dc.ToPayload(v)
	}
	ex := &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: "r"},
		Status: st, StartTime: timestamppb.Now(), Memo: &commonpb.Memo{Fields: fields}}
	if status == "" {
		return ex
	}
	sa := map[string]*commonpb.Payload{}
	for k, v := range map[string]any{"ReleaseService": service, "ReleaseEnvironment": env, "ReleaseStatus": status,
		"ReleaseRequester": "rita", "ReleaseAwaiting": []string{"carol", "dave"}} {
		sa[k], _ = dc.ToPayload(v)
	}
	ex.SearchAttributes = &commonpb.SearchAttributes{IndexedFields: sa}
	return ex
}

func TestList(t *testing.T) {
	fake := &fakeTemporal{executions: []*workflowpb.WorkflowExecutionInfo{
		execution("release-api-prod-1", "api", "prod", "awaiting_approval", enums.WORKFLOW_EXECUTION_STATUS_RUNNING),
		execution("release-api-prod-x-2", "api-prod", "x", "", enums.WORKFLOW_EXECUTION_STATUS_TERMINATED),
	}}
	code, out, errs := cli(t, fake, "list", "--service", "api", "--env", "prod", "--status", "awaiting_approval",
		"--requester", "rita", "--awaiting", "carol")
	require.Equal(t, 0, code, errs)
	assert.Equal(t, "WorkflowType = 'Release' AND ReleaseService = 'api' AND ReleaseEnvironment = 'prod' AND "+
		"ReleaseStatus = 'awaiting_approval' AND ReleaseRequester = 'rita' AND ReleaseAwaiting = 'carol'", fake.listQueries[0])
	assert.Regexp(t, `release-api-prod-1 +awaiting_approval +api +prod +rita +carol,dave`, out)
	assert.Regexp(t, `release-api-prod-x-2 +terminated +api-prod +x +- +-`, out, "memo of an older release")

	code, out, _ = cli(t, fake, "list", "--status", "closed", "--json")
	require.Equal(t, 0, code)
	assert.Equal(t, "WorkflowType = 'Release' AND ExecutionStatus != 'Running'", fake.listQueries[1])
	var rows []listed
	require.NoError(t, json.Unmarshal([]byte(out), &rows))
	require.Len(t, rows, 2)
	assert.Equal(t, "running", rows[0].Status)
	assert.Equal(t, "awaiting_approval", rows[0].ReleaseStatus)
	assert.Equal(t, []string{"carol", "dave"}, rows[0].Awaiting)
	assert.Equal(t, "api-prod", rows[1].Service)

	code, _, _ = cli(t, fake, "list", "--status", "running")
	require.Equal(t, 0, code)
	assert.Equal(t, "WorkflowType = 'Release' AND ExecutionStatus = 'Running'", fake.listQueries[2])

	code, _, _ = cli(t, fake, "list", "--status", "rejected", "--since", "168h")
	require.Equal(t, 0, code)
	assert.Regexp(t, `^WorkflowType = 'Release' AND ReleaseStatus = 'rejected' AND StartTime > '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ'$`, fake.listQueries[3])
}

func TestWait(t *testing.T) {
	code, out, _ := cli(t, &fakeTemporal{result: api.ReleaseResult{Status: "deployed", AuditHead: "h1"}}, "wait", "r1")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "h1")
	code, out, errs := cli(t, &fakeTemporal{result: api.ReleaseResult{Status: "rolled_back", Reason: "verify failed"}}, "wait", "r1", "--json")
	assert.Equal(t, 3, code)
	assert.Contains(t, out, `"status": "rolled_back"`)
	assert.Contains(t, errs, "starter: wait: release ended rolled_back: verify failed")
	// Since versionFailedEnds a release that did not deploy ends a failed
	// workflow carrying its result.
	fc := temporal.GetDefaultFailureConverter()
	failed := fc.FailureToError(fc.ErrorToFailure(api.NotDeployed(api.ReleaseResult{Status: "rejected", Reason: "gate review rejected by bob: no"})))
	code, out, errs = cli(t, &fakeTemporal{resultErr: failed}, "wait", "r1")
	assert.Equal(t, 3, code)
	assert.Contains(t, out, "result  rejected")
	assert.Contains(t, errs, "starter: wait: release ended rejected: gate review rejected by bob: no")
	code, _, _ = cli(t, &fakeTemporal{resultErr: serviceerror.NewNotFound("no")}, "wait", "r1")
	assert.Equal(t, 4, code)
}

func sampleTrail() audit.Trail {
	var c audit.Chain
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c.Append(audit.Entry{Time: at, Release: "r1", Type: audit.EventReleaseStarted, Actor: "rita", Channel: "cli", Outcome: "ok", Detail: "api to prod"})
	c.Append(audit.Entry{Time: at.Add(time.Minute), Release: "r1", Type: audit.EventStageFinished, Stage: "code", Executor: "foureyes-build@h", Outcome: "ok", Detail: "built\nartifact"})
	c.Append(audit.Entry{Time: at.Add(2 * time.Minute), Release: "r1", Type: audit.EventDecisionRefused, Stage: "approve", Actor: "alice", Channel: "api", Outcome: "refused", Detail: "alice authored the change"})
	return audit.Trail{Entries: c.Entries()}
}

func TestAuditShowExportVerify(t *testing.T) {
	t.Setenv("FOUREYES_POLICY_FILE", "")
	trail := sampleTrail()
	fake := &fakeTemporal{queries: map[string]any{api.QueryAudit: trail}}
	code, out, errs := cli(t, fake, "audit", "r1")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "decision_refused")
	assert.Contains(t, out, "built artifact")
	assert.Contains(t, out, trail.Entries[2].Hash[:12])

	file := filepath.Join(t.TempDir(), "trail.jsonl")
	code, _, errs = cli(t, fake, "audit", "r1", "--export", file)
	require.Equal(t, 0, code, errs)
	code, out, errs = cli(t, nil, "audit", "--verify", file, "--chain-only")
	require.Equal(t, 0, code, errs)
	assert.Equal(t, "ok: 3 entries, chain head "+trail.Entries[2].Hash+"\n", out)

	data, err := os.ReadFile(file)
	require.NoError(t, err)
	tampered := strings.Replace(string(data), "alice authored the change", "alice may sign", 1)
	require.NoError(t, os.WriteFile(file, []byte(tampered), 0o600))
	code, out, errs = cli(t, nil, "audit", "--verify", file, "--chain-only")
	assert.Equal(t, 3, code)
	assert.Empty(t, out)
	assert.Contains(t, errs, "starter: audit: "+file+": line 3")

	code, _, errs = cli(t, nil, "audit", "--verify", filepath.Join(t.TempDir(), "missing"), "--chain-only")
	assert.Equal(t, 2, code, errs)
}

func TestPolicyCheck(t *testing.T) {
	good := filepath.Join("..", "deployments", "policy.yaml")
	_, hash, err := policy.Load(good)
	require.NoError(t, err)
	code, out, errs := cli(t, nil, "policy", "check", good)
	require.Equal(t, 0, code, errs)
	assert.Regexp(t, `^ok: .*policy.yaml sha256 `+hash+`: \d+ humans, \d+ bots, environments \w`, out)

	t.Setenv("FOUREYES_POLICY_FILE", good)
	code, _, _ = cli(t, nil, "policy", "check", "--json")
	assert.Equal(t, 0, code)

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("version: 1\nhumans: [{id: x, nonsense: true}]\n"), 0o600))
	code, out, errs = cli(t, nil, "policy", "check", bad)
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	assert.Contains(t, errs, "starter: policy check: ")
	assert.Contains(t, errs, "bad.yaml")
	assert.Equal(t, 1, strings.Count(errs, "\n"), "one line: %q", errs)
}

func TestPolicyExplain(t *testing.T) {
	ex := api.ExplainResult{Gate: "approval", Quorum: 2, Signed: []string{"carol"}, Identities: []api.Eligibility{
		{Identity: "alice", Kind: "human", Reason: "alice authored the change"},
		{Identity: "dave", Kind: "human", Eligible: true},
	}}
	fake := &fakeTemporal{queries: map[string]any{api.QueryExplain: ex}}
	code, out, errs := cli(t, fake, "policy", "explain", "r1")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "gate approval: quorum 2, signed 1 (carol)")
	assert.Regexp(t, `alice\s+human\s+no\s+alice authored the change`, out)
	assert.Regexp(t, `dave\s+human\s+yes\s+-`, out)

	fake.queries[api.QueryExplain] = api.ExplainResult{}
	code, out, _ = cli(t, fake, "policy", "explain", "r1")
	assert.Equal(t, 0, code)
	assert.Equal(t, "no gate is open\n", out)
}
