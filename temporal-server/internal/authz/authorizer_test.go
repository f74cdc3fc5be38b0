package authz

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	batchpb "go.temporal.io/api/batch/v1"
	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/api/adminservice/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/tasktoken"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"github.com/foureyes/foureyes/formats/authzconfig"
	"github.com/foureyes/foureyes/temporal-server/internal/figures"
)

const ns = "default"

// testConfig is foureyes' roles with one identity per role.
func testConfig(t *testing.T) *authzconfig.Config {
	t.Helper()
	c := &authzconfig.Config{Namespace: ns, Roles: authzconfig.DefaultRoles()}
	for _, r := range authzconfig.AllRoles {
		c.Identities = append(c.Identities, authzconfig.Identity{Name: "id-" + r, Role: r, APIKeySHA256: authzconfig.HashKey("key-" + r)})
	}
	return c
}

// fakeResolver knows the pending activities of workflow "rel" run "run".
type fakeResolver struct{ byEvent map[int64]ActivityRef }

func (f *fakeResolver) ActivityByEvent(_ context.Context, _, wf, run string, ev int64) (ActivityRef, error) {
	if ref, ok := f.byEvent[ev]; ok && wf == "rel" && (run == "run" || run == "") {
		return ref, nil
	}
	return ActivityRef{}, errNotPending("activity")
}

func (f *fakeResolver) ActivityByID(_ context.Context, _, wf, run, id string) (ActivityRef, error) {
	var ev int64
	if _, err := fmt.Sscan(id, &ev); err == nil {
		return f.ActivityByEvent(context.Background(), "", wf, run, ev)
	}
	return ActivityRef{}, errNotPending("activity")
}

// Pending activities of "rel": event id = activity id.
var pending = map[int64]ActivityRef{
	5:  {"LoadPolicy", "foureyes-orchestrator"},
	11: {"Build", "foureyes-build"},
	17: {"Review", "foureyes-review"},
	23: {"Notify", "foureyes-approval"},
	29: {"Deploy", "foureyes-deploy"},
	35: {"Verify", "foureyes-deploy"},
	41: {"Seal", "foureyes-orchestrator"},
}

// token is a task token for event ev of "rel" claiming activity type claimed.
func token(t *testing.T, ev int64, claimed string) []byte {
	t.Helper()
	tok := tasktoken.NewActivityTaskToken("ns-id", "rel", "run", ev, fmt.Sprint(ev), claimed, 1, nil, 0, 0, nil, 0)
	b, err := tasktoken.NewSerializer().Serialize(tok)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tq(name string) *taskqueuepb.TaskQueue { return &taskqueuepb.TaskQueue{Name: name} }

func sticky(normal string) *taskqueuepb.TaskQueue {
	return &taskqueuepb.TaskQueue{Name: "host:1234-uuid", Kind: enumspb.TASK_QUEUE_KIND_STICKY, NormalName: normal}
}

func schedule(typ, queue string) *commandpb.Command {
	return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
		Attributes: &commandpb.Command_ScheduleActivityTaskCommandAttributes{ScheduleActivityTaskCommandAttributes: &commandpb.ScheduleActivityTaskCommandAttributes{
			ActivityId: "1", ActivityType: &commonpb.ActivityType{Name: typ}, TaskQueue: tq(queue)}}}
}

func command(ct enumspb.CommandType) *commandpb.Command { return &commandpb.Command{CommandType: ct} }

func start(typ, queue string) *workflowservice.StartWorkflowExecutionRequest {
	return &workflowservice.StartWorkflowExecutionRequest{Namespace: ns, WorkflowId: "release-x",
		WorkflowType: &commonpb.WorkflowType{Name: typ}, TaskQueue: tq(queue)}
}

func update(name string) *workflowservice.UpdateWorkflowExecutionRequest {
	return &workflowservice.UpdateWorkflowExecutionRequest{Namespace: ns,
		WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: "rel"},
		Request:           &updatepb.Request{Input: &updatepb.Input{Name: name}}}
}

type call struct {
	name string
	api  string // full method name
	req  any
}

func wf(method string, req any) call {
	return call{name: method, api: "/temporal.api.workflowservice.v1.WorkflowService/" + method, req: req}
}

func named(name string, c call) call { c.name = name; return c }

// Every call that matters, each with the roles that may make it.
func calls(t *testing.T) []struct {
	call
	allowed []string
} {
	all := authzconfig.AllRoles
	type row = struct {
		call
		allowed []string
	}
	r := func(c call, allowed ...string) row { return row{c, allowed} }
	complete := func(ev int64, claimed string) *workflowservice.RespondActivityTaskCompletedRequest {
		return &workflowservice.RespondActivityTaskCompletedRequest{Namespace: ns, TaskToken: token(t, ev, claimed)}
	}
	byID := func(id string) *workflowservice.RespondActivityTaskCompletedByIdRequest {
		return &workflowservice.RespondActivityTaskCompletedByIdRequest{Namespace: ns, WorkflowId: "rel", RunId: "run", ActivityId: id}
	}
	pollA := func(q *taskqueuepb.TaskQueue) *workflowservice.PollActivityTaskQueueRequest {
		return &workflowservice.PollActivityTaskQueueRequest{Namespace: ns, TaskQueue: q}
	}
	pollW := func(q *taskqueuepb.TaskQueue) *workflowservice.PollWorkflowTaskQueueRequest {
		return &workflowservice.PollWorkflowTaskQueueRequest{Namespace: ns, TaskQueue: q}
	}
	wtc := func(cmds ...*commandpb.Command) *workflowservice.RespondWorkflowTaskCompletedRequest {
		return &workflowservice.RespondWorkflowTaskCompletedRequest{Namespace: ns, Commands: cmds}
	}
	exec := &commonpb.WorkflowExecution{WorkflowId: "rel"}
	eager := start("Release", "foureyes-orchestrator")
	eager.RequestEagerExecution = true
	terminating := start("Release", "foureyes-orchestrator")
	terminating.WorkflowIdConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING
	cron := start("Release", "foureyes-orchestrator")
	cron.CronSchedule = "* * * * *"
	eagerBuild := schedule("Build", "foureyes-build")
	eagerBuild.GetScheduleActivityTaskCommandAttributes().RequestEagerExecution = true
	multi := func(ops ...*workflowservice.ExecuteMultiOperationRequest_Operation) *workflowservice.ExecuteMultiOperationRequest {
		return &workflowservice.ExecuteMultiOperationRequest{Namespace: ns, Operations: ops}
	}
	opStart := &workflowservice.ExecuteMultiOperationRequest_Operation{Operation: &workflowservice.ExecuteMultiOperationRequest_Operation_StartWorkflow{StartWorkflow: start("Release", "foureyes-orchestrator")}}
	opUpdate := &workflowservice.ExecuteMultiOperationRequest_Operation{Operation: &workflowservice.ExecuteMultiOperationRequest_Operation_UpdateWorkflow{UpdateWorkflow: update("decide")}}
	batch := func(req *workflowservice.StartBatchOperationRequest) *workflowservice.StartBatchOperationRequest {
		req.Namespace, req.JobId, req.VisibilityQuery = ns, "job", "WorkflowType='Release'"
		return req
	}
	return []row{
		// connecting
		r(wf("GetSystemInfo", &workflowservice.GetSystemInfoRequest{}), all...),
		r(wf("GetClusterInfo", &workflowservice.GetClusterInfoRequest{}), all...),
		r(wf("DescribeNamespace", &workflowservice.DescribeNamespaceRequest{Namespace: ns}), all...),
		r(named("DescribeNamespace other", wf("DescribeNamespace", &workflowservice.DescribeNamespaceRequest{Namespace: "temporal-system"})), authzconfig.RoleAdmin),
		r(wf("ListNamespaces", &workflowservice.ListNamespacesRequest{}), authzconfig.RoleOperator, authzconfig.RoleReleaseManager, authzconfig.RoleAdmin),
		r(wf("RegisterNamespace", &workflowservice.RegisterNamespaceRequest{Namespace: "other"}), authzconfig.RoleAdmin),
		// polls
		r(named("poll workflow orchestrator", wf("PollWorkflowTaskQueue", pollW(tq("foureyes-orchestrator")))), authzconfig.RoleOrchestrator, authzconfig.RoleAdmin),
		r(named("poll workflow sticky", wf("PollWorkflowTaskQueue", pollW(sticky("foureyes-orchestrator")))), authzconfig.RoleOrchestrator, authzconfig.RoleAdmin),
		r(named("poll workflow sticky of build", wf("PollWorkflowTaskQueue", pollW(sticky("foureyes-build")))), authzconfig.RoleAdmin),
		r(named("poll workflow build", wf("PollWorkflowTaskQueue", pollW(tq("foureyes-build")))), authzconfig.RoleAdmin),
		r(named("poll activity orchestrator", wf("PollActivityTaskQueue", pollA(tq("foureyes-orchestrator")))), authzconfig.RoleOrchestrator, authzconfig.RoleAdmin),
		r(named("poll activity build", wf("PollActivityTaskQueue", pollA(tq("foureyes-build")))), authzconfig.RoleBuild, authzconfig.RoleAdmin),
		r(named("poll activity review", wf("PollActivityTaskQueue", pollA(tq("foureyes-review")))), authzconfig.RoleReview, authzconfig.RoleAdmin),
		r(named("poll activity approval", wf("PollActivityTaskQueue", pollA(tq("foureyes-approval")))), authzconfig.RoleApproval, authzconfig.RoleAdmin),
		r(named("poll activity deploy", wf("PollActivityTaskQueue", pollA(tq("foureyes-deploy")))), authzconfig.RoleDeploy, authzconfig.RoleAdmin),
		r(named("poll activity deploy sticky", wf("PollActivityTaskQueue", pollA(sticky("foureyes-deploy")))), authzconfig.RoleAdmin),
		r(named("poll activity other", wf("PollActivityTaskQueue", pollA(tq("elsewhere")))), authzconfig.RoleAdmin),
		// activity completions: by token (claimed type not trusted) and by id
		r(named("complete LoadPolicy", wf("RespondActivityTaskCompleted", complete(5, "LoadPolicy"))), authzconfig.RoleOrchestrator, authzconfig.RoleAdmin),
		r(named("complete Build", wf("RespondActivityTaskCompleted", complete(11, "Build"))), authzconfig.RoleBuild, authzconfig.RoleAdmin),
		r(named("complete Review", wf("RespondActivityTaskCompleted", complete(17, "Review"))), authzconfig.RoleReview, authzconfig.RoleAdmin),
		r(named("complete Notify", wf("RespondActivityTaskCompleted", complete(23, "Notify"))), authzconfig.RoleApproval, authzconfig.RoleAdmin),
		r(named("complete Deploy", wf("RespondActivityTaskCompleted", complete(29, "Deploy"))), authzconfig.RoleDeploy, authzconfig.RoleAdmin),
		r(named("complete Verify", wf("RespondActivityTaskCompleted", complete(35, "Verify"))), authzconfig.RoleDeploy, authzconfig.RoleAdmin),
		r(named("complete Seal", wf("RespondActivityTaskCompleted", complete(41, "Seal"))), authzconfig.RoleOrchestrator, authzconfig.RoleAdmin),
		r(named("complete Deploy claiming Build", wf("RespondActivityTaskCompleted", complete(29, "Build"))), authzconfig.RoleDeploy, authzconfig.RoleAdmin),
		r(named("complete Build by id", wf("RespondActivityTaskCompletedById", byID("11"))), authzconfig.RoleBuild, authzconfig.RoleAdmin),
		r(named("complete Deploy by id", wf("RespondActivityTaskCompletedById", byID("29"))), authzconfig.RoleDeploy, authzconfig.RoleAdmin),
		r(named("fail Deploy", wf("RespondActivityTaskFailed", &workflowservice.RespondActivityTaskFailedRequest{Namespace: ns, TaskToken: token(t, 29, "Deploy")})), authzconfig.RoleDeploy, authzconfig.RoleAdmin),
		r(named("fail Deploy by id", wf("RespondActivityTaskFailedById", &workflowservice.RespondActivityTaskFailedByIdRequest{Namespace: ns, WorkflowId: "rel", RunId: "run", ActivityId: "29"})), authzconfig.RoleDeploy, authzconfig.RoleAdmin),
		r(named("cancel Build", wf("RespondActivityTaskCanceled", &workflowservice.RespondActivityTaskCanceledRequest{Namespace: ns, TaskToken: token(t, 11, "Build")})), authzconfig.RoleBuild, authzconfig.RoleAdmin),
		r(named("cancel Review by id", wf("RespondActivityTaskCanceledById", &workflowservice.RespondActivityTaskCanceledByIdRequest{Namespace: ns, WorkflowId: "rel", ActivityId: "17"})), authzconfig.RoleReview, authzconfig.RoleAdmin),
		r(named("heartbeat Deploy", wf("RecordActivityTaskHeartbeat", &workflowservice.RecordActivityTaskHeartbeatRequest{Namespace: ns, TaskToken: token(t, 29, "Deploy")})), authzconfig.RoleDeploy, authzconfig.RoleAdmin),
		r(named("heartbeat Build by id", wf("RecordActivityTaskHeartbeatById", &workflowservice.RecordActivityTaskHeartbeatByIdRequest{Namespace: ns, WorkflowId: "rel", RunId: "run", ActivityId: "11"})), authzconfig.RoleBuild, authzconfig.RoleAdmin),
		r(named("complete malformed token", wf("RespondActivityTaskCompleted", &workflowservice.RespondActivityTaskCompletedRequest{Namespace: ns, TaskToken: []byte("junk")})), authzconfig.RoleAdmin),
		// workflow tasks
		r(named("workflow task: stages on their queues", wf("RespondWorkflowTaskCompleted", wtc(
			schedule("LoadPolicy", "foureyes-orchestrator"), schedule("Build", "foureyes-build"), schedule("Review", "foureyes-review"),
			schedule("Notify", "foureyes-approval"), schedule("Deploy", "foureyes-deploy"), schedule("Verify", "foureyes-deploy"),
			schedule("Rollback", "foureyes-deploy"), schedule("Seal", ""),
			command(enumspb.COMMAND_TYPE_START_TIMER), command(enumspb.COMMAND_TYPE_RECORD_MARKER),
			command(enumspb.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES), command(enumspb.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES),
			command(enumspb.COMMAND_TYPE_PROTOCOL_MESSAGE), command(enumspb.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK),
			command(enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION)))), authzconfig.RoleOrchestrator, authzconfig.RoleAdmin),
		r(named("workflow task: Deploy on the build queue", wf("RespondWorkflowTaskCompleted", wtc(schedule("Deploy", "foureyes-build")))), authzconfig.RoleAdmin),
		r(named("workflow task: Build on the orchestrator", wf("RespondWorkflowTaskCompleted", wtc(schedule("Build", "")))), authzconfig.RoleAdmin),
		r(named("workflow task: unknown activity", wf("RespondWorkflowTaskCompleted", wtc(schedule("Shell", "foureyes-deploy")))), authzconfig.RoleAdmin),
		r(named("workflow task: eager Build", wf("RespondWorkflowTaskCompleted", wtc(eagerBuild))), authzconfig.RoleAdmin),
		r(named("workflow task: signal external", wf("RespondWorkflowTaskCompleted", wtc(command(enumspb.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION)))), authzconfig.RoleAdmin),
		r(named("workflow task: cancel external", wf("RespondWorkflowTaskCompleted", wtc(command(enumspb.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION)))), authzconfig.RoleAdmin),
		r(named("workflow task: child workflow", wf("RespondWorkflowTaskCompleted", wtc(command(enumspb.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION)))), authzconfig.RoleAdmin),
		r(named("workflow task: continue as new", wf("RespondWorkflowTaskCompleted", wtc(command(enumspb.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION)))), authzconfig.RoleAdmin),
		r(named("workflow task: nexus", wf("RespondWorkflowTaskCompleted", wtc(command(enumspb.COMMAND_TYPE_SCHEDULE_NEXUS_OPERATION)))), authzconfig.RoleAdmin),
		r(wf("RespondWorkflowTaskFailed", &workflowservice.RespondWorkflowTaskFailedRequest{Namespace: ns}), authzconfig.RoleOrchestrator, authzconfig.RoleAdmin),
		r(wf("RespondQueryTaskCompleted", &workflowservice.RespondQueryTaskCompletedRequest{Namespace: ns}), authzconfig.RoleOrchestrator, authzconfig.RoleAdmin),
		r(wf("GetWorkflowExecutionHistory", &workflowservice.GetWorkflowExecutionHistoryRequest{Namespace: ns, Execution: exec}), authzconfig.RoleOrchestrator, authzconfig.RoleApproval, authzconfig.RoleDeploy, authzconfig.RoleReleaseManager, authzconfig.RoleOperator, authzconfig.RoleAdmin),
		// start
		r(named("start Release", wf("StartWorkflowExecution", start("Release", "foureyes-orchestrator"))), authzconfig.RoleReleaseManager, authzconfig.RoleAdmin),
		r(named("start Release elsewhere", wf("StartWorkflowExecution", start("Release", "foureyes-deploy"))), authzconfig.RoleAdmin),
		r(named("start other type", wf("StartWorkflowExecution", start("Other", "foureyes-orchestrator"))), authzconfig.RoleAdmin),
		r(named("start eager", wf("StartWorkflowExecution", eager)), authzconfig.RoleAdmin),
		r(named("start terminating existing", wf("StartWorkflowExecution", terminating)), authzconfig.RoleAdmin),
		r(named("start cron", wf("StartWorkflowExecution", cron)), authzconfig.RoleAdmin),
		r(named("start in other namespace", wf("StartWorkflowExecution", func() any { s := start("Release", "foureyes-orchestrator"); s.Namespace = "other"; return s }())), authzconfig.RoleAdmin),
		// messages
		r(named("update decide", wf("UpdateWorkflowExecution", update("decide"))), authzconfig.RoleApproval, authzconfig.RoleAdmin),
		r(named("update cancel", wf("UpdateWorkflowExecution", update("cancel"))), authzconfig.RoleApproval, authzconfig.RoleAdmin),
		r(named("update other", wf("UpdateWorkflowExecution", update("approve-all"))), authzconfig.RoleAdmin),
		r(wf("PollWorkflowExecutionUpdate", &workflowservice.PollWorkflowExecutionUpdateRequest{Namespace: ns}), authzconfig.RoleApproval, authzconfig.RoleReleaseManager, authzconfig.RoleOperator, authzconfig.RoleAdmin),
		r(named("signal decision", wf("SignalWorkflowExecution", &workflowservice.SignalWorkflowExecutionRequest{Namespace: ns, WorkflowExecution: exec, SignalName: "decision"})), authzconfig.RoleAdmin),
		r(named("signal-with-start", wf("SignalWithStartWorkflowExecution", &workflowservice.SignalWithStartWorkflowExecutionRequest{Namespace: ns, WorkflowId: "rel",
			WorkflowType: &commonpb.WorkflowType{Name: "Release"}, TaskQueue: tq("foureyes-orchestrator"), SignalName: "decision"})), authzconfig.RoleAdmin),
		r(named("multi: update-with-start", wf("ExecuteMultiOperation", multi(opStart, opUpdate))), authzconfig.RoleAdmin),
		r(named("multi: start only", wf("ExecuteMultiOperation", multi(opStart))), authzconfig.RoleReleaseManager, authzconfig.RoleAdmin),
		r(named("multi: update only", wf("ExecuteMultiOperation", multi(opUpdate))), authzconfig.RoleApproval, authzconfig.RoleAdmin),
		// reads
		r(named("query binding", wf("QueryWorkflow", &workflowservice.QueryWorkflowRequest{Namespace: ns, Execution: exec})), authzconfig.RoleApproval, authzconfig.RoleReleaseManager, authzconfig.RoleOperator, authzconfig.RoleAdmin),
		r(wf("DescribeWorkflowExecution", &workflowservice.DescribeWorkflowExecutionRequest{Namespace: ns, Execution: exec}), authzconfig.RoleApproval, authzconfig.RoleReleaseManager, authzconfig.RoleOperator, authzconfig.RoleAdmin),
		r(wf("ListWorkflowExecutions", &workflowservice.ListWorkflowExecutionsRequest{Namespace: ns}), authzconfig.RoleReleaseManager, authzconfig.RoleOperator, authzconfig.RoleAdmin),
		r(wf("CountWorkflowExecutions", &workflowservice.CountWorkflowExecutionsRequest{Namespace: ns}), authzconfig.RoleReleaseManager, authzconfig.RoleOperator, authzconfig.RoleAdmin),
		r(wf("DescribeTaskQueue", &workflowservice.DescribeTaskQueueRequest{Namespace: ns}), authzconfig.RoleReleaseManager, authzconfig.RoleOperator, authzconfig.RoleAdmin),
		r(call{"ListSearchAttributes", "/temporal.api.operatorservice.v1.OperatorService/ListSearchAttributes", &operatorservice.ListSearchAttributesRequest{Namespace: ns}}, authzconfig.RoleReleaseManager, authzconfig.RoleOperator, authzconfig.RoleAdmin),
		// writes nobody but the admin makes
		r(wf("RequestCancelWorkflowExecution", &workflowservice.RequestCancelWorkflowExecutionRequest{Namespace: ns, WorkflowExecution: exec}), authzconfig.RoleAdmin),
		r(wf("TerminateWorkflowExecution", &workflowservice.TerminateWorkflowExecutionRequest{Namespace: ns, WorkflowExecution: exec}), authzconfig.RoleAdmin),
		r(wf("ResetWorkflowExecution", &workflowservice.ResetWorkflowExecutionRequest{Namespace: ns, WorkflowExecution: exec}), authzconfig.RoleAdmin),
		r(wf("DeleteWorkflowExecution", &workflowservice.DeleteWorkflowExecutionRequest{Namespace: ns, WorkflowExecution: exec}), authzconfig.RoleAdmin),
		r(wf("CreateSchedule", &workflowservice.CreateScheduleRequest{Namespace: ns}), authzconfig.RoleAdmin),
		r(wf("UpdateWorkflowExecutionOptions", &workflowservice.UpdateWorkflowExecutionOptionsRequest{Namespace: ns}), authzconfig.RoleAdmin),
		r(wf("PauseActivity", &workflowservice.PauseActivityRequest{Namespace: ns}), authzconfig.RoleAdmin),
		r(wf("StartActivityExecution", &workflowservice.StartActivityExecutionRequest{Namespace: ns}), authzconfig.RoleAdmin),
		r(named("batch terminate", wf("StartBatchOperation", batch(&workflowservice.StartBatchOperationRequest{Operation: &workflowservice.StartBatchOperationRequest_TerminationOperation{TerminationOperation: &batchpb.BatchOperationTermination{}}}))), authzconfig.RoleAdmin),
		r(named("batch signal", wf("StartBatchOperation", batch(&workflowservice.StartBatchOperationRequest{Operation: &workflowservice.StartBatchOperationRequest_SignalOperation{SignalOperation: &batchpb.BatchOperationSignal{Signal: "decision"}}}))), authzconfig.RoleAdmin),
		r(named("batch cancel", wf("StartBatchOperation", batch(&workflowservice.StartBatchOperationRequest{Operation: &workflowservice.StartBatchOperationRequest_CancellationOperation{CancellationOperation: &batchpb.BatchOperationCancellation{}}}))), authzconfig.RoleAdmin),
		r(named("batch reset", wf("StartBatchOperation", batch(&workflowservice.StartBatchOperationRequest{Operation: &workflowservice.StartBatchOperationRequest_ResetOperation{ResetOperation: &batchpb.BatchOperationReset{}}}))), authzconfig.RoleAdmin),
		r(wf("StopBatchOperation", &workflowservice.StopBatchOperationRequest{Namespace: ns}), authzconfig.RoleAdmin),
		r(call{"AddSearchAttributes", "/temporal.api.operatorservice.v1.OperatorService/AddSearchAttributes", &operatorservice.AddSearchAttributesRequest{Namespace: ns}}, authzconfig.RoleAdmin),
		r(call{"DescribeMutableState", "/temporal.server.api.adminservice.v1.AdminService/DescribeMutableState", &adminservice.DescribeMutableStateRequest{Namespace: ns}}, authzconfig.RoleAdmin),
		r(call{"streaming replication", "/temporal.server.api.adminservice.v1.AdminService/StreamWorkflowReplicationMessages", nil}, authzconfig.RoleAdmin),
		// worker housekeeping
		r(wf("ShutdownWorker", &workflowservice.ShutdownWorkerRequest{Namespace: ns}), authzconfig.RoleOrchestrator, authzconfig.RoleBuild, authzconfig.RoleReview, authzconfig.RoleApproval, authzconfig.RoleDeploy, authzconfig.RoleAdmin),
		r(named("ShutdownWorker sticky", wf("ShutdownWorker", &workflowservice.ShutdownWorkerRequest{Namespace: ns, StickyTaskQueue: "host:uuid"})), authzconfig.RoleOrchestrator, authzconfig.RoleAdmin),
		r(wf("RecordWorkerHeartbeat", &workflowservice.RecordWorkerHeartbeatRequest{Namespace: ns}), authzconfig.RoleOrchestrator, authzconfig.RoleBuild, authzconfig.RoleReview, authzconfig.RoleApproval, authzconfig.RoleDeploy, authzconfig.RoleAdmin),
	}
}

func claimsOf(t *testing.T, m *ClaimMapper, key string) *authorization.Claims {
	t.Helper()
	c, err := m.GetClaims(&authorization.AuthInfo{AuthToken: "Bearer " + key})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAuthorizeTable: every identity × every call, through the claim mapper
// as the frontend runs it; denials are logged with identity, API and reason.
func TestAuthorizeTable(t *testing.T) {
	cfg := testConfig(t)
	var logs bytes.Buffer
	a := NewAuthorizer(cfg, &fakeResolver{pending}, slog.New(slog.NewTextHandler(&logs, nil)))
	m := NewClaimMapper(cfg)
	var tried, denied int
	for _, row := range calls(t) {
		for _, role := range authzconfig.AllRoles {
			want := false
			for _, r := range row.allowed {
				want = want || r == role
			}
			ns := ""
			if h, ok := row.req.(interface{ GetNamespace() string }); ok {
				ns = h.GetNamespace()
			}
			logs.Reset()
			res, err := a.Authorize(context.Background(), claimsOf(t, m, "key-"+role),
				&authorization.CallTarget{APIName: row.api, Namespace: ns, Request: row.req})
			if err != nil {
				t.Errorf("%s by %s: error %v", row.name, role, err)
				continue
			}
			got := res.Decision == authorization.DecisionAllow
			if authorization.IsHealthCheckAPI(row.api) {
				if !got {
					t.Errorf("%s by %s: health check denied", row.name, role)
				}
				continue
			}
			tried++
			if !got {
				denied++
			}
			if got != want {
				t.Errorf("%s by %s: allowed=%v, want %v (reason %q)", row.name, role, got, want, res.Reason)
				continue
			}
			switch {
			case !got && (!strings.Contains(logs.String(), "authz denied") || !strings.Contains(logs.String(), "identity=id-"+role) ||
				!strings.Contains(logs.String(), "api="+row.api) || res.Reason == ""):
				t.Errorf("%s by %s: denial not logged with identity, API and reason: %q", row.name, role, logs.String())
			case got && role == authzconfig.RoleAdmin && !strings.Contains(logs.String(), "authz admin"):
				t.Errorf("%s by admin: not logged", row.name)
			case got && res.Principal.GetName() != "id-"+role:
				t.Errorf("%s by %s: principal %v", row.name, role, res.Principal)
			}
		}
	}
	gotTried, gotDenied := a.Counts()
	if gotTried != int64(tried) || gotDenied != int64(denied) {
		t.Errorf("Counts() = %d, %d; want %d, %d", gotTried, gotDenied, tried, denied)
	}
	figures.Report(t, "authz denied %d / tried %d (every identity × every call that matters, on the authorizer; no forbidden call allowed)", denied, tried)
}

func TestAuthorizeWithoutCredential(t *testing.T) {
	cfg := testConfig(t)
	var logs bytes.Buffer
	a := NewAuthorizer(cfg, &fakeResolver{pending}, slog.New(slog.NewTextHandler(&logs, nil)))
	m := NewClaimMapper(cfg)
	bad := map[string]*authorization.Claims{"none": nil, "unknown key": claimsOf(t, m, "stolen?")}
	if c, _ := m.GetClaims(&authorization.AuthInfo{AuthToken: "Basic abc"}); c != nil {
		bad["not bearer"] = c
	}
	if c, _ := m.GetClaims(&authorization.AuthInfo{TLSSubject: &pkix.Name{CommonName: "intruder"}}); c != nil {
		bad["unknown certificate"] = c
	}
	if len(bad) != 4 {
		t.Fatalf("claims of bad credentials: %v", bad)
	}
	for what, claims := range bad {
		for _, row := range calls(t) {
			res, err := a.Authorize(context.Background(), claims, &authorization.CallTarget{APIName: row.api, Namespace: ns, Request: row.req})
			if err != nil {
				t.Fatal(err)
			}
			health := row.name == "GetSystemInfo" // a health check: open to all, as upstream
			if (res.Decision == authorization.DecisionAllow) != health {
				t.Errorf("%s with %s: %v", row.name, what, res.Decision)
			}
		}
	}
	if !strings.Contains(logs.String(), "reason=\"no credential\"") || !strings.Contains(logs.String(), "unknown API key") {
		t.Errorf("denials not logged: %s", logs.String())
	}
}

// TestAuthorizeInternal: the internal frontend's own claim mapper makes
// every caller the server; the authorizer allows only calls that came with a
// verified client certificate (internode mTLS), and counts them.
func TestAuthorizeInternal(t *testing.T) {
	cfg := testConfig(t)
	var logs bytes.Buffer
	a := NewAuthorizer(cfg, &fakeResolver{pending}, slog.New(slog.NewTextHandler(&logs, nil)))
	internal, _ := authorization.NewInternalClaimMapper().GetClaims(&authorization.AuthInfo{})
	target := &authorization.CallTarget{APIName: "/temporal.api.workflowservice.v1.WorkflowService/TerminateWorkflowExecution",
		Namespace: "temporal-system", Request: &workflowservice.TerminateWorkflowExecutionRequest{}}
	withPeer := func(info credentials.AuthInfo) context.Context {
		return peer.NewContext(context.Background(), &peer.Peer{AuthInfo: info})
	}
	verified := credentials.TLSInfo{State: tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{{}}}}}
	for what, ctx := range map[string]context.Context{"no peer": context.Background(), "plaintext": withPeer(nil),
		"TLS without a client certificate": withPeer(credentials.TLSInfo{})} {
		if res, _ := a.Authorize(ctx, internal, target); res.Decision != authorization.DecisionDeny {
			t.Errorf("internal call, %s: %v, want denied", what, res.Decision)
		}
	}
	if res, _ := a.Authorize(withPeer(verified), internal, target); res.Decision != authorization.DecisionAllow {
		t.Error("internal call over internode mTLS denied")
	}
	if calls, denied := a.InternalCounts(); calls != 4 || denied != 3 {
		t.Errorf("InternalCounts() = %d, %d; want 4, 3", calls, denied)
	}
	if !strings.Contains(logs.String(), "without a verified internode certificate") {
		t.Errorf("internal denial not logged: %s", logs.String())
	}
	figures.Report(t, "internal-frontend calls without a verified internode certificate denied 3 / 3 (no peer, plaintext, TLS without a client certificate)")
}

// An activity that is not pending: the caller gets NotFound, as from the
// server itself (the SDK then stops the activity), not a denial.
func TestAuthorizeActivityNotPending(t *testing.T) {
	cfg := testConfig(t)
	a := NewAuthorizer(cfg, &fakeResolver{pending}, slog.New(slog.DiscardHandler))
	m := NewClaimMapper(cfg)
	_, err := a.Authorize(context.Background(), claimsOf(t, m, "key-"+authzconfig.RoleDeploy), &authorization.CallTarget{
		APIName:   "/temporal.api.workflowservice.v1.WorkflowService/RecordActivityTaskHeartbeat",
		Namespace: ns, Request: &workflowservice.RecordActivityTaskHeartbeatRequest{Namespace: ns, TaskToken: token(t, 99, "Deploy")}})
	var nf *serviceerror.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("heartbeat of a finished activity: %v, want NotFound", err)
	}
}

func TestClaimMapper(t *testing.T) {
	cfg := testConfig(t)
	cfg.Identities[1].CertSubject = "CN=foureyes-build,O=example"
	m := NewClaimMapper(cfg)
	subject := &pkix.Name{CommonName: "foureyes-build", Organization: []string{"example"}}
	if authzconfig.SubjectString(subject) != "CN=foureyes-build,O=example" {
		t.Fatalf("subject prints as %q", authzconfig.SubjectString(subject))
	}
	cases := []struct {
		name     string
		info     authorization.AuthInfo
		identity string
		err      string
	}{
		{"api key", authorization.AuthInfo{AuthToken: "Bearer key-deploy"}, "id-deploy", ""},
		{"certificate", authorization.AuthInfo{TLSSubject: subject}, "id-build", ""},
		{"both, same identity", authorization.AuthInfo{AuthToken: "Bearer key-build", TLSSubject: subject}, "id-build", ""},
		{"both, different identities", authorization.AuthInfo{AuthToken: "Bearer key-admin", TLSSubject: subject}, "", "API key of id-admin with the certificate of id-build"},
		{"unknown key", authorization.AuthInfo{AuthToken: "Bearer nope"}, "", "unknown API key"},
		{"key without Bearer", authorization.AuthInfo{AuthToken: "key-admin"}, "", "not \"Bearer API-KEY\""},
		{"unknown certificate with a good key", authorization.AuthInfo{AuthToken: "Bearer key-admin", TLSSubject: &pkix.Name{CommonName: "x"}}, "", "unknown client certificate"},
	}
	for _, tc := range cases {
		c, err := m.GetClaims(&tc.info)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		caller, _ := claimsCaller(c)
		switch {
		case caller == nil:
			t.Errorf("%s: no caller", tc.name)
		case tc.err != "" && !strings.Contains(caller.Err, tc.err):
			t.Errorf("%s: error %q, want %q", tc.name, caller.Err, tc.err)
		case tc.err == "" && (caller.Err != "" || caller.Identity != tc.identity || c.Subject != tc.identity):
			t.Errorf("%s: %+v, want %s", tc.name, caller, tc.identity)
		}
	}
}
