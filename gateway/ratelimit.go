package gateway

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit is the token bucket each authenticated identity gets, so that a
// flood of decisions (refused or not) from one identity cannot crowd out the
// others or fill a release's history.
type RateLimit struct {
	PerSecond float64 // tokens added per second; 0 disables the limit
	Burst     int     // bucket size (at least 1 when enabled)
}

// DefaultRateLimit applies when Options.RateLimit is nil.
var DefaultRateLimit = RateLimit{PerSecond: 5, Burst: 20}

// maxLimiters bounds the limiter map. Token identities come from the policy,
// but Slack users do not ("slack:USER"), so the map must not grow with them.
const maxLimiters = 10000

// limiters holds one bucket per identity. An identity whose bucket is full
// is forgotten when room is needed: a new bucket starts full, so nothing is
// lost. Identities beyond maxLimiters share one overflow bucket.
type limiters struct {
	limit    RateLimit
	mu       sync.Mutex
	byID     map[string]*rate.Limiter
	overflow *rate.Limiter
}

func newLimiters(l *RateLimit) *limiters {
	if l == nil {
		l = &DefaultRateLimit
	}
	if l.PerSecond <= 0 {
		return nil
	}
	lim := &limiters{limit: *l, byID: map[string]*rate.Limiter{}}
	lim.limit.Burst = max(lim.limit.Burst, 1)
	lim.overflow = lim.newBucket()
	return lim
}

func (l *limiters) newBucket() *rate.Limiter {
	return rate.NewLimiter(rate.Limit(l.limit.PerSecond), l.limit.Burst)
}

// wait takes a token from identity's bucket; when there is none it returns
// how long until there is.
func (l *limiters) wait(identity string) time.Duration {
	if l == nil {
		return 0
	}
	r := l.bucket(identity).Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return d
	}
	return 0
}

func (l *limiters) bucket(identity string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.byID[identity]; ok {
		return b
	}
	if len(l.byID) >= maxLimiters {
		l.forgetIdle()
	}
	if len(l.byID) >= maxLimiters {
		return l.overflow
	}
	b := l.newBucket()
	l.byID[identity] = b
	return b
}

// forgetIdle drops the buckets that are full again.
func (l *limiters) forgetIdle() {
	now := time.Now()
	for id, b := range l.byID {
		if b.TokensAt(now) >= float64(l.limit.Burst) {
			delete(l.byID, id)
		}
	}
}

// describe names the limit, for the 429 answer.
func (l *limiters) describe(identity string) string {
	return fmt.Sprintf("%s may send %g requests per second (bursts of %d)", identity, l.limit.PerSecond, l.limit.Burst)
}

// retryAfter is a Retry-After value: whole seconds, at least one.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// limited answers 429 when identity is over its limit.
func (s *Server) limited(w http.ResponseWriter, identity string) bool {
	d := s.limits.wait(identity)
	if d <= 0 {
		return false
	}
	s.log.Warn("rate limited", "identity", identity, "retry_after", retryAfter(d))
	w.Header().Set("Retry-After", retryAfter(d))
	writeError(w, http.StatusTooManyRequests, "rate limited: "+s.limits.describe(identity)+"; retry in "+retryAfter(d)+"s")
	return true
}
