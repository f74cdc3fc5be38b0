package gateway

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/attest"
)

// An Update id names one request: Temporal answers a retry with the first
// delivery's result and writes one request into history. It writes the
// request its own registry holds, which after a history restart or a
// persistence error is the one of the retry that re-admitted the Update,
// while the worker may already have run the handler on an earlier
// delivery's bytes (issue 27: the release's result and a replay of its
// history then hash that decision's audit entry differently). So every
// delivery of one Update carries the same bytes: the gateway signs a
// request once and sends that envelope again on every retry.
//
// Only while its outcome is unknown: once the gateway has the Update's
// result (or its refusal), the server answers any retry of that update id
// from what it stored, whatever bytes the retry carries, and writes
// nothing; a refused Update left nothing in history. So an answered
// request's envelope is dropped (answered), and the cache holds only the
// requests in flight or left pending. Before, every envelope was kept an
// hour: about 1.1 MB of heap per 1,000 decisions, the approval role's
// growth in the 1,000-release soak.

// requestTTL is how long a signed request is kept for its retries: longer
// than any client retries one decision.
const requestTTL = time.Hour

// maxRequests and maxRequestBytes bound the kept requests (a flood of
// distinct ones evicts the oldest first).
const (
	maxRequests     = 20000
	maxRequestBytes = 8 << 20
)

type signedRequest struct {
	env    attest.Envelope
	signed time.Time
}

// signedRequests are the envelopes signed for Updates, by update id and
// what the request says (its time and evidence aside: a retry differs in
// them only).
type signedRequests struct {
	mu    sync.Mutex
	byKey map[string]signedRequest
	order []string // keys, oldest first
	bytes int      // of the kept keys and envelopes
	now   func() time.Time
}

func newSignedRequests() *signedRequests {
	return &signedRequests{byKey: map[string]signedRequest{}, now: time.Now}
}

// requestKey is the update id and the digest of what the request says.
func requestKey(updateID string, content any) (string, error) {
	b, err := json.Marshal(content)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return updateID + "\x00" + string(sum[:]), nil
}

// once returns the envelope signed for key, signing it with sign the first
// time (or once the kept one is older than requestTTL).
func (s *signedRequests) once(key string, sign func() (attest.Envelope, error)) (attest.Envelope, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.evict(now)
	if r, ok := s.byKey[key]; ok {
		return r.env, nil
	}
	env, err := sign()
	if err != nil {
		return nil, err
	}
	s.byKey[key] = signedRequest{env: env, signed: now}
	s.order = append(s.order, key)
	s.bytes += len(key) + len(env)
	s.evict(now)
	return env, nil
}

// answered drops key's envelope: its Update's outcome is known, and a
// retry is answered by the server by update id alone. The requests kept
// are the few in flight, so the search of order is short.
func (s *signedRequests) answered(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byKey[key]
	if !ok {
		return
	}
	delete(s.byKey, key)
	s.bytes -= len(key) + len(r.env)
	if i := slices.Index(s.order, key); i >= 0 {
		s.order = slices.Delete(s.order, i, i+1)
	}
}

// outcomeKnown says whether an Update's error (nil: its result came back)
// settles it: a result, or the workflow's refusal (an application error).
// A timeout or an unavailable server leaves it pending, to be retried with
// the same bytes.
func outcomeKnown(err error) bool {
	var app *temporal.ApplicationError
	return err == nil || errors.As(err, &app)
}

// evict drops the oldest requests while there are more than maxRequests,
// they take more than maxRequestBytes, or they are older than requestTTL.
// order is in the order signed, and holds the keys of byKey: a key is added
// only when it is not kept.
func (s *signedRequests) evict(now time.Time) {
	for len(s.order) > 0 {
		k := s.order[0]
		r := s.byKey[k]
		if len(s.order) <= maxRequests && s.bytes <= maxRequestBytes && now.Sub(r.signed) < requestTTL {
			return
		}
		s.order = s.order[1:]
		delete(s.byKey, k)
		s.bytes -= len(k) + len(r.env)
	}
}
