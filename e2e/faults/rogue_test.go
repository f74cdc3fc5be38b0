package faults

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/config"
	"github.com/foureyes/foureyes/internal/stacktest"
	"github.com/foureyes/foureyes/policy"
)

// rogueDeployWorkflow is the attacker's own workflow: it asks the deploy
// role to deploy, once, whatever it is given.
const rogueDeployWorkflow = "FaultsRogueDeploy"

func rogueDeploy(ctx workflow.Context, in api.DeployInput) (api.StepResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{TaskQueue: api.QueueDeploy,
		StartToCloseTimeout: time.Minute, RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
	var res api.StepResult
	err := workflow.ExecuteActivity(ctx, api.ActivityDeploy, in).Get(ctx, &res)
	return res, err
}

// rogueDeploy: a workflow of the attacker's own, on its own task queue,
// schedules Deploy on the deploy role's queue for a release id it made up,
// with the ref and digest of an artifact the build role really built, with
// no bundle and then with the bundle of a really deployed release.
func (a *attackRun) rogueDeploy(ctx context.Context, t *testing.T) {
	r := a.reference(ctx, t)
	queue := fmt.Sprintf("faults-rogue-%d", time.Now().UnixNano())
	w := worker.New(a.s.Client, queue, worker.Options{Identity: "mallory@rogue"})
	w.RegisterWorkflowWithOptions(rogueDeploy, workflow.RegisterOptions{Name: rogueDeployWorkflow})
	require(t, w.Start())
	defer w.Stop()
	bundle := &api.Bundle{}
	for _, e := range r.entries {
		switch {
		case e.Type == audit.EventStageFinished && e.Stage == api.StageCode:
			bundle.Provenance = attest.Envelope(e.Envelope)
		case e.Type == audit.EventStageFinished && e.Stage == api.StageReview:
			bundle.Review = attest.Envelope(e.Envelope)
		case e.Type == audit.EventDecision:
			bundle.Decisions = append(bundle.Decisions, attest.Envelope(e.Envelope))
		}
	}
	if len(bundle.Provenance) == 0 || len(bundle.Review) == 0 || len(bundle.Decisions) != 3 {
		t.Fatalf("the reference trail lacks the envelopes of a bundle: %d decisions", len(bundle.Decisions))
	}
	for _, b := range []struct {
		name   string
		bundle *api.Bundle
		reason string
	}{{"no bundle", nil, "), not a release"}, {"the bundle of a deployed release", bundle, "), not a release"}} {
		a.attempt(t, "rogue Deploy", "Deploy of a real artifact for a made-up release, "+b.name, func() error {
			id := releaseID("rogue")
			a.aim(id)
			in := api.DeployInput{ReleaseID: id, Service: r.req.Service, Environment: r.req.Environment,
				Commit: r.req.Commit, ArtifactRef: r.result.ArtifactRef, Digest: r.result.ArtifactDigest,
				PolicyHash: a.hash, Bundle: b.bundle}
			run, err := a.s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "rogue-" + id, TaskQueue: queue,
				WorkflowExecutionTimeout: time.Minute}, rogueDeployWorkflow, in)
			if err != nil {
				return err
			}
			var res api.StepResult
			err = run.Get(ctx, &res)
			var app *temporal.ApplicationError
			if !errors.As(err, &app) || app.Type() != api.ErrTypeDeployRefused || !strings.Contains(app.Error(), b.reason) {
				return fmt.Errorf("the deploy role answered %+v, %v; want a %s error saying %q", res, err, api.ErrTypeDeployRefused, b.reason)
			}
			if n := a.s.deployed(id); n != 0 {
				return fmt.Errorf("deployed %d times", n)
			}
			return a.deployRoleLogged(ctx, id, b.reason)
		})
	}
}

// deployRoleLogged waits for the deploy role's log to hold its refusal of id.
func (a *attackRun) deployRoleLogged(ctx context.Context, id, reason string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	file := a.s.Local.Roles[config.RoleDeploy].LogFile
	_, err := stacktest.Retry(ctx, func(context.Context) (bool, error) {
		f, err := os.Open(file)
		if err != nil {
			return false, err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if line := sc.Text(); strings.Contains(line, "deploy refused") && strings.Contains(line, id) && strings.Contains(line, reason) {
				return true, nil
			}
		}
		return false, fmt.Errorf("no line of %s logs the refusal of %s (%q)", file, id, reason)
	})
	return err
}

// activityComplete: with the real role stopped, the attacker's own worker
// takes the release's Build (then Review) task and completes it with a
// result of the attacker's choosing; the release must fail closed.
func (a *attackRun) activityComplete(ctx context.Context, t *testing.T) {
	evil := sha256.Sum256([]byte("evil bytes"))
	a.attempt(t, "activity complete", "Build completed with an unsigned result of the attacker's choosing", func() error {
		return a.forgeCompletion(ctx, config.RoleBuild, api.QueueBuild, api.ActivityBuild,
			api.BuildResult{ArtifactRef: "/tmp/evil.tar", Digest: hex.EncodeToString(evil[:]), Executor: "foureyes-build@evil"},
			"build result refused")
	})
	a.attempt(t, "activity complete", "Review completed as passed, without the review role's attestation", func() error {
		return a.forgeCompletion(ctx, config.RoleReview, api.QueueReview, api.ActivityReview,
			api.ReviewResult{Passed: true, Executor: "foureyes-review@evil"}, "review result refused")
	})
}

// forgeCompletion stops role, starts a release, captures its activity task
// on queue with a worker of the attacker's own, completes it with forged,
// restarts role and checks the release failed with reason.
func (a *attackRun) forgeCompletion(ctx context.Context, role, queue, name string, forged any, reason string) (err error) {
	if err := a.s.Local.Roles[role].Stop(); err != nil {
		return err
	}
	defer func() {
		if _, rerr := a.s.Local.StartRole(context.Background(), role); rerr != nil {
			err = errors.Join(err, fmt.Errorf("restarting %s: %w", role, rerr))
		}
	}()
	tokens := make(chan []byte, 4)
	w := worker.New(a.s.Client, queue, worker.Options{Identity: "mallory@rogue", DisableWorkflowWorker: true})
	w.RegisterActivityWithOptions(func(ctx context.Context, _ map[string]any) (map[string]any, error) {
		tokens <- activity.GetInfo(ctx).TaskToken
		return nil, activity.ErrResultPending
	}, activity.RegisterOptions{Name: name})
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	id, err := a.startRelease(ctx, "forged-"+strings.ToLower(name), commitOf(name))
	if err != nil {
		return err
	}
	a.aim(id)
	var token []byte
	select {
	case token = <-tokens:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("the attacker's worker got no %s task of %s", name, id)
	}
	if err := a.s.Client.CompleteActivity(ctx, token, forged, nil); err != nil {
		return fmt.Errorf("activity complete: %w", err)
	}
	// Refused, the release fails at once; taken, it would wait at a gate.
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := a.result(rctx, id)
	switch {
	case err != nil:
		return fmt.Errorf("the release did not fail after the forged %s: %w", name, err)
	case res.Status != api.StatusFailed || !strings.Contains(res.Reason, reason):
		return fmt.Errorf("release ended %s (%s), want failed with %q", res.Status, res.Reason, reason)
	case a.s.deployed(id) != 0:
		return errors.New("deployed")
	}
	return nil
}

// rogueLoadPolicy: the attacker's worker answers LoadPolicy (alongside the
// real orchestrator) with a permissive policy: the real one with a key of
// the attacker's own added for every role, claiming the real file's hash.
// The build role builds only under its own copy of the policy, so it
// refuses such a release; were it built, the attacker would approve its
// review gate with a decision signed by that key, carol and dave through the
// gateway: the deploy role must still refuse (its own policy has another
// hash).
func (a *attackRun) rogueLoadPolicy(ctx context.Context, t *testing.T) {
	a.attempt(t, "rogue LoadPolicy", "a permissive policy answered by a rogue poller, then approved", func() error {
		content, rogueKeys, err := a.roguePolicy(t)
		if err != nil {
			return err
		}
		id, rogueHash, err := a.pinRoguePolicy(ctx, t, content)
		if err != nil {
			return err
		}
		if st, err := a.reviewOrEnd(ctx, id); err != nil || st.Result != nil {
			return a.buildRoleRefused(t, id, st, err)
		}
		bd, err := a.binding(ctx, id)
		if err != nil {
			return err
		}
		if bd.PolicyHash != rogueHash {
			return fmt.Errorf("the release is bound to policy %s, not the rogue %s", bd.PolicyHash, rogueHash)
		}
		mine := attest.NewSigner(attest.RoleApproval, rogueKeys[attest.RoleApproval])
		env, err := mine.Attest(attest.ArtifactSubject(bd.ArtifactDigest), attest.PredicateDecision,
			decisionStatement(bd, "rogue-bob", "review", "bob", api.ChannelSlack))
		if err != nil {
			return err
		}
		var o api.DecisionOutcome
		if err := a.update(ctx, id, "rogue-bob", api.UpdateDecide, env, &o); err != nil {
			return err
		}
		t.Logf("the rogue-policy release took the attacker-signed review decision: %s %s", o.Outcome, o.Reason)
		if o.Outcome == api.OutcomeAccepted {
			if err := a.s.WaitStatus(ctx, id, api.StatusAwaitingApproval); err != nil {
				return err
			}
			for _, who := range []string{"carol", "dave"} {
				if err := a.legit(ctx, id, "approval", who); err != nil {
					return err
				}
			}
		}
		res, err := a.result(ctx, id)
		switch {
		case err != nil:
			return err
		case res.Status == api.StatusDeployed:
			return errors.New("the rogue-policy release deployed")
		case a.s.deployed(id) != 0:
			return fmt.Errorf("the deploy command ran for the rogue-policy release (ended %s)", res.Status)
		}
		t.Logf("the rogue-policy release ended %s: %s", res.Status, res.Reason)
		if o.Outcome != api.OutcomeAccepted {
			return nil // the workflow itself stopped it
		}
		return a.deployRoleLogged(ctx, id, "but the deploy role's policy")
	})
}

// reviewOrEnd waits until the release awaits review or has ended.
func (a *attackRun) reviewOrEnd(ctx context.Context, id string) (api.Status, error) {
	return stacktest.Retry(ctx, func(ctx context.Context) (api.Status, error) {
		st, err := stacktest.Query[api.Status](ctx, a.s.Client, id, api.QueryStatus)
		if err == nil && st.Result == nil && st.Status != api.StatusAwaitingReview {
			err = fmt.Errorf("status %s, waiting for %s or the end", st.Status, api.StatusAwaitingReview)
		}
		return st, err
	})
}

// buildRoleRefused: the rogue-policy release ended before its review
// because the build role, which builds only under its own copy of the
// policy, refused the rogue one; nothing was built or deployed.
func (a *attackRun) buildRoleRefused(t *testing.T, id string, st api.Status, err error) error {
	switch {
	case err != nil:
		return err
	case st.Result.Status != api.StatusFailed || !strings.Contains(st.Result.Reason, "but the build role's policy"):
		return fmt.Errorf("the rogue-policy release ended %s before its review (%s), not refused by the build role",
			st.Result.Status, st.Result.Reason)
	case a.s.deployed(id) != 0:
		return errors.New("the rogue-policy release deployed")
	}
	t.Logf("the rogue-policy release failed at the build role: %s", st.Result.Reason)
	return nil
}

// pinRoguePolicy runs the attacker's LoadPolicy worker and starts releases
// until one pins the rogue content; the others are cancelled later.
func (a *attackRun) pinRoguePolicy(ctx context.Context, t *testing.T, content []byte) (string, string, error) {
	rogueHash := policy.HashBytes(content)
	w := worker.New(a.s.Client, api.QueueOrchestrator, worker.Options{Identity: "mallory@rogue",
		DisableWorkflowWorker: true, MaxConcurrentActivityTaskPollers: 16})
	w.RegisterActivityWithOptions(func(context.Context, api.LoadPolicyInput) (policy.Snapshot, error) {
		return policy.Snapshot{Content: content, Path: a.s.Local.PolicyFile(), Hash: a.hash}, nil
	}, activity.RegisterOptions{Name: api.ActivityLoadPolicy})
	if err := w.Start(); err != nil {
		return "", "", err
	}
	defer w.Stop()
	time.Sleep(500 * time.Millisecond) // the pollers reach the server
	for try := 1; try <= 20; try++ {
		id, err := a.startRelease(ctx, "rogue-policy", commitOf(fmt.Sprintf("rogue-policy-%d", try)))
		if err != nil {
			return "", "", err
		}
		a.aim(id)
		st, err := stacktest.Retry(ctx, func(ctx context.Context) (api.Status, error) {
			st, err := stacktest.Query[api.Status](ctx, a.s.Client, id, api.QueryStatus)
			if err == nil && st.PolicyHash == "" {
				err = errors.New("policy not pinned yet")
			}
			return st, err
		})
		if err != nil {
			return "", "", err
		}
		if st.PolicyHash != a.hash {
			if st.PolicyHash != rogueHash {
				return "", "", fmt.Errorf("release %s pinned policy %s: neither the real %s nor the rogue %s", id, st.PolicyHash, a.hash, rogueHash)
			}
			t.Logf("release %s pinned the rogue policy at try %d (the real orchestrator answered the others)", id, try)
			return id, rogueHash, nil
		}
	}
	return "", "", errors.New("20 releases in a row pinned the real policy: the attacker's LoadPolicy poller never won")
}

// keyLine is a role's line in the keys: section the stack composes.
var keyLine = regexp.MustCompile(`(?m)^  (\w+): \[(.*)\]$`)

// roguePolicy is the stack's policy with a key of the attacker's own added
// for every role (a policy lists each key for one role only).
func (a *attackRun) roguePolicy(t *testing.T) ([]byte, map[string]ed25519.PrivateKey, error) {
	keys := map[string]ed25519.PrivateKey{}
	content := keyLine.ReplaceAllFunc(a.content, func(line []byte) []byte {
		m := keyLine.FindSubmatch(line)
		role := string(m[1])
		keys[role] = freshKey(t)
		pub := attest.NewSigner(role, keys[role]).PublicKey()
		return fmt.Appendf(nil, "  %s: [%s, %q]", role, m[2], pub)
	})
	p, err := policy.Parse("rogue", content)
	if err == nil {
		err = p.RequireKeys("rogue")
	}
	if err != nil {
		return nil, nil, err
	}
	for _, role := range attest.Roles {
		if len(p.Keys[role]) != 2 || keys[role] == nil {
			return nil, nil, fmt.Errorf("the rogue policy lists %v for %s, want the real key and the attacker's", p.Keys[role], role)
		}
	}
	return content, keys, nil
}
