package integration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/codec"
	"github.com/foureyes/foureyes/internal/devstack"
	"github.com/foureyes/foureyes/internal/headless"
)

// ScreenshotsEnv names a folder: when set, TestWebUI writes its pictures
// there (the ones in docs/images were taken this way):
//
//	FOUREYES_UI_SCREENSHOTS=$PWD/docs/images go run ./stack test ./e2e/integration -run TestWebUI
const ScreenshotsEnv = "FOUREYES_UI_SCREENSHOTS"

// Screenshot files.
const (
	shotStatusList = "ui-release-list-status.png"
	shotDecoded    = "ui-release-decoded-by-codec-server.png"
	shotEncrypted  = "ui-release-encrypted-without-reader.png"
)

// TestWebUI drives the Temporal Web UI the stack serves in a real headless
// Chromium, as an operator would. Its release list shows each release's
// outcome at a glance: a deployed release Completed, a rejected one Failed,
// a cancelled one Canceled (versionFailedEnds). A release's page shows its
// request decoded (title and authors) once the browser signed in at the
// codec server's /login with the operator's key, and ciphertext
// (binary/sealed, and the UI's "Data decoding failed - Unauthorized") in
// a browser that did not, or that tried with the release manager's key
// (not a reader).
func TestWebUI(t *testing.T) {
	b0 := browserBin(t)
	s := startStackUI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	_, err := s.Local.StartCodecServer(ctx)
	require.NoError(t, err)

	secret := "UI title " + uuid.NewString()[:8] // only in the (encrypted) request
	deployed := s.startTitled("payments", "prod", s.git.A, secret)
	s.waitStatus(deployed.GetID(), api.StatusAwaitingReview)
	for _, d := range []struct{ gate, who string }{{"review", "bob"}, {"approval", "carol"}, {"approval", "dave"}} {
		s.waitOpenGate(deployed.GetID(), d.gate)
		code, a := s.decide(deployed.GetID(), d.gate, api.VerdictApprove, d.who)
		require.Equal(t, http.StatusOK, code, a.Reason)
	}
	rejected := s.startTitled("payments", "staging", s.git.A, "rejected in review")
	s.waitStatus(rejected.GetID(), api.StatusAwaitingReview)
	code, a := s.decide(rejected.GetID(), "review", api.VerdictReject, "bob")
	require.Equal(t, http.StatusOK, code, a.Reason)
	cancelled := s.startTitled("ledger", "prod", s.git.B, "cancelled by its requester")
	s.waitStatus(cancelled.GetID(), api.StatusAwaitingReview)
	out, code := s.starter("rita", "cancel", cancelled.GetID(), "--reason", "wrong commit")
	require.Equal(t, 0, code, out)
	want := map[string]string{deployed.GetID(): api.StatusDeployed, rejected.GetID(): api.StatusRejected,
		cancelled.GetID(): api.StatusCancelled}
	for _, run := range []client.WorkflowRun{deployed, rejected, cancelled} {
		res := s.result(run)
		require.Equal(t, want[run.GetID()], res.Status, res.Reason)
	}

	ui := fmt.Sprintf("http://localhost:%d/namespaces/default/workflows", s.Local.UIPort)
	page := ui + "/" + url.PathEscape(deployed.GetID()) + "/" + url.PathEscape(deployed.GetRunID()) + "/history"
	operatorKey, err := s.Local.Credentials().ReadKey(devstack.IdentityOperator)
	require.NoError(t, err)
	managerKey, err := s.Local.Credentials().ReadKey(devstack.IdentityReleaseManager)
	require.NoError(t, err)

	t.Run("list shows each release's outcome", func(t *testing.T) {
		b := openBrowser(ctx, t, b0)
		require.NoError(t, b.Open(ui+"?query="+url.QueryEscape(`WorkflowType="Release"`), 1600, 900))
		rows := map[string]string{deployed.GetID(): "Completed", rejected.GetID(): "Failed", cancelled.GetID(): "Canceled"}
		waitRows(ctx, t, b, rows)
		screenshot(t, b, shotStatusList)
	})
	t.Run("operator signed in at the codec server reads the request", func(t *testing.T) {
		b := openBrowser(ctx, t, b0)
		signIn(ctx, t, b, s.Local.CodecURL(), operatorKey, "Signed in as operator")
		require.NoError(t, b.Open(page, 1600, 1000))
		require.NoError(t, b.WaitText(ctx, 90*time.Second, secret, `"authors"`, `"alice"`))
		screenshot(t, b, shotDecoded)
	})
	for _, c := range []struct{ name, key string }{{"no sign-in", ""}, {"release manager's key", managerKey}} {
		t.Run("ciphertext with "+c.name, func(t *testing.T) {
			b := openBrowser(ctx, t, b0)
			if c.key != "" {
				signIn(ctx, t, b, s.Local.CodecURL(), c.key, "may not read payloads")
			}
			require.NoError(t, b.Open(page, 1600, 1000))
			// The UI shows a payload it could not decode as it is, its
			// metadata's values base64-encoded, and says why.
			require.NoError(t, b.WaitText(ctx, 90*time.Second, encryptedB64, "Data decoding failed - Unauthorized"))
			text, err := b.Text()
			require.NoError(t, err)
			require.NotContains(t, text, secret, "decoded without a reader's credential")
			require.NotContains(t, text, `"authors"`, "decoded without a reader's credential")
			if c.key == "" {
				screenshot(t, b, shotEncrypted)
			}
		})
	}
}

// encryptedB64 is how the Web UI shows the encoding of a payload it could
// not decode: "binary/sealed", base64-encoded.
var encryptedB64 = base64.StdEncoding.EncodeToString([]byte(codec.EncodingSealed))

// startStackUI is startStack with the Web UI on a free port (pointed at the
// codec server's port).
func startStackUI(t *testing.T) *stackT {
	return startStackWithPrepare(t, nil, false, func(l *devstack.Local) error {
		var err error
		l.UIPort, err = devstack.FreePort()
		return err
	})
}

// startTitled starts a release with a title of its own.
func (s *stackT) startTitled(service, env, commit, title string) client.WorkflowRun {
	id := fmt.Sprintf("release-%s-%s-%s", service, env, uuid.NewString())
	run, err := s.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id,
		TaskQueue: api.QueueOrchestrator, TypedSearchAttributes: api.StartAttributes(api.ReleaseRequest{
			Service: service, Environment: env, Commit: commit, Requester: "rita"})},
		api.WorkflowRelease, api.ReleaseRequest{Service: service, Environment: env, Commit: commit,
			Authors: []string{"alice"}, Requester: "rita", Title: title})
	require.NoError(s.t, err)
	return run
}

func browserBin(t *testing.T) string {
	bin, err := exec.LookPath("chromium")
	if err != nil || testing.Short() {
		t.Skip("needs Debian's chromium (apt-get install chromium; go run ./stack test installs it)")
	}
	return bin
}

// openBrowser starts a Chromium with a profile of its own (no cookies).
func openBrowser(ctx context.Context, t *testing.T, bin string) *headless.Browser {
	b, err := headless.Start(ctx, bin)
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return b
}

// signIn pastes key into the codec server's /login form and waits for its answer.
func signIn(ctx context.Context, t *testing.T, b *headless.Browser, codecURL, key, want string) {
	require.NoError(t, b.Open(codecURL+"/login", 1200, 600))
	require.NoError(t, b.WaitText(ctx, 30*time.Second, "Your API key"))
	k, _ := json.Marshal(key)
	require.NoError(t, b.Eval(`document.querySelector('input[name=key]').value = `+string(k)+
		`; document.querySelector('form').submit(); true`, nil))
	require.NoError(t, b.WaitText(ctx, 30*time.Second, want))
}

// rowText is, for each release id, the text of the list row that links to
// it ("" when not listed yet).
const rowText = `(ids => Object.fromEntries(ids.map(id => {
	const a = [...document.querySelectorAll('a')].find(a => a.textContent.trim() === id);
	const row = a && (a.closest('tr') || a.closest('[role=row]'));
	return [id, row ? row.innerText : ''];
})))(%s)`

// waitRows polls the list until the row of each release shows its status.
func waitRows(ctx context.Context, t *testing.T, b *headless.Browser, want map[string]string) {
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	q, _ := json.Marshal(ids)
	var rows map[string]string
	deadline := time.Now().Add(90 * time.Second)
	for {
		var s string
		err := b.Eval(`JSON.stringify(`+fmt.Sprintf(rowText, q)+`)`, &s)
		if err == nil {
			err = json.Unmarshal([]byte(s), &rows)
		}
		missing := ""
		for id, status := range want {
			if !containsWord(rows[id], status) {
				missing = id + " " + status
			}
		}
		if err == nil && missing == "" {
			for id, row := range rows {
				t.Logf("list row of %s: %q", id, row)
			}
			return
		}
		if time.Now().After(deadline) {
			text, _ := b.Text()
			t.Fatalf("the list does not show %s (error %v); rows %q; page:\n%.2000s", missing, err, rows, text)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func containsWord(text, w string) bool {
	return slices.Contains(strings.Fields(text), w)
}

// screenshot saves the page in ScreenshotsEnv's folder, when set.
func screenshot(t *testing.T, b *headless.Browser, name string) {
	dir := os.Getenv(ScreenshotsEnv)
	if dir == "" {
		return
	}
	time.Sleep(time.Second) // let late layout settle before the picture
	require.NoError(t, b.Screenshot(filepath.Join(dir, name)))
	t.Logf("screenshot %s", filepath.Join(dir, name))
}
