package gateway

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"

	"github.com/foureyes/foureyes/api"
)

// Challenges the page hands out live briefly and are taken once: the nonce
// stays with the gateway, so an assertion for a challenge it did not issue
// (or issued to someone else, or already used) is refused before anything
// reaches the release.
const (
	challengeTTL  = 3 * time.Minute
	maxChallenges = 10000
)

// challenge is one statement the page asked a person to sign.
type challenge struct {
	identity string
	purpose  string
	req      api.DecisionRequest // with the statement as req.Proof.Statement (approve)
	nonce    []byte
	expires  time.Time
}

type challenges struct {
	mu sync.Mutex
	m  map[string]challenge
}

// issue keeps c under a new random nonce and returns the nonce.
func (cs *challenges) issue(c challenge) []byte {
	c.nonce = make([]byte, 32)
	_, _ = rand.Read(c.nonce)
	c.expires = time.Now().Add(challengeTTL)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.m == nil {
		cs.m = map[string]challenge{}
	}
	if len(cs.m) >= maxChallenges {
		cs.sweep()
	}
	cs.m[base64.RawURLEncoding.EncodeToString(c.nonce)] = c
	return c.nonce
}

// take removes and returns the live challenge of nonce (single use).
func (cs *challenges) take(nonce string) (challenge, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c, ok := cs.m[nonce]
	delete(cs.m, nonce)
	return c, ok && time.Now().Before(c.expires)
}

// sweep drops expired challenges, and if none expired, all of them: a
// flood costs its senders their own challenges, not the gateway's memory.
func (cs *challenges) sweep() {
	now := time.Now()
	for k, c := range cs.m {
		if now.After(c.expires) {
			delete(cs.m, k)
		}
	}
	if len(cs.m) >= maxChallenges {
		clear(cs.m)
	}
}
