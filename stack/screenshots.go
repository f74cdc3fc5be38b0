package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/foureyes/foureyes/internal/demotokens"
	"github.com/foureyes/foureyes/internal/devstack"
	"github.com/foureyes/foureyes/internal/headless"
)

// The list the screenshots show: releases waiting for approval in prod.
const screenshotQuery = `ReleaseEnvironment="prod" AND ReleaseStatus="awaiting_approval"`

// Screenshot files, in --out.
const (
	shotList     = "ui-releases-prod-awaiting-approval.png"
	shotDetails  = "ui-release-current-details.png"
	shotAttrsMem = "ui-release-search-attributes.png"
)

// runScreenshots starts a stack on free ports, brings one release to an
// open approval gate and photographs the Temporal UI with headless chromium.
// It fails when the release is missing from the filtered list.
func runScreenshots(args []string, out io.Writer) int {
	root, err := devstack.RepoRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "stack screenshots: %v\n", err)
		return 1
	}
	fs := flag.NewFlagSet("stack screenshots", flag.ContinueOnError)
	dir := fs.String("out", filepath.Join(root, "docs"), "where the PNG files go")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := screenshots(ctx, root, *dir, out); err != nil {
		fmt.Fprintf(os.Stderr, "stack screenshots: FAILED: %v\n", err)
		return 1
	}
	return 0
}

func screenshots(ctx context.Context, root, dir string, out io.Writer) error {
	chromium, err := ensureChromium(out)
	if err != nil {
		return err
	}
	data, err := os.MkdirTemp("", "foureyes-screenshots-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)
	cfg := upConfig{root: root, dataDir: data, binDir: filepath.Join(root, ".tools", "bin"), metricsPort: -1}
	for _, p := range []*int{&cfg.port, &cfg.uiPort, &cfg.gatewayPort} {
		if *p, err = devstack.FreePort(); err != nil {
			return err
		}
	}
	s := newStack(cfg, out)
	defer s.shutdown()
	if err := s.start(ctx); err != nil {
		return err
	}
	id, runID, err := s.releaseAtApprovalGate(ctx)
	if err != nil {
		return err
	}
	if err := s.waitListed(ctx, id); err != nil {
		return err
	}
	return s.photograph(ctx, chromium, dir, id, runID)
}

// releaseAtApprovalGate starts a release of payments to prod; bob signs the
// review, alice (the author) is refused at the approval gate, carol signs
// it: the gate stays open, awaiting dave.
func (s *stack) releaseAtApprovalGate(ctx context.Context) (id, runID string, err error) {
	tokens, err := demotokens.Read(s.cfg.root)
	if err != nil {
		return "", "", err
	}
	d := &demo{s: s, tokens: tokens}
	outJSON, err := d.must(ctx, "", "start", "--service", "payments", "--env", "prod", "--commit", demoRef,
		"--requester", "rita", "--title", "Faster card refunds",
		"--link", "https://git.example.com/payments/pull/42", "--json")
	if err != nil {
		return "", "", err
	}
	var started struct {
		ReleaseID string `json:"release_id"`
		RunID     string `json:"run_id"`
	}
	if err := json.Unmarshal(outJSON, &started); err != nil {
		return "", "", fmt.Errorf("starter start --json: %v", err)
	}
	return started.ReleaseID, started.RunID, d.toApprovalGate(ctx, started.ReleaseID)
}

func (d *demo) toApprovalGate(ctx context.Context, id string) error {
	if err := d.reviewThenAuthorRefused(ctx, id); err != nil {
		return err
	}
	_, err := d.must(ctx, "carol", "decide", id, "--gate", "approval", "--approve", "--comment", "refund path reviewed")
	return err
}

// waitListed waits until visibility (what the UI lists) returns the release
// for the screenshot's query.
func (s *stack) waitListed(ctx context.Context, id string) error {
	c, err := s.local.Dial(ctx, devstack.IdentityOperator)
	if err != nil {
		return err
	}
	defer c.Close()
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: screenshotQuery})
		for _, ex := range resp.GetExecutions() {
			if ex.GetExecution().GetWorkflowId() == id {
				logf(s.out, "visibility: %s is listed by %s", id, screenshotQuery)
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("release %s is not listed by %s after 30s (last error %v)", id, screenshotQuery, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// photograph saves the filtered list and the release's metadata pages,
// each once the rendered page shows what it must.
func (s *stack) photograph(ctx context.Context, chromium, dir, id, runID string) error {
	b, err := headless.Start(ctx, chromium)
	if err != nil {
		return err
	}
	defer b.Close()
	ui := fmt.Sprintf("http://localhost:%d/namespaces/default/workflows", s.cfg.uiPort)
	page := ui + "/" + url.PathEscape(id) + "/" + url.PathEscape(runID)
	shots := []struct {
		file, url string
		want      []string
	}{
		{shotList, ui + "?query=" + url.QueryEscape(screenshotQuery), []string{id}},
		{shotDetails, page + "/user-metadata", []string{"payments → prod @ main by rita", "Current Details",
			"awaiting_approval: open gate approval", "deadline", "Awaiting: dave", "carol approved approval", "Last refused: alice", "you authored this change",
			"payments: round amounts half to even (alice)"}},
		// metadata: the search attributes and the memo on one page
		{shotAttrsMem, page + "/metadata", []string{`"ReleaseAwaiting"`, `"awaiting_approval"`, `"policy_hash"`}},
	}
	for _, sh := range shots {
		if err := b.Open(sh.url, 1800, 1000); err != nil {
			return err
		}
		if err := b.WaitText(ctx, 45*time.Second, sh.want...); err != nil {
			return fmt.Errorf("%s: %w", sh.url, err)
		}
		time.Sleep(time.Second) // let late layout settle before the picture
		path := filepath.Join(dir, sh.file)
		if err := b.Screenshot(path); err != nil {
			return err
		}
		logf(s.out, "%-40s %s", sh.file, sh.url)
	}
	return nil
}

// ensureChromium finds Debian's chromium, installing it with apt-get when
// missing and possible.
func ensureChromium(out io.Writer) (string, error) {
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil || os.Geteuid() != 0 {
		return "", errors.New("chromium not found: install it (apt-get install chromium)")
	}
	logf(out, "installing chromium with apt-get")
	cmd := exec.Command("sh", "-c", "apt-get update && apt-get install -y chromium")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("apt-get install chromium: %w", err)
	}
	return exec.LookPath("chromium")
}
