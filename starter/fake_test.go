package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"sync"
	"testing"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/foureyes/foureyes/api"
)

// fakeTemporal records what the CLI asks of Temporal and answers from its fields.
type fakeTemporal struct {
	client.Client
	mu          sync.Mutex
	queries     map[string]any // query name -> answer
	queryErr    error
	describe    enums.WorkflowExecutionStatus // 0: NotFound
	signalErr   error
	result      api.ReleaseResult
	resultErr   error
	executions  []*workflowpb.WorkflowExecutionInfo
	listQueries []string
	started     []client.StartWorkflowOptions
	startArgs   []any
	signals     []any
	signalNames []string
	closed      bool
}

func (f *fakeTemporal) Close() { f.closed = true }

func (f *fakeTemporal) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, wf any, args ...any) (client.WorkflowRun, error) {
	f.started = append(f.started, o)
	f.startArgs = append(f.startArgs, append([]any{wf}, args...)...)
	return &fakeRun{id: o.ID, f: f}, nil
}

func (f *fakeTemporal) GetWorkflow(_ context.Context, id, _ string) client.WorkflowRun {
	return &fakeRun{id: id, f: f}
}

func (f *fakeTemporal) SignalWorkflow(_ context.Context, id, _, name string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signalNames = append(f.signalNames, name)
	f.signals = append(f.signals, arg)
	return f.signalErr
}

func (f *fakeTemporal) QueryWorkflow(_ context.Context, id, _, name string, _ ...any) (converter.EncodedValue, error) {
	if f.queryErr != nil {
		return nil, f.queryErr
	}
	v, ok := f.queries[name]
	if !ok {
		return nil, serviceerror.NewNotFound("workflow not found for ID: " + id)
	}
	return jsonValue{v}, nil
}

func (f *fakeTemporal) DescribeWorkflowExecution(_ context.Context, id, _ string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	if f.describe == enums.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED {
		return nil, serviceerror.NewNotFound("workflow not found for ID: " + id)
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{
		Status: f.describe, CloseTime: timestamppb.Now()}}, nil
}

func (f *fakeTemporal) ListWorkflow(_ context.Context, r *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.listQueries = append(f.listQueries, r.Query)
	return &workflowservice.ListWorkflowExecutionsResponse{Executions: f.executions}, nil
}

// fakeRun answers Get with the fake's result.
type fakeRun struct {
	client.WorkflowRun
	id string
	f  *fakeTemporal
}

func (r *fakeRun) GetID() string    { return r.id }
func (r *fakeRun) GetRunID() string { return "run-1" }
func (r *fakeRun) Get(_ context.Context, ptr any) error {
	if r.f.resultErr != nil {
		return r.f.resultErr
	}
	return jsonValue{r.f.result}.Get(ptr)
}

// jsonValue is a converter.EncodedValue holding a Go value.
type jsonValue struct{ v any }

func (j jsonValue) HasValue() bool { return j.v != nil }
func (j jsonValue) Get(ptr any) error {
	b, err := json.Marshal(j.v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, ptr)
}

// cli runs the CLI in-process against fake (nil: dialing must not happen).
func cli(t *testing.T, fake *fakeTemporal, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	old := dial
	t.Cleanup(func() { dial = old })
	dial = func(*env) (client.Client, error) {
		if fake == nil {
			t.Fatalf("unexpected dial for %v", args)
		}
		return fake, nil
	}
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// GetWorkflowHistory has no events: the fake's releases are untraced.
func (f *fakeTemporal) GetWorkflowHistory(context.Context, string, string, bool, enums.HistoryEventFilterType) client.HistoryEventIterator {
	return emptyHistory{}
}

type emptyHistory struct{}

func (emptyHistory) HasNext() bool                          { return false }
func (emptyHistory) Next() (*historypb.HistoryEvent, error) { return nil, io.EOF }
