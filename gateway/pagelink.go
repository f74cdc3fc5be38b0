package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/policy"
)

// A page link is the only credential the approval and enroll pages take:
// minted by the gateway for one identity (after a Slack click or a bearer
// token), it names the page's purpose, release, gate and expiry under an
// HMAC of the gateway's page secret. It lets its holder see the page and
// ask for a challenge; only the person's passkey makes a decision count.
const (
	PurposeApprove = "approve"
	PurposeEnroll  = "enroll"
	// PageLinkTTL is how long a minted link opens its page.
	PageLinkTTL = time.Hour
)

// pageLink is what a link names.
type pageLink struct {
	Purpose, Release, Gate, Identity string
	Expires                          time.Time
}

// pageKeys signs and checks links; origin is the page's scheme://host[:port].
type pageKeys struct {
	secret []byte
	base   *url.URL
}

func newPageKeys(base string, secret []byte) (*pageKeys, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("page URL %q: want https://HOST[:PORT] (http only for localhost)", base)
	}
	if u.Scheme == "http" && u.Hostname() != "localhost" {
		return nil, fmt.Errorf("page URL %q: plain http is only for localhost (browsers give passkeys to https pages)", base)
	}
	if len(secret) == 0 {
		secret = make([]byte, 32) // links then die with the process
		_, _ = rand.Read(secret)
	}
	return &pageKeys{secret: secret, base: u}, nil
}

// RPID is the passkeys' relying party: the page's host name.
func (k *pageKeys) RPID() string { return k.base.Hostname() }

// Origin is the page's origin as browsers report it in client data.
func (k *pageKeys) Origin() string { return k.base.Scheme + "://" + k.base.Host }

func (k *pageKeys) mac(l pageLink) []byte {
	m := hmac.New(sha256.New, k.secret)
	fmt.Fprintf(m, "foureyes-page-v1\x00%s\x00%s\x00%s\x00%s\x00%d", l.Purpose, l.Release, l.Gate, l.Identity, l.Expires.Unix())
	return m.Sum(nil)
}

// URL is the link to l's page.
func (k *pageKeys) URL(l pageLink) string {
	q := url.Values{"as": {l.Identity}, "until": {strconv.FormatInt(l.Expires.Unix(), 10)},
		"sig": {base64.RawURLEncoding.EncodeToString(k.mac(l))}}
	if l.Purpose == PurposeApprove {
		q.Set("release", l.Release)
		q.Set("gate", l.Gate)
	}
	return k.base.String() + "/" + l.Purpose + "?" + q.Encode()
}

// read checks the link r was opened (or posted) with, for purpose.
func (k *pageKeys) read(r *http.Request, purpose string) (pageLink, error) {
	q := r.URL.Query()
	l := pageLink{Purpose: purpose, Release: q.Get("release"), Gate: q.Get("gate"), Identity: q.Get("as")}
	until, err := strconv.ParseInt(q.Get("until"), 10, 64)
	sig, err2 := base64.RawURLEncoding.DecodeString(q.Get("sig"))
	switch {
	case l.Identity == "" || err != nil || err2 != nil || len(sig) == 0:
		return l, errors.New("no page link: open the link from the Slack prompt, `starter page` or `starter passkey enroll`")
	case !hmac.Equal(sig, k.mac(pageLink{purpose, l.Release, l.Gate, l.Identity, time.Unix(until, 0)})):
		return l, errors.New("this link was not made by this gateway (or was altered)")
	}
	l.Expires = time.Unix(until, 0)
	if time.Now().After(l.Expires) {
		return l, fmt.Errorf("this link expired at %s: ask for a new one", l.Expires.UTC().Format(time.RFC3339))
	}
	return l, nil
}

// linkEvidence names the link a page decision came with, without revealing it.
func linkEvidence(r *http.Request) attest.Evidence {
	sum := sha256.Sum256([]byte(r.URL.Query().Get("sig")))
	return attest.Evidence{Kind: "page", TokenFingerprint: hex.EncodeToString(sum[:])[:16]}
}

// mayOpen: only an identity the policy lists as a human gets a page (bots
// sign with SSH keys).
func mayOpen(p *policy.Policy, identity string) bool {
	for _, h := range p.Humans {
		if h.ID == identity {
			return true
		}
	}
	return false
}

// newPage is the page's state; a bad URL serves no page (CheckPageURL
// tells the operator at start).
func (s *Server) newPage(base string, secret []byte) *pageState {
	k, err := newPageKeys(base, secret)
	if err != nil {
		s.log.Error("no approval page", "error", err)
		return nil
	}
	return &pageState{keys: k}
}

// CheckPageURL tells whether base can serve the approval page.
func CheckPageURL(base string) error {
	_, err := newPageKeys(base, []byte{1})
	return err
}
