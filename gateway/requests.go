package gateway

import (
	"crypto/sha256"
	"encoding/json"
	"sync"
	"time"

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

// requestTTL is how long a signed request is kept for its retries: longer
// than any client retries one decision.
const requestTTL = time.Hour

// maxRequests bounds the kept requests (a flood of distinct ones evicts
// the oldest first).
const maxRequests = 20000

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
	s.evict(now)
	return env, nil
}

// evict drops the oldest requests while there are more than maxRequests
// or they are older than requestTTL. order is in the order signed, and
// holds the keys of byKey: a key is added only when it is not kept.
func (s *signedRequests) evict(now time.Time) {
	for len(s.order) > 0 {
		k := s.order[0]
		if len(s.order) <= maxRequests && now.Sub(s.byKey[k].signed) < requestTTL {
			return
		}
		s.order = s.order[1:]
		delete(s.byKey, k)
	}
}
