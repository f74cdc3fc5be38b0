package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	batchpb "go.temporal.io/api/batch/v1"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/config"
	"github.com/foureyes/foureyes/internal/devstack"
	"github.com/foureyes/foureyes/internal/figures"
	"github.com/foureyes/foureyes/internal/readme"
)

// The server's own authorization (temporal-server/internal/authz), tried on
// the running stack: each rogue-client attack of the hostile suite, made
// with the credential a compromised component or person would hold, is
// denied by the server before any role sees it; each identity's own calls
// still work. The other suites call as the admin to test the roles' checks.

// call is one request by one identity.
type call struct {
	who, what string
	allowed   bool
	do        func(ctx context.Context, c client.Client) error
}

// Identities beyond the stack's: no credential at all, a key nobody issued.
const (
	nobody     = "nobody"
	unknownKey = "unknown-key"
)

func serverAuthz(t *testing.T, s *stackT) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id := startAuthzRelease(ctx, t, s)
	clients := authzClients(ctx, t, s)
	tried, denied, allowed, worked := 0, 0, 0, 0
	for _, c := range authzCalls(s, id) {
		err := c.do(ctx, clients[c.who])
		var pd *serviceerror.PermissionDenied
		switch {
		case c.allowed:
			allowed++
			if err != nil {
				t.Errorf("%s may %s, but: %v", c.who, c.what, err)
				continue
			}
			worked++
		default:
			tried++
			if !errors.As(err, &pd) {
				t.Errorf("%s: %s: want PermissionDenied from the server, got %v", c.who, c.what, err)
				continue
			}
			denied++
		}
	}
	logged := deniedInServerLog(t, s)
	if logged < denied {
		t.Errorf("the server logged %d denials, fewer than the %d calls it denied", logged, denied)
	}
	list, terminate := operatorCLI(ctx, t, s, id)
	figures.Report(t, "authz denied %d / tried %d at the server (forbidden calls of every identity on the running stack; each denial logged), allowed calls working %d / %d; operator CLI: %s, %s",
		denied, tried, worked, allowed, list, terminate)
	cancelAuthzRelease(ctx, t, s, id)
}

// startAuthzRelease starts a release as the release manager (allowed) and
// waits for it at its review gate: the calls below aim at it.
func startAuthzRelease(ctx context.Context, t *testing.T, s *stackT) string {
	rm, err := s.Local.Dial(ctx, devstack.IdentityReleaseManager)
	require(t, err)
	defer rm.Close()
	id := releaseID("server-authz")
	_, err = rm.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: api.QueueOrchestrator},
		api.WorkflowRelease, api.ReleaseRequest{Service: "payments", Environment: "prod", Commit: commitOf("payments"),
			Authors: []string{"alice"}, Requester: "rita", Title: "server authorization"})
	require(t, err)
	require(t, s.WaitStatus(ctx, id, api.StatusAwaitingReview))
	return id
}

func cancelAuthzRelease(ctx context.Context, t *testing.T, s *stackT, id string) {
	body := fmt.Sprintf(`{"release_id":%q,"reason":"end of the authorization table","request_id":"cleanup"}`, id)
	if code, got, err := s.post(ctx, "/v1/cancels", "Bearer "+s.Tokens["rita"], []byte(body), nil); err != nil || code != 200 {
		t.Errorf("cancelling %s as rita: %d %v %v", id, code, got, err)
	}
}

// authzClients dials the server as every identity, with no credential, and
// with a key the server never issued.
func authzClients(ctx context.Context, t *testing.T, s *stackT) map[string]client.Client {
	creds := s.Local.Credentials()
	out := map[string]client.Client{}
	for _, id := range devstack.ServerIdentities() {
		c, err := s.Local.Dial(ctx, id)
		require(t, err)
		out[id] = c
	}
	bare := creds.Anonymous(s.Local.Server.Addr)
	forged := bare
	forged.APIKey = "a-key-nobody-issued"
	for name, tc := range map[string]config.Temporal{nobody: bare, unknownKey: forged} {
		opts, err := tc.ClientOptions(name, slog.New(slog.NewTextHandler(io.Discard, nil)))
		require(t, err)
		// Lazy: the SDK's eager dial asks GetSystemInfo, which anyone may.
		c, err := client.NewLazyClient(opts)
		require(t, err)
		out[name] = c
	}
	t.Cleanup(func() {
		for _, c := range out {
			c.Close()
		}
	})
	return out
}

// deniedInServerLog counts the server's "authz denied" log lines.
func deniedInServerLog(t *testing.T, s *stackT) int {
	data, err := os.ReadFile(s.Local.Server.LogFile)
	require(t, err)
	return strings.Count(string(data), `"msg":"authz denied"`)
}

// operatorCLI runs the operators' Temporal CLI with the operator's key: a
// list by search attribute works, a terminate is denied.
func operatorCLI(ctx context.Context, t *testing.T, s *stackT, id string) (string, string) {
	cli := os.Getenv(devstack.TemporalCLIEnv)
	if cli == "" {
		t.Errorf("%s is not set: go run ./stack test installs the Temporal CLI and sets it", devstack.TemporalCLIEnv)
		return "not run", "not run"
	}
	env, err := s.Local.Credentials().CLIEnv(s.Local.Server.Addr, devstack.IdentityOperator)
	require(t, err)
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, cli, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	query := fmt.Sprintf(`WorkflowId = %q AND ReleaseStatus = %q`, id, api.StatusAwaitingReview)
	out, err := run("workflow", "list", "--query", query)
	if err != nil || !strings.Contains(out, id) {
		t.Errorf("operator: temporal workflow list --query %s: %v\n%s", query, err, out)
	}
	listed := fmt.Sprintf("temporal workflow list --query '%s' listed it; docs/operators.md's %d queries ran", query, readmeOperatorQueries(ctx, t, s, cli, env))
	out, err = run("workflow", "terminate", "--workflow-id", id, "--reason", "operator tries")
	if err == nil || !regexp.MustCompile(`(?i)permission ?denied|unauthorized`).MatchString(out) {
		t.Errorf("operator: temporal workflow terminate must be denied: %v\n%s", err, out)
	}
	return listed, "temporal workflow terminate denied"
}

// readmeOperatorQueries runs every command of docs/operators.md's
// "Finding releases" block as a reader would paste it (sh, the operator's key for temporal,
// the release manager's for starter) and requires each to succeed.
func readmeOperatorQueries(ctx context.Context, t *testing.T, s *stackT, cli string, operatorEnv []string) int {
	root, err := devstack.RepoRoot()
	require(t, err)
	cmds, err := readme.Commands(filepath.Join(root, "docs", "operators.md"), "Finding releases")
	require(t, err)
	path := "PATH=" + filepath.Dir(cli) + ":" + s.Local.BinDir + ":" + os.Getenv("PATH")
	starterEnv := append(devstack.BaseEnv(), s.Local.ClientEnv(devstack.IdentityReleaseManager)...)
	for _, c := range cmds {
		env := operatorEnv
		if strings.HasPrefix(c, "starter ") {
			env = starterEnv
		}
		cmd := exec.CommandContext(ctx, "sh", "-c", c)
		cmd.Env = append(slices.Clone(env), path)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("docs/operators.md: %s: %v\n%s", c, err, out)
		}
	}
	if len(cmds) < 5 {
		t.Errorf("docs/operators.md: only %d commands", len(cmds))
	}
	return len(cmds)
}

// authzCalls is the table: per attack of the hostile suite, the identities
// that could try it, then each identity's own calls.
func authzCalls(s *stackT, id string) []call {
	var calls []call
	for _, who := range []string{devstack.RoleIdentity(attest.RoleBuild), devstack.RoleIdentity(attest.RoleDeploy),
		devstack.RoleIdentity(attest.RoleOrchestrator), devstack.IdentityReleaseManager, devstack.IdentityOperator, nobody, unknownKey} {
		calls = append(calls, call{who, "send a decide update (forged decision)", false, callUpdate(id, api.UpdateDecide)},
			call{who, "send a cancel update", false, callUpdate(id, api.UpdateCancel)})
	}
	for _, who := range []string{devstack.RoleIdentity(attest.RoleApproval), devstack.IdentityReleaseManager, devstack.IdentityOperator} {
		calls = append(calls, call{who, "signal the legacy unsigned decision", false, callSignal(id, api.SignalDecision)},
			call{who, "terminate a release", false, callTerminate(id)},
			call{who, "request cancellation of a release", false, callRequestCancel(id)})
	}
	calls = append(calls, rogueWorkerCalls()...)
	calls = append(calls, rogueStartCalls(id)...)
	return append(calls, ownCalls(id)...)
}

// rogueWorkerCalls: polling another role's queue, the stolen-token way to
// complete its activities, or workflow tasks as a non-orchestrator.
func rogueWorkerCalls() []call {
	return []call{
		{devstack.RoleIdentity(attest.RoleBuild), "poll the deploy queue's activity tasks", false, callPollActivity(api.QueueDeploy)},
		{devstack.RoleIdentity(attest.RoleReview), "poll the build queue's activity tasks", false, callPollActivity(api.QueueBuild)},
		{devstack.RoleIdentity(attest.RoleBuild), "poll the orchestrator's workflow tasks (rogue LoadPolicy)", false, callPollWorkflow(api.QueueOrchestrator)},
		{devstack.RoleIdentity(attest.RoleDeploy), "poll workflow tasks on its own queue", false, callPollWorkflow(api.QueueDeploy)},
		{devstack.RoleIdentity(attest.RoleOrchestrator), "poll the deploy queue's activity tasks", false, callPollActivity(api.QueueDeploy)},
		{devstack.IdentityOperator, "poll the approval queue's activity tasks", false, callPollActivity(api.QueueApproval)},
		{devstack.IdentityReleaseManager, "poll workflow tasks of a rogue queue", false, callPollWorkflow("rogue")},
	}
}

// rogueStartCalls: a rogue workflow that would schedule Deploy, a Release
// started by a role, batch and multi-operations.
func rogueStartCalls(id string) []call {
	rm := devstack.IdentityReleaseManager
	return []call{
		{rm, "start a rogue workflow type (rogue Deploy)", false, callStart("rogueDeploy", api.QueueOrchestrator)},
		{rm, "start Release on the deploy queue", false, callStart(api.WorkflowRelease, api.QueueDeploy)},
		{devstack.RoleIdentity(attest.RoleBuild), "start a Release", false, callStart(api.WorkflowRelease, api.QueueOrchestrator)},
		{devstack.RoleIdentity(attest.RoleOrchestrator), "start a Release", false, callStart(api.WorkflowRelease, api.QueueOrchestrator)},
		{rm, "signal-with-start a Release", false, callSignalWithStart()},
		{rm, "update-with-start a Release (multi-operation)", false, callUpdateWithStart()},
		{rm, "batch-terminate every release", false, callBatchTerminate()},
		{devstack.IdentityOperator, "reset a release", false, callReset(id)},
		{nobody, "list releases", false, callList()},
		{unknownKey, "list releases", false, callList()},
	}
}

// ownCalls: what each identity is there for keeps working.
func ownCalls(id string) []call {
	return []call{
		{devstack.IdentityReleaseManager, "list releases", true, callList()},
		{devstack.IdentityReleaseManager, "describe a release", true, callDescribe(id)},
		{devstack.IdentityReleaseManager, "query a release's status", true, callQuery(id, api.QueryStatus)},
		{devstack.IdentityOperator, "list releases", true, callList()},
		{devstack.IdentityOperator, "read a release's history", true, callHistory(id)},
		{devstack.RoleIdentity(attest.RoleApproval), "query a release's binding", true, callQuery(id, api.QueryBinding)},
	}
}

// callUpdate sends the decide or cancel update with an empty request: the
// server must refuse it before the workflow sees it.
func callUpdate(id, name string) func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error {
		_, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: name,
			Args: []any{api.SignedRequest{}}, WaitForStage: client.WorkflowUpdateStageAccepted})
		return err
	}
}

func callSignal(id, name string) func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error {
		return c.SignalWorkflow(ctx, id, "", name, api.Decision{Gate: "review", Identity: "bob"})
	}
}

func callTerminate(id string) func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error { return c.TerminateWorkflow(ctx, id, "", "rogue") }
}

func callRequestCancel(id string) func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error { return c.CancelWorkflow(ctx, id, "") }
}

func callPollActivity(queue string) func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := c.WorkflowService().PollActivityTaskQueue(ctx, &workflowservice.PollActivityTaskQueueRequest{
			Namespace: "default", TaskQueue: &taskqueuepb.TaskQueue{Name: queue, Kind: enums.TASK_QUEUE_KIND_NORMAL}, Identity: "mallory@rogue"})
		return err
	}
}

func callPollWorkflow(queue string) func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := c.WorkflowService().PollWorkflowTaskQueue(ctx, &workflowservice.PollWorkflowTaskQueueRequest{
			Namespace: "default", TaskQueue: &taskqueuepb.TaskQueue{Name: queue, Kind: enums.TASK_QUEUE_KIND_NORMAL}, Identity: "mallory@rogue"})
		return err
	}
}

func callStart(workflowType, queue string) func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error {
		_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: releaseID("rogue"), TaskQueue: queue},
			workflowType, api.ReleaseRequest{Service: "payments", Environment: "prod", Commit: "main"})
		return err
	}
}

func callSignalWithStart() func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error {
		_, err := c.SignalWithStartWorkflow(ctx, releaseID("rogue"), api.SignalDecision, api.Decision{},
			client.StartWorkflowOptions{TaskQueue: api.QueueOrchestrator}, api.WorkflowRelease, api.ReleaseRequest{})
		return err
	}
}

func callUpdateWithStart() func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error {
		op := c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{ID: releaseID("rogue"), TaskQueue: api.QueueOrchestrator,
			WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL}, api.WorkflowRelease, api.ReleaseRequest{})
		_, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{StartWorkflowOperation: op,
			UpdateOptions: client.UpdateWorkflowOptions{UpdateName: api.UpdateDecide, Args: []any{api.SignedRequest{}},
				WaitForStage: client.WorkflowUpdateStageAccepted}})
		return err
	}
}

func callBatchTerminate() func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error {
		_, err := c.WorkflowService().StartBatchOperation(ctx, &workflowservice.StartBatchOperationRequest{
			Namespace: "default", JobId: releaseID("batch"), Reason: "rogue", VisibilityQuery: `WorkflowType = "Release"`,
			Operation: &workflowservice.StartBatchOperationRequest_TerminationOperation{
				TerminationOperation: &batchpb.BatchOperationTermination{Identity: "mallory@rogue"}}})
		return err
	}
}

func callReset(id string) func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error {
		_, err := c.ResetWorkflowExecution(ctx, &workflowservice.ResetWorkflowExecutionRequest{Namespace: "default",
			WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: id}, Reason: "rogue", WorkflowTaskFinishEventId: 3,
			RequestId: releaseID("reset")})
		return err
	}
}

func callList() func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error {
		_, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: `WorkflowType = "Release"`})
		return err
	}
}

func callDescribe(id string) func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error {
		_, err := c.DescribeWorkflowExecution(ctx, id, "")
		return err
	}
}

func callQuery(id, name string) func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error {
		_, err := c.QueryWorkflow(ctx, id, "", name)
		return err
	}
}

func callHistory(id string) func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error {
		it := c.GetWorkflowHistory(ctx, id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		_, err := it.Next()
		return err
	}
}
