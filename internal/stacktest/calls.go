package stacktest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/internal/demokeys"
)

// Retry calls f until it succeeds or ctx ends: the stack may be
// restarting. Each call gets 5 seconds.
func Retry[T any](ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		v, err := f(cctx)
		cancel()
		if err == nil {
			return v, nil
		}
		select {
		case <-ctx.Done():
			return v, fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Query asks a release a question, retrying through restarts until ctx ends.
func Query[T any](ctx context.Context, c client.Client, id, name string, args ...any) (T, error) {
	return Retry(ctx, func(ctx context.Context) (T, error) {
		var out T
		v, err := c.QueryWorkflow(ctx, id, "", name, args...)
		if err == nil {
			err = v.Get(&out)
		}
		return out, err
	})
}

// Status is the release's status query.
func (s *Stack) Status(ctx context.Context, id string) (api.Status, error) {
	return Query[api.Status](ctx, s.Client, id, api.QueryStatus)
}

// WaitStatus polls until the release's status is want or ctx ends.
func (s *Stack) WaitStatus(ctx context.Context, id, want string) error {
	_, err := Retry(ctx, func(ctx context.Context) (bool, error) {
		st, err := s.Status(ctx, id)
		if err == nil && st.Status != want {
			err = fmt.Errorf("status %s, waiting for %s", st.Status, want)
		}
		return true, err
	})
	return err
}

// Trail is the release's audit trail (its audit query).
func (s *Stack) Trail(ctx context.Context, id string) ([]audit.Entry, error) {
	a, err := Query[audit.Trail](ctx, s.Client, id, api.QueryAudit)
	return a.Entries, err
}

// WaitEntry polls the release's trail until an entry satisfies ok or ctx ends.
func (s *Stack) WaitEntry(ctx context.Context, id string, ok func(audit.Entry) bool) (audit.Entry, error) {
	return Retry(ctx, func(ctx context.Context) (audit.Entry, error) {
		entries, err := s.Trail(ctx, id)
		for _, e := range entries {
			if ok(e) {
				return e, nil
			}
		}
		return audit.Entry{}, fmt.Errorf("release %s: the awaited entry is not in the audit trail yet (%v)", id, err)
	})
}

// VerifySigned checks an exported trail as an auditor would: the chain,
// every envelope against the stack's keys, and the seal at its end.
func (s *Stack) VerifySigned(entries []audit.Entry) error {
	var buf bytes.Buffer
	if err := audit.Export(&buf, entries); err != nil {
		return err
	}
	rep, err := audit.VerifySigned(&buf, s.Ring)
	if err == nil && rep.Entries != len(entries) {
		err = fmt.Errorf("%d of %d entries verified", rep.Entries, len(entries))
	}
	return err
}

// Post sends one request to the gateway and returns its status code and
// its body (raw).
func (s *Stack) Post(ctx context.Context, path, auth string, body []byte, hdr http.Header) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Local.GatewayURL()+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	hc := s.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// DecideOnce posts one decision to the bot API with who's demo token; its
// answer must be JSON.
func (s *Stack) DecideOnce(ctx context.Context, who string, r api.DecisionRequest) (int, api.Answer, error) {
	var a api.Answer
	code, raw, err := s.postDecision(ctx, who, r)
	if err == nil {
		if jerr := json.Unmarshal(raw, &a); jerr != nil {
			err = fmt.Errorf("gateway answered %d, not an answer: %v: %s", code, jerr, raw)
		}
	}
	return code, a, err
}

// Decide posts a decision as who until the gateway gives a final answer
// (not 202 pending, not 429, not 5xx, not unreachable), always with the
// same request id, as a client facing a restarting stack should. What of
// the final answer is not JSON stays out of the Answer.
func (s *Stack) Decide(ctx context.Context, who string, r api.DecisionRequest) (int, api.Answer, error) {
	type final struct {
		code int
		raw  []byte
	}
	f, err := Retry(ctx, func(ctx context.Context) (final, error) {
		code, raw, err := s.postDecision(ctx, who, r)
		if err == nil && (code == http.StatusAccepted || code == http.StatusTooManyRequests || code >= 500) {
			err = fmt.Errorf("gateway answered %d: %s", code, raw)
		}
		return final{code, raw}, err
	})
	var a api.Answer
	_ = json.Unmarshal(f.raw, &a)
	return f.code, a, err
}

func (s *Stack) postDecision(ctx context.Context, who string, r api.DecisionRequest) (int, []byte, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return 0, nil, err
	}
	hdr := http.Header{"Content-Type": {"application/json"}}
	return s.Post(ctx, api.PathDecisions, "Bearer "+s.Tokens[who], body, hdr)
}

// SignedDecide is Decide with who's own signature: it asks the gateway for
// the statement of the decision, signs it with who's demo SSH key
// (internal/demokeys) and sends the proof along.
func (s *Stack) SignedDecide(ctx context.Context, who string, r api.DecisionRequest) (int, api.Answer, error) {
	offer, err := s.Statement(ctx, who, r)
	if err != nil {
		return 0, api.Answer{}, err
	}
	if r.Proof, err = attest.SignSSH(offer.Statement, demokeys.Signer(who)); err != nil {
		return 0, api.Answer{}, err
	}
	return s.Decide(ctx, who, r)
}

// Statement is the statement of who's decision r, as the gateway renders it.
func (s *Stack) Statement(ctx context.Context, who string, r api.DecisionRequest) (api.StatementOffer, error) {
	var offer api.StatementOffer
	body, err := json.Marshal(r)
	if err != nil {
		return offer, err
	}
	code, raw, err := s.Post(ctx, api.PathStatements, "Bearer "+s.Tokens[who], body, http.Header{"Content-Type": {"application/json"}})
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("statement of %s's decision: gateway answered %d: %s", who, code, raw)
	}
	if err == nil {
		err = json.Unmarshal(raw, &offer)
	}
	return offer, err
}
