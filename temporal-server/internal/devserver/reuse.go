package devserver

import (
	"context"
	"log/slog"
	"slices"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"

	"github.com/foureyes/foureyes/formats/authzconfig"
)

// singleRunInterceptor makes the id of a release (a workflow type the
// orchestrator runs: Release) good for one run only. A release's signed
// decisions name its workflow id: a second run under the id of a closed
// release, or of a running one terminated to make room, could be fed the
// first one's decisions. Every start of such a type (StartWorkflowExecution,
// SignalWithStartWorkflowExecution, ExecuteMultiOperation's start) gets
// WorkflowIdReusePolicy REJECT_DUPLICATE, and a conflict policy that would
// terminate the running one becomes FAIL; USE_EXISTING stays (it starts
// nothing). Callers that set no policy keep working; an overridden explicit
// policy is logged. It runs after authorization, on the request as judged.
func singleRunInterceptor(cfg *authzconfig.Config, log *slog.Logger) grpc.UnaryServerInterceptor {
	types := cfg.Roles[authzconfig.RoleOrchestrator].WorkflowTypes
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		for _, s := range starts(req) {
			if !slices.Contains(types, s.typ) {
				continue
			}
			if asked := forceSingleRun(s.reuse, s.conflict); asked != "" {
				log.Info("release id policy forced", "api", info.FullMethod, "workflow_id", s.id,
					"workflow_type", s.typ, "asked", asked)
			}
		}
		return handler(ctx, req)
	}
}

// start is one workflow start inside a request: pointers into it.
type start struct {
	id, typ  string
	reuse    *enumspb.WorkflowIdReusePolicy
	conflict *enumspb.WorkflowIdConflictPolicy
}

func starts(req any) []start {
	switch r := req.(type) {
	case *workflowservice.StartWorkflowExecutionRequest:
		return []start{{r.GetWorkflowId(), r.GetWorkflowType().GetName(), &r.WorkflowIdReusePolicy, &r.WorkflowIdConflictPolicy}}
	case *workflowservice.SignalWithStartWorkflowExecutionRequest:
		return []start{{r.GetWorkflowId(), r.GetWorkflowType().GetName(), &r.WorkflowIdReusePolicy, &r.WorkflowIdConflictPolicy}}
	case *workflowservice.ExecuteMultiOperationRequest:
		var out []start
		for _, op := range r.GetOperations() {
			if s := op.GetStartWorkflow(); s != nil {
				out = append(out, start{s.GetWorkflowId(), s.GetWorkflowType().GetName(), &s.WorkflowIdReusePolicy, &s.WorkflowIdConflictPolicy})
			}
		}
		return out
	}
	return nil
}

// forceSingleRun sets REJECT_DUPLICATE and turns TERMINATE_EXISTING (and
// the deprecated TERMINATE_IF_RUNNING, which implies it) into FAIL. It
// returns what the caller had asked for when that was something else
// explicit, "" otherwise.
func forceSingleRun(reuse *enumspb.WorkflowIdReusePolicy, conflict *enumspb.WorkflowIdConflictPolicy) string {
	//nolint:staticcheck // SA1019: the deprecated policy still arrives from old clients
	terminates := *reuse == enumspb.WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING ||
		*conflict == enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING
	explicit := *reuse != enumspb.WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED && *reuse != enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	asked := ""
	if terminates || explicit {
		asked = reuse.String() + "/" + conflict.String()
	}
	if terminates {
		*conflict = enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL
	}
	*reuse = enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	return asked
}
