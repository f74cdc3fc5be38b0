package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
)

// The flood: FOUREYES_FLOOD_UPDATES decide Updates with bad envelopes
// straight to Temporal, FOUREYES_FLOOD_SENDERS at a time, and floodGateway
// decisions through the gateway by the change's author, all at once. The
// server admits 10 Updates in flight per workflow (history.maxInFlightUpdates)
// and answers more with ResourceExhausted, which the SDK retries with
// backoff: more senders flood more slowly (24 took 175 s for 9,900).
var (
	floodUpdates = knob("FOUREYES_FLOOD_UPDATES", 9900)
	floodSenders = knob("FOUREYES_FLOOD_SENDERS", 10)
)

const (
	floodGateway = 100
	// maxFloodHistory bounds the release's history after the flood and its
	// honest run to deployed.
	maxFloodHistory = 400
	// refusalCap is what the workflow records of one sender's refusals.
	refusalCap = 20
)

// floodFigures is what the flood measured.
type floodFigures struct {
	total, updates, answered, rejected, errors int
	gateway, forbidden, limited, pending       int
	history                                    int64
	trail                                      string
	took                                       time.Duration
}

// floodDecisions: 10,000 refused decisions cannot end a release, lose its
// trail or fill its history: it still deploys with its honest decisions.
func (a *attackRun) floodDecisions(ctx context.Context, t *testing.T) {
	a.attempt(t, "flood", "10,000 refused decisions on one release, then its honest decisions", func() error {
		return a.flood10k(ctx, t)
	})
}

func (a *attackRun) flood10k(ctx context.Context, t *testing.T) error {
	id := a.releases["flood"]
	envs, err := a.badEnvelopes(ctx, id)
	if err != nil {
		return err
	}
	f := &a.flood
	begin := time.Now()
	var answered, rejected, failed, forbidden, limited, pending atomic.Int64
	var firstErr atomic.Value
	fail := func(what string, err error) {
		failed.Add(1)
		firstErr.CompareAndSwap(nil, fmt.Sprintf("%s: %v", what, err))
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range floodSenders {
		wg.Go(func() {
			for i := range jobs {
				var o api.DecisionOutcome
				err := a.update(ctx, id, fmt.Sprintf("flood-%d", i), api.UpdateDecide, envs[i%len(envs)], &o)
				var app *temporal.ApplicationError
				switch {
				case err == nil && o.Outcome == api.OutcomeRefused:
					answered.Add(1)
				case errors.As(err, &app) && app.Type() == api.ErrTypeRefusalsCapped:
					rejected.Add(1)
				default:
					fail("update", fmt.Errorf("%+v, %w", o, err))
				}
			}
		})
	}
	for i := range floodGateway {
		wg.Go(func() {
			code, retryAfter, waited, err := a.decideAsAlice(ctx, id, i)
			if waited {
				pending.Add(1)
			}
			switch {
			case err == nil && code == http.StatusForbidden:
				forbidden.Add(1)
			case err == nil && code == http.StatusTooManyRequests && retryAfter != "":
				limited.Add(1)
			default:
				fail("gateway", fmt.Errorf("status %d, Retry-After %q, %v", code, retryAfter, err))
			}
		})
	}
	for i := range floodUpdates {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	f.took = time.Since(begin)
	f.total, f.updates, f.gateway = floodUpdates+floodGateway, floodUpdates, floodGateway
	f.answered, f.rejected, f.errors = int(answered.Load()), int(rejected.Load()), int(failed.Load())
	f.forbidden, f.limited, f.pending = int(forbidden.Load()), int(limited.Load()), int(pending.Load())
	t.Logf("flood sent in %.1fs: updates %d refused + %d rejected, gateway %d refused + %d limited (%d answered pending first), %d errors",
		f.took.Seconds(), f.answered, f.rejected, f.forbidden, f.limited, f.pending, f.errors)
	if f.errors > 0 {
		return fmt.Errorf("%d requests of the flood were neither refused nor limited; first: %v", f.errors, firstErr.Load())
	}
	if f.limited < floodGateway/2 {
		return fmt.Errorf("only %d of the author's %d requests were rate-limited", f.limited, floodGateway)
	}
	if err := a.s.WaitStatus(ctx, id, api.StatusAwaitingReview); err != nil {
		return err
	}
	if err := a.approveAll(ctx, id); err != nil {
		return fmt.Errorf("after the flood: %w", err)
	}
	res, err := a.result(ctx, id)
	if err != nil {
		return err
	}
	if res.Status != api.StatusDeployed {
		return fmt.Errorf("after the flood the release ended %s (%s), want deployed", res.Status, res.Reason)
	}
	if err := a.floodTrail(ctx, id); err != nil {
		return err
	}
	desc, err := a.s.Client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return err
	}
	f.history = desc.GetWorkflowExecutionInfo().GetHistoryLength()
	if f.history >= maxFloodHistory {
		return fmt.Errorf("the flooded release's history has %d events, want fewer than %d", f.history, maxFloodHistory)
	}
	return nil
}

// badEnvelopes: none, one signed with the attacker's key, one with the
// build role's key, one the gateway signed for another release.
func (a *attackRun) badEnvelopes(ctx context.Context, id string) ([]attest.Envelope, error) {
	bd, err := a.binding(ctx, id)
	if err != nil {
		return nil, err
	}
	subject := attest.ArtifactSubject(bd.ArtifactDigest)
	envs := []attest.Envelope{nil}
	for _, s := range []*attest.Signer{attest.NewSigner(attest.RoleApproval, a.attacker), a.stolen} {
		env, err := s.Attest(subject, attest.PredicateDecision, decisionStatement(bd, "flood", "review", "bob", api.ChannelAPI))
		if err != nil {
			return nil, err
		}
		envs = append(envs, env)
	}
	if r := a.ref; r.err == nil && r.decision != nil {
		envs = append(envs, r.decision["review/bob"])
	}
	return envs, nil
}

// floodPendingTries bounds how often the author repeats a request the
// gateway answered 202 pending.
const floodPendingTries = 10

// decideAsAlice sends the author's approval of her own change through the
// gateway as a client following its protocol does: a 202 pending (the
// Update not answered in time, as when the flood holds the workflow's
// in-flight Updates) or a 503 (Temporal refused the Update for now: seen in
// a run with the flood holding every slot) is sent again with the same
// request_id until it gets a final answer. It returns that answer's status and Retry-After, and
// whether it was pending first.
func (a *attackRun) decideAsAlice(ctx context.Context, id string, i int) (code int, retryAfter string, waited bool, err error) {
	for try := 0; try < floodPendingTries; try++ {
		code, retryAfter, err = a.postAsAlice(ctx, id, i)
		if err != nil || code != http.StatusAccepted && code != http.StatusServiceUnavailable {
			return code, retryAfter, waited, err
		}
		waited = true
		select {
		case <-ctx.Done():
			return code, retryAfter, waited, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return code, retryAfter, waited, err
}

// postAsAlice sends the author's approval of her own change through the
// gateway once; it returns the status and the Retry-After header.
func (a *attackRun) postAsAlice(ctx context.Context, id string, i int) (int, string, error) {
	body := fmt.Sprintf(`{"release_id":%q,"gate":"review","verdict":"approve","request_id":"flood-alice-%d"}`, id, i)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.s.Local.GatewayURL()+"/v1/decisions", bytes.NewReader([]byte(body)))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+a.s.Tokens["alice"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), nil
}

// floodTrail: at most refusalCap refusals recorded per sender, then one
// refusals_capped entry; the honest decisions all there.
func (a *attackRun) floodTrail(ctx context.Context, id string) error {
	entries, err := a.s.Trail(ctx, id)
	if err != nil {
		return err
	}
	refusals, capped, accepted := map[string]int{}, map[string]int{}, 0
	for _, e := range entries {
		switch e.Type {
		case audit.EventDecisionRefused:
			refusals[e.Actor]++
		case audit.EventRefusalsCapped:
			capped[e.Actor]++
		case audit.EventDecision:
			accepted++
		}
	}
	a.flood.trail = fmt.Sprintf("%d entries: %d unverified refusals + %d refusals_capped, %d of the author's + %d refusals_capped, %d accepted decisions",
		len(entries), refusals[""], capped["(unverified)"], refusals["alice"], capped["alice"], accepted)
	for who, n := range refusals {
		if n > refusalCap || capped[who] > 1 {
			return fmt.Errorf("%q has %d refusals and %d refusals_capped entries recorded", who, n, capped[who])
		}
	}
	switch {
	case refusals[""] != refusalCap || capped["(unverified)"] != 1:
		return fmt.Errorf("trail: %s; want %d unverified refusals then one refusals_capped", a.flood.trail, refusalCap)
	case len(refusals) != 2 || refusals["alice"] == 0 || (refusals["alice"] == refusalCap) != (capped["alice"] == 1):
		return fmt.Errorf("trail: %s; refusals by %v", a.flood.trail, refusals)
	case accepted != 3:
		return fmt.Errorf("trail: %s; want bob, carol and dave's decisions", a.flood.trail)
	}
	if err := a.s.VerifySigned(entries); err != nil {
		return fmt.Errorf("the flooded release's trail: %w", err)
	}
	return nil
}
