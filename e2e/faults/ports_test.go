package faults

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/procstat"
)

// noCredential (issue "One judge", attack 2): any local process could call
// the server's internal frontend with no credential and terminate a
// release. Every port the server process listens on, but the frontend
// (which wants an API key), is tried with plaintext gRPC and with TLS and
// no client certificate: none terminates the release.
func (a *attackRun) noCredential(ctx context.Context, t *testing.T) {
	id, err := a.startRelease(ctx, "payments", commitOf("no-credential"))
	require(t, err)
	a.aim(id)
	require(t, a.s.WaitStatus(ctx, id, api.StatusAwaitingReview))
	ports, err := procstat.ListeningPorts(a.s.Local.Server.Pid())
	require(t, err)
	_, front, _ := net.SplitHostPort(a.s.Local.Server.Addr)
	tried := 0
	for _, p := range ports {
		if strconv.Itoa(p) == front {
			continue
		}
		tried++
		a.attempt(t, "no credential", fmt.Sprintf("port %d: terminate a running release, plaintext and TLS without a certificate", p),
			func() error { return a.anonymousTerminate(ctx, p, id) })
	}
	if tried < 3 {
		t.Errorf("the server listens on %v: want the internal frontend, history and matching besides the frontend", ports)
	}
}

// anonymousTerminate tries TerminateWorkflowExecution of id on port with
// no credential; it returns nil when every try failed and id still runs.
func (a *attackRun) anonymousTerminate(ctx context.Context, port int, id string) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for _, creds := range []credentials.TransportCredentials{insecure.NewCredentials(),
		credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})} { //nolint:gosec // the attacker trusts anything
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
		if err != nil {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		_, err = workflowservice.NewWorkflowServiceClient(conn).TerminateWorkflowExecution(cctx, &workflowservice.TerminateWorkflowExecutionRequest{
			Namespace: "default", WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: id}, Reason: "anonymous"})
		cancel()
		conn.Close()
		if err == nil {
			return fmt.Errorf("%s answered an anonymous TerminateWorkflowExecution", addr)
		}
	}
	d, err := a.s.Client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return err
	}
	if st := d.WorkflowExecutionInfo.GetStatus(); st != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return fmt.Errorf("release %s is %s after the anonymous calls", id, st)
	}
	return nil
}
