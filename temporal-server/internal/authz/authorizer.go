package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"

	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/api"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/tasktoken"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"github.com/foureyes/foureyes/formats/authzconfig"
)

// Authorizer allows each identity only what its role may do (README of
// temporal-server, "Rules"), looking into the request: task queues of polls,
// workflow type and queue of starts, update names, the activity a task token
// or an activity id names (looked up in the workflow's state: tokens are not
// signed), the commands of the orchestrator's workflow tasks, and what batch
// operations, multi-operations and signal-with-start contain. Admin calls are
// all allowed and each one logged; every denial is logged with the identity,
// the API and the reason.
type Authorizer struct {
	cfg      *authzconfig.Config
	resolver Resolver
	log      *slog.Logger
	tokens   *tasktoken.Serializer

	tried, denied atomic.Int64
	internal      atomic.Int64 // calls through the internal frontend
	internalBad   atomic.Int64 // of which without internode mTLS: denied
}

var _ authorization.Authorizer = (*Authorizer)(nil)

// NewAuthorizer returns the authorizer of c. resolver finds the activity a
// task token or activity id names; log receives denials and admin calls.
func NewAuthorizer(c *authzconfig.Config, resolver Resolver, log *slog.Logger) *Authorizer {
	return &Authorizer{cfg: c, resolver: resolver, log: log, tokens: tasktoken.NewSerializer()}
}

// Counts returns how many external calls were judged and how many denied.
func (a *Authorizer) Counts() (tried, denied int64) { return a.tried.Load(), a.denied.Load() }

// InternalCounts returns how many calls came through the internal frontend
// (the server's own) and how many of those were denied for lack of a
// verified internode certificate.
func (a *Authorizer) InternalCounts() (calls, denied int64) {
	return a.internal.Load(), a.internalBad.Load()
}

// denial is a refused call; the reason is logged and returned to the caller.
type denial struct{ reason string }

func (d *denial) Error() string { return d.reason }

func deny(format string, args ...any) error { return &denial{reason: fmt.Sprintf(format, args...)} }

// isInternal: the server's own calls through the internal frontend, whose
// claim mapper (not ours) gives them this principal. Our ClaimMapper never
// makes claims of this auth type.
func isInternal(c *authorization.Claims) bool {
	return c != nil && c.AuthType == authorization.InternalPrincipalType && c.Subject == authorization.InternalPrincipalName
}

// Authorize implements authorization.Authorizer.
func (a *Authorizer) Authorize(ctx context.Context, claims *authorization.Claims, t *authorization.CallTarget) (authorization.Result, error) {
	if authorization.IsHealthCheckAPI(t.APIName) {
		return authorization.Result{Decision: authorization.DecisionAllow}, nil
	}
	if isInternal(claims) {
		return a.authorizeInternal(ctx, t), nil
	}
	a.tried.Add(1)
	caller, _ := claimsCaller(claims)
	var err error
	switch {
	case caller == nil:
		err = deny("no credential")
	case caller.Err != "":
		err = deny("%s", caller.Err)
	case caller.Role == authzconfig.RoleAdmin:
		a.log.Info("authz admin", "identity", caller.Identity, "api", t.APIName, "namespace", t.Namespace)
	default:
		err = a.check(ctx, caller, t)
	}
	if err == nil {
		return authorization.Result{Decision: authorization.DecisionAllow,
			Principal: &commonpb.Principal{Type: claims.AuthType, Name: caller.Identity}}, nil
	}
	identity, role := "", ""
	if caller != nil {
		identity, role = caller.Identity, caller.Role
	}
	var d *denial
	if !errors.As(err, &d) {
		// Not a decision: the activity could not be looked up (not
		// pending: NotFound, as the server would answer; or unavailable).
		a.log.Warn("authz lookup failed", "identity", identity, "role", role, "api", t.APIName, "error", err.Error())
		return authorization.Result{}, err
	}
	a.denied.Add(1)
	a.log.Warn("authz denied", "identity", identity, "role", role, "api", t.APIName,
		"namespace", t.Namespace, "reason", d.reason)
	return authorization.Result{Decision: authorization.DecisionDeny, Reason: d.reason}, nil
}

// authorizeInternal: the internal frontend's claim mapper makes every
// caller the server, whatever it presented, so only the transport tells the
// server from another local process. Its listener requires the internode
// certificate; a call without a verified one (a listener ever configured
// without client authentication) is denied here too, and logged.
func (a *Authorizer) authorizeInternal(ctx context.Context, t *authorization.CallTarget) authorization.Result {
	a.internal.Add(1)
	if verifiedPeer(ctx) {
		return authorization.Result{Decision: authorization.DecisionAllow}
	}
	a.internalBad.Add(1)
	const reason = "internal frontend call without a verified internode certificate"
	a.log.Warn("authz denied", "identity", "", "role", "internal", "api", t.APIName,
		"namespace", t.Namespace, "reason", reason)
	return authorization.Result{Decision: authorization.DecisionDeny, Reason: reason}
}

// verifiedPeer: the call came over TLS with a client certificate the
// server verified against its client CA.
func verifiedPeer(ctx context.Context) bool {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return false
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	return ok && len(info.State.VerifiedChains) > 0
}

func claimsCaller(c *authorization.Claims) (*Caller, bool) {
	if c == nil {
		return nil, false
	}
	caller, ok := c.Extensions.(*Caller)
	return caller, ok
}

const (
	wfPrefix = api.WorkflowServicePrefix
	opPrefix = api.OperatorServicePrefix
)

// check decides a non-admin call: nil allows it, a *denial refuses it, any
// other error is returned to the caller as it is.
func (a *Authorizer) check(ctx context.Context, c *Caller, t *authorization.CallTarget) error {
	if t.Request == nil {
		return deny("%s may not call streaming API %s", c.Role, t.APIName)
	}
	md := api.GetMethodMetadata(t.APIName)
	switch md.Scope {
	case api.ScopeNamespace:
		if t.Namespace != a.cfg.Namespace {
			return deny("namespace %q: %s may use only %q", t.Namespace, c.Identity, a.cfg.Namespace)
		}
	case api.ScopeCluster:
	default:
		return deny("unknown API %s", t.APIName)
	}
	service, method := api.ServiceName(t.APIName), api.MethodName(t.APIName)
	if service != wfPrefix && service != opPrefix {
		return deny("%s may not call %s", c.Role, t.APIName)
	}
	// Every identity: what a client or worker asks when it connects.
	if service == wfPrefix && (method == "GetClusterInfo" || method == "DescribeNamespace") {
		return nil
	}
	// Readers: everything the server marks read-only.
	if (c.Role == authzconfig.RoleOperator || c.Role == authzconfig.RoleReleaseManager) && md.Access == api.AccessReadOnly {
		return nil
	}
	if service == wfPrefix {
		if err, decided := a.checkWorkflowService(ctx, c, method, t); decided {
			return err
		}
	}
	return deny("%s may not call %s", c.Role, method)
}

// checkWorkflowService decides the WorkflowService calls some non-admin role
// may make; decided is false for a call no rule covers.
func (a *Authorizer) checkWorkflowService(ctx context.Context, c *Caller, method string, t *authorization.CallTarget) (err error, decided bool) {
	switch req := t.Request.(type) {
	case *workflowservice.ExecuteMultiOperationRequest:
		return a.checkMultiOperation(ctx, c, req), true
	case *workflowservice.SignalWithStartWorkflowExecutionRequest:
		return a.checkSignalWithStart(ctx, c, req), true
	case *workflowservice.StartBatchOperationRequest:
		return a.checkBatch(ctx, c, req), true
	}
	if _, worker := a.cfg.Roles[c.Role]; worker {
		if err, decided := a.checkWorker(ctx, c, t); decided {
			return err, true
		}
	}
	switch c.Role {
	case authzconfig.RoleOrchestrator:
		return a.checkOrchestrator(c, method, t)
	case authzconfig.RoleApproval:
		return a.checkApproval(c, method, t)
	case authzconfig.RoleDeploy:
		// The deploy role judges a release from its own history (what it was
		// started with, the Updates the approval role sent), not its caller.
		if method == "GetWorkflowExecutionHistory" {
			return nil, true
		}
	case authzconfig.RoleReleaseManager:
		if req, ok := t.Request.(*workflowservice.StartWorkflowExecutionRequest); ok {
			return a.checkStart(c, req), true
		}
	}
	return nil, false
}

// checkWorker: what every worker role does on its own queue.
func (a *Authorizer) checkWorker(ctx context.Context, c *Caller, t *authorization.CallTarget) (error, bool) {
	own := a.cfg.Roles[c.Role]
	switch req := t.Request.(type) {
	case *workflowservice.RecordWorkerHeartbeatRequest:
		return nil, true
	case *workflowservice.ShutdownWorkerRequest:
		if req.GetTaskQueue() != "" && req.GetTaskQueue() != own.TaskQueue {
			return deny("%s may not shut down workers of %q", c.Role, req.GetTaskQueue()), true
		}
		if req.GetStickyTaskQueue() != "" && c.Role != authzconfig.RoleOrchestrator {
			return deny("%s has no sticky queue", c.Role), true
		}
		return nil, true
	case *workflowservice.PollActivityTaskQueueRequest:
		tq := req.GetTaskQueue()
		if tq.GetKind() == enumspb.TASK_QUEUE_KIND_STICKY || tq.GetName() != own.TaskQueue {
			return deny("%s may poll activity tasks only on %q (not %q)", c.Role, own.TaskQueue, tq.GetName()), true
		}
		return nil, true
	case *workflowservice.RespondActivityTaskCompletedRequest:
		return a.checkToken(ctx, c, t.Namespace, req.GetTaskToken()), true
	case *workflowservice.RespondActivityTaskFailedRequest:
		return a.checkToken(ctx, c, t.Namespace, req.GetTaskToken()), true
	case *workflowservice.RespondActivityTaskCanceledRequest:
		return a.checkToken(ctx, c, t.Namespace, req.GetTaskToken()), true
	case *workflowservice.RecordActivityTaskHeartbeatRequest:
		return a.checkToken(ctx, c, t.Namespace, req.GetTaskToken()), true
	case *workflowservice.RespondActivityTaskCompletedByIdRequest:
		return a.checkActivityID(ctx, c, t.Namespace, req.GetWorkflowId(), req.GetRunId(), req.GetActivityId()), true
	case *workflowservice.RespondActivityTaskFailedByIdRequest:
		return a.checkActivityID(ctx, c, t.Namespace, req.GetWorkflowId(), req.GetRunId(), req.GetActivityId()), true
	case *workflowservice.RespondActivityTaskCanceledByIdRequest:
		return a.checkActivityID(ctx, c, t.Namespace, req.GetWorkflowId(), req.GetRunId(), req.GetActivityId()), true
	case *workflowservice.RecordActivityTaskHeartbeatByIdRequest:
		return a.checkActivityID(ctx, c, t.Namespace, req.GetWorkflowId(), req.GetRunId(), req.GetActivityId()), true
	}
	return nil, false
}

// checkToken: the task token names the activity; its claimed type is not
// trusted (the server does not compare it), the workflow's state is.
func (a *Authorizer) checkToken(ctx context.Context, c *Caller, ns string, token []byte) error {
	tok, err := a.tokens.Deserialize(token)
	if err != nil {
		return deny("malformed task token")
	}
	if len(tok.GetComponentRef()) > 0 || tok.GetWorkflowId() == "" {
		return deny("task token of a standalone activity: %s completes only workflow activities", c.Role)
	}
	var ref ActivityRef
	if tok.GetScheduledEventId() == 0 {
		// The server then finds the activity by its id.
		if tok.GetActivityId() == "" {
			return deny("task token names no activity")
		}
		ref, err = a.resolver.ActivityByID(ctx, ns, tok.GetWorkflowId(), tok.GetRunId(), tok.GetActivityId())
	} else {
		ref, err = a.resolver.ActivityByEvent(ctx, ns, tok.GetWorkflowId(), tok.GetRunId(), tok.GetScheduledEventId())
	}
	if err != nil {
		return err
	}
	return a.ownActivity(c, ref)
}

func (a *Authorizer) checkActivityID(ctx context.Context, c *Caller, ns, workflowID, runID, activityID string) error {
	if workflowID == "" || activityID == "" {
		return deny("workflow id and activity id required")
	}
	ref, err := a.resolver.ActivityByID(ctx, ns, workflowID, runID, activityID)
	if err != nil {
		return err
	}
	return a.ownActivity(c, ref)
}

func (a *Authorizer) ownActivity(c *Caller, ref ActivityRef) error {
	own := a.cfg.Roles[c.Role]
	if ref.TaskQueue != own.TaskQueue || !slices.Contains(own.ActivityTypes, ref.Type) {
		return deny("activity %s on %q is not %s's", ref.Type, ref.TaskQueue, c.Role)
	}
	return nil
}

// checkOrchestrator: workflow tasks of its own queue (sticky queues count as
// their normal queue) and what their completions may do.
func (a *Authorizer) checkOrchestrator(c *Caller, method string, t *authorization.CallTarget) (error, bool) {
	own := a.cfg.Roles[authzconfig.RoleOrchestrator]
	switch req := t.Request.(type) {
	case *workflowservice.PollWorkflowTaskQueueRequest:
		tq := req.GetTaskQueue()
		name := tq.GetName()
		if tq.GetKind() == enumspb.TASK_QUEUE_KIND_STICKY {
			name = tq.GetNormalName()
		}
		if name != own.TaskQueue {
			return deny("orchestrator may poll workflow tasks only on %q (not %q)", own.TaskQueue, name), true
		}
		return nil, true
	case *workflowservice.RespondWorkflowTaskCompletedRequest:
		return a.checkCommands(req.GetCommands()), true
	}
	switch method {
	case "RespondWorkflowTaskFailed", "RespondQueryTaskCompleted", "GetWorkflowExecutionHistory", "ResetStickyTaskQueue":
		return nil, true
	}
	return nil, false
}

// checkCommands: the workflow may schedule only the known activity types,
// each on its own role's queue, and may not touch other workflows (signal,
// cancel, child), continue as new or call Nexus.
func (a *Authorizer) checkCommands(cmds []*commandpb.Command) error {
	own := a.cfg.Roles[authzconfig.RoleOrchestrator].TaskQueue
	for i, cmd := range cmds {
		switch cmd.GetCommandType() {
		case enumspb.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK:
			attr := cmd.GetScheduleActivityTaskCommandAttributes()
			typ, queue := attr.GetActivityType().GetName(), attr.GetTaskQueue().GetName()
			if queue == "" {
				queue = own // the server's default: the workflow's queue
			}
			role, ok := a.cfg.ActivityOwner(typ)
			if !ok {
				return deny("command %d schedules unknown activity type %q", i, typ)
			}
			if want := a.cfg.QueueOf(role); queue != want || attr.GetTaskQueue().GetKind() == enumspb.TASK_QUEUE_KIND_STICKY {
				return deny("command %d schedules %s on %q: it runs on %q", i, typ, queue, want)
			}
			if attr.GetRequestEagerExecution() && queue != own {
				return deny("command %d asks to run %s eagerly in the orchestrator", i, typ)
			}
		case enumspb.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK,
			enumspb.COMMAND_TYPE_START_TIMER,
			enumspb.COMMAND_TYPE_CANCEL_TIMER,
			enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
			enumspb.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
			enumspb.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION,
			enumspb.COMMAND_TYPE_RECORD_MARKER,
			enumspb.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
			enumspb.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES,
			enumspb.COMMAND_TYPE_PROTOCOL_MESSAGE:
		default:
			return deny("command %d: %s is not allowed to the orchestrator", i, cmd.GetCommandType())
		}
	}
	return nil
}

// checkApproval: the gateway's updates, and the reads it answers with; the
// history, where a gate's later notices find the facts their prompt carried.
func (a *Authorizer) checkApproval(c *Caller, method string, t *authorization.CallTarget) (error, bool) {
	switch req := t.Request.(type) {
	case *workflowservice.UpdateWorkflowExecutionRequest:
		return a.checkUpdate(c, req), true
	}
	switch method {
	case "QueryWorkflow", "DescribeWorkflowExecution", "PollWorkflowExecutionUpdate", "GetWorkflowExecutionHistory":
		return nil, true
	}
	return nil, false
}

func (a *Authorizer) checkUpdate(c *Caller, req *workflowservice.UpdateWorkflowExecutionRequest) error {
	name := req.GetRequest().GetInput().GetName()
	if c.Role != authzconfig.RoleApproval || !slices.Contains(a.cfg.Roles[authzconfig.RoleApproval].Updates, name) {
		return deny("%s may not send update %q", c.Role, name)
	}
	return nil
}

// checkStart: the release manager starts the orchestrator's workflow types
// on its queue, without options that would hand it a workflow task,
// terminate a running workflow or run it again by itself.
func (a *Authorizer) checkStart(c *Caller, req *workflowservice.StartWorkflowExecutionRequest) error {
	if c.Role != authzconfig.RoleReleaseManager {
		return deny("%s may not start workflows", c.Role)
	}
	orch := a.cfg.Roles[authzconfig.RoleOrchestrator]
	typ, tq := req.GetWorkflowType().GetName(), req.GetTaskQueue()
	switch {
	case !slices.Contains(orch.WorkflowTypes, typ):
		return deny("workflow type %q may not be started (only %v)", typ, orch.WorkflowTypes)
	case tq.GetName() != orch.TaskQueue || tq.GetKind() == enumspb.TASK_QUEUE_KIND_STICKY:
		return deny("%s starts only on %q (not %q)", typ, orch.TaskQueue, tq.GetName())
	case req.GetRequestEagerExecution():
		return deny("eager start would hand the caller the first workflow task")
	case req.GetWorkflowIdConflictPolicy() == enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING,
		req.GetWorkflowIdReusePolicy() == enumspb.WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING:
		return deny("start would terminate a running workflow")
	case req.GetCronSchedule() != "":
		return deny("cron schedules are not allowed")
	case len(req.GetCompletionCallbacks()) > 0:
		return deny("completion callbacks are not allowed")
	case req.GetVersioningOverride() != nil:
		return deny("versioning overrides are not allowed")
	}
	return nil
}

// checkMultiOperation: every operation must be allowed on its own.
func (a *Authorizer) checkMultiOperation(ctx context.Context, c *Caller, req *workflowservice.ExecuteMultiOperationRequest) error {
	if len(req.GetOperations()) == 0 {
		return deny("empty multi-operation")
	}
	for i, op := range req.GetOperations() {
		var sub *authorization.CallTarget
		switch {
		case op.GetStartWorkflow() != nil:
			sub = &authorization.CallTarget{APIName: wfPrefix + "StartWorkflowExecution",
				Namespace: op.GetStartWorkflow().GetNamespace(), Request: op.GetStartWorkflow()}
		case op.GetUpdateWorkflow() != nil:
			sub = &authorization.CallTarget{APIName: wfPrefix + "UpdateWorkflowExecution",
				Namespace: op.GetUpdateWorkflow().GetNamespace(), Request: op.GetUpdateWorkflow()}
		default:
			return deny("multi-operation %d: unknown operation", i)
		}
		if err := a.check(ctx, c, sub); err != nil {
			return wrapDenial(err, "multi-operation %d: ", i)
		}
	}
	return nil
}

// checkSignalWithStart: both the signal and the start must be allowed.
func (a *Authorizer) checkSignalWithStart(ctx context.Context, c *Caller, req *workflowservice.SignalWithStartWorkflowExecutionRequest) error {
	signal := &workflowservice.SignalWorkflowExecutionRequest{Namespace: req.GetNamespace(),
		WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: req.GetWorkflowId()}, SignalName: req.GetSignalName()}
	if err := a.check(ctx, c, &authorization.CallTarget{APIName: wfPrefix + "SignalWorkflowExecution",
		Namespace: req.GetNamespace(), Request: signal}); err != nil {
		return wrapDenial(err, "signal-with-start: ")
	}
	start := &workflowservice.StartWorkflowExecutionRequest{Namespace: req.GetNamespace(), WorkflowId: req.GetWorkflowId(),
		WorkflowType: req.GetWorkflowType(), TaskQueue: req.GetTaskQueue(), WorkflowIdReusePolicy: req.GetWorkflowIdReusePolicy(),
		WorkflowIdConflictPolicy: req.GetWorkflowIdConflictPolicy(), CronSchedule: req.GetCronSchedule(),
		VersioningOverride: req.GetVersioningOverride()}
	if err := a.check(ctx, c, &authorization.CallTarget{APIName: wfPrefix + "StartWorkflowExecution",
		Namespace: req.GetNamespace(), Request: start}); err != nil {
		return wrapDenial(err, "signal-with-start: ")
	}
	return nil
}

// checkBatch: a batch is judged as the single call it repeats.
func (a *Authorizer) checkBatch(ctx context.Context, c *Caller, req *workflowservice.StartBatchOperationRequest) error {
	ns := req.GetNamespace()
	var method string
	var sub any
	switch {
	case req.GetTerminationOperation() != nil:
		method, sub = "TerminateWorkflowExecution", &workflowservice.TerminateWorkflowExecutionRequest{Namespace: ns}
	case req.GetSignalOperation() != nil:
		method, sub = "SignalWorkflowExecution", &workflowservice.SignalWorkflowExecutionRequest{Namespace: ns,
			SignalName: req.GetSignalOperation().GetSignal()}
	case req.GetCancellationOperation() != nil:
		method, sub = "RequestCancelWorkflowExecution", &workflowservice.RequestCancelWorkflowExecutionRequest{Namespace: ns}
	case req.GetDeletionOperation() != nil:
		method, sub = "DeleteWorkflowExecution", &workflowservice.DeleteWorkflowExecutionRequest{Namespace: ns}
	case req.GetResetOperation() != nil:
		method, sub = "ResetWorkflowExecution", &workflowservice.ResetWorkflowExecutionRequest{Namespace: ns}
	case req.GetUpdateWorkflowOptionsOperation() != nil:
		method, sub = "UpdateWorkflowExecutionOptions", &workflowservice.UpdateWorkflowExecutionOptionsRequest{Namespace: ns}
	case req.GetUnpauseActivitiesOperation() != nil:
		method, sub = "UnpauseActivity", &workflowservice.UnpauseActivityRequest{Namespace: ns}
	case req.GetResetActivitiesOperation() != nil:
		method, sub = "ResetActivity", &workflowservice.ResetActivityRequest{Namespace: ns}
	case req.GetUpdateActivityOptionsOperation() != nil:
		method, sub = "UpdateActivityOptions", &workflowservice.UpdateActivityOptionsRequest{Namespace: ns}
	case req.GetCancelActivitiesOperation() != nil:
		method, sub = "RequestCancelActivityExecution", &workflowservice.RequestCancelActivityExecutionRequest{Namespace: ns}
	case req.GetTerminateActivitiesOperation() != nil:
		method, sub = "TerminateActivityExecution", &workflowservice.TerminateActivityExecutionRequest{Namespace: ns}
	case req.GetDeleteActivitiesOperation() != nil:
		method, sub = "DeleteActivityExecution", &workflowservice.DeleteActivityExecutionRequest{Namespace: ns}
	default:
		return deny("batch operation of an unknown kind")
	}
	if err := a.check(ctx, c, &authorization.CallTarget{APIName: wfPrefix + method, Namespace: ns, Request: sub}); err != nil {
		return wrapDenial(err, "batch %s: ", method)
	}
	return nil
}

func wrapDenial(err error, format string, args ...any) error {
	var d *denial
	if errors.As(err, &d) {
		return &denial{reason: fmt.Sprintf(format, args...) + d.reason}
	}
	return err
}

// errNotPending is what a completion of an activity that is not pending gets
// (as the server itself would answer: the SDK then stops the activity).
func errNotPending(what string) error {
	return serviceerror.NewNotFound(what + " is not pending")
}
