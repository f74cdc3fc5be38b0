package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/codec"
	"github.com/foureyes/foureyes/internal/devstack"
	"github.com/foureyes/foureyes/internal/payloads"
)

// TestPayloadsEncryptedAcrossAKeyRotation: a release starts under the
// stack's key 1, every role restarts with key 2 active and key 1
// decrypt-only, and the release finishes deployed under key 2. Its history
// holds no payload in plaintext (search attributes and headers excepted, by
// design), and the server's SQLite file none of its commit message, author
// email, title or comments, while the plaintext search attribute shows the
// reading finds what is there.
func TestPayloadsEncryptedAcrossAKeyRotation(t *testing.T) {
	s := startStack(t, nil)
	ctx := context.Background()
	secret := uuid.NewString()[:8] // unique to this run: found only where written
	title := "Encrypted title " + secret
	id := fmt.Sprintf("release-payments-prod-%s", uuid.NewString())
	_, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: api.QueueOrchestrator},
		api.WorkflowRelease, api.ReleaseRequest{Service: "payments", Environment: "prod", Commit: s.git.A,
			Authors: []string{"alice"}, Requester: "rita", Title: title})
	require.NoError(t, err)
	s.waitStatus(id, api.StatusAwaitingReview)

	creds := s.Local.Credentials()
	key1 := creds.PayloadKeyFile()
	key2, err := codec.WriteKeyFile(filepath.Dir(key1), "payload-2")
	require.NoError(t, err)
	s.Local.PayloadKeys = []string{key2, key1}
	s.Local.StopRoles()
	require.NoError(t, s.StartRoles(ctx), "every role and the admin's client now hold key 2 (active) and key 1")

	comments := map[string]string{}
	for _, d := range []struct{ gate, who string }{{"review", "bob"}, {"approval", "carol"}, {"approval", "dave"}} {
		comments[d.who] = d.who + " comment " + secret
		s.waitOpenGate(id, d.gate)
		code, a, err := s.DecideOnce(ctx, d.who, api.DecisionRequest{ReleaseID: id, Gate: d.gate,
			Verdict: api.VerdictApprove, Comment: comments[d.who]})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code, a.Reason)
	}
	res := s.resultOf(id)
	require.Equal(t, api.StatusDeployed, res.Status, res.Reason)

	keys := s.payloadKeysOf(id)
	require.Equal(t, "payload-1", keys[enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED], "started under key 1")
	require.Equal(t, "payload-2", keys[enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED], "finished under key 2")
	require.Equal(t, "payload-2", keys[enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED], "decisions under key 2")

	secrets := []string{title, "payments: faster card refunds", "alice@example.com"}
	for _, c := range comments {
		secrets = append(secrets, c)
	}
	s.checkDatabase(creds.Dir, s.git.A, secrets)
	s.checkCLIDecodes(id, title)
}

// checkCLIDecodes: `temporal workflow show` shows ciphertext, the title in
// plaintext only through the codec server with an operator's key (the
// release manager's may not read: the CLI gives up with a deadline), and
// the codec server logged the decodes.
func (s *stackT) checkCLIDecodes(id, title string) {
	plain, err := s.workflowShow(id, devstack.IdentityOperator, "")
	require.NoError(s.t, err)
	enc, data := startInput(s.t, plain)
	require.Equal(s.t, codec.EncodingSealed, enc)
	require.NotContains(s.t, data, title)

	decoded, err := s.workflowShow(id, devstack.IdentityOperator, devstack.IdentityOperator)
	require.NoError(s.t, err)
	enc, data = startInput(s.t, decoded)
	require.Equal(s.t, "json/plain", enc, "decoded through the codec server")
	require.Contains(s.t, data, title)

	refused, err := s.workflowShow(id, devstack.IdentityOperator, devstack.IdentityReleaseManager)
	require.NotContains(s.t, string(refused), base64.StdEncoding.EncodeToString([]byte(`"title":"`+title)),
		"the release manager's key may not read payloads (%v)", err)
	logs, err := os.ReadFile(s.Local.Codec.LogFile)
	require.NoError(s.t, err)
	require.Contains(s.t, string(logs), `msg="payloads decoded" component=codecserver identity=operator`)
}

// waitOpenGate polls the status query until gate is the open gate.
func (s *stackT) waitOpenGate(id, gate string) {
	deadline := time.Now().Add(callTimeout)
	for s.status(id).OpenGate != gate {
		if time.Now().After(deadline) {
			s.t.Fatalf("release %s: gate %s never opened", id, gate)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// payloadKeysOf reads the release's history as the server keeps it and
// fails on any payload not encrypted; it returns the key id of each event
// type's last payload.
func (s *stackT) payloadKeysOf(id string) map[enumspb.EventType]string {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	keys := map[enumspb.EventType]string{}
	it := s.Client.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(s.t, err)
		payloads.EachEncoded(ev.ProtoReflect(), func(p *commonpb.Payload) {
			n++
			enc := string(p.GetMetadata()[converter.MetadataEncoding])
			require.Equal(s.t, codec.EncodingSealed, enc, "event %d (%s) has a %s payload: %.200s",
				ev.GetEventId(), ev.GetEventType(), enc, p.GetData())
			require.Len(s.t, p.GetMetadata(), 1, "the key id is in the sealed data's header, not in metadata")
			keys[ev.GetEventType()] = codec.KeyID(p)
		})
	}
	require.Greater(s.t, n, 20, "a release's history has many payloads")
	return keys
}

// checkDeflated: the roles sealed the release's larger json payloads
// deflated (content code 6: sealed smaller than their data, which the
// plain compact form never is), and every payload opens with the stack's
// key — the roles that read them did, or the release would not have ended.
func (s *stackT) checkDeflated(id string) {
	ring, err := codec.LoadKeyRing(s.Local.Credentials().PayloadKeyFile(), nil)
	require.NoError(s.t, err)
	c := codec.New(ring)
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	deflated := 0
	it := s.Client.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(s.t, err)
		payloads.EachEncoded(ev.ProtoReflect(), func(p *commonpb.Payload) {
			dec, err := c.Decode([]*commonpb.Payload{p})
			require.NoError(s.t, err, "event %d (%s)", ev.GetEventId(), ev.GetEventType())
			if string(dec[0].GetMetadata()[converter.MetadataEncoding]) == "json/plain" && len(p.GetData()) < len(dec[0].GetData()) {
				deflated++
			}
		})
	}
	require.Greater(s.t, deflated, 10, "json payloads sealed deflated (FOUREYES_PAYLOAD_COMPRESSION defaults to on)")
}

// checkDatabase reads every byte of the server's SQLite files (the
// database, its write-ahead log): the history rows are in there, the
// secrets must not be; control, a plaintext search attribute value, must.
func (s *stackT) checkDatabase(dir, control string, secrets []string) {
	files, err := filepath.Glob(filepath.Join(dir, "temporal-server.db*"))
	require.NoError(s.t, err)
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(s.t, err)
		all = append(all, b...)
	}
	require.NotEmpty(s.t, files)
	require.True(s.t, bytes.Contains(all, []byte(control)),
		"the search attribute ReleaseCommit=%s is plaintext by design: not finding it means the test reads nothing", control)
	for _, sec := range secrets {
		require.False(s.t, bytes.Contains(all, []byte(sec)), "%q is in plaintext in %v", sec, files)
	}
}

// startInput is the encoding and data of the release's start input in the
// output of `temporal workflow show -o json`.
func startInput(t *testing.T, out []byte) (encoding, data string) {
	var h struct {
		Events []struct {
			Attrs struct {
				Input struct {
					Payloads []struct {
						Metadata map[string][]byte `json:"metadata"`
						Data     []byte            `json:"data"`
					} `json:"payloads"`
				} `json:"input"`
			} `json:"workflowExecutionStartedEventAttributes"`
		} `json:"events"`
	}
	require.NoError(t, json.Unmarshal(out, &h), "%.300s", out)
	require.NotEmpty(t, h.Events)
	p := h.Events[0].Attrs.Input.Payloads
	require.Len(t, p, 1)
	return string(p[0].Metadata["encoding"]), string(p[0].Data)
}
