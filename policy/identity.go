package policy

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"slices"
)

// IdentityForToken finds the human or bot whose token_sha256 is the SHA-256
// of token. Every hash is compared in constant time, without stopping at a
// match, so timing does not tell how far a guess got.
func (p *Policy) IdentityForToken(token string) (string, bool) {
	if token == "" {
		return "", false
	}
	sum := sha256.Sum256([]byte(token))
	want := []byte(hex.EncodeToString(sum[:]))
	found := ""
	match := func(id, hash string) {
		if subtle.ConstantTimeCompare(want, []byte(hash)) == 1 {
			found = id
		}
	}
	for _, h := range p.Humans {
		match(h.ID, h.TokenSHA256)
	}
	for _, b := range p.Bots {
		match(b.ID, b.TokenSHA256)
	}
	return found, found != ""
}

// IdentityForSlack finds the human with Slack user id userID.
func (p *Policy) IdentityForSlack(userID string) (string, bool) {
	if userID == "" {
		return "", false
	}
	for _, h := range p.Humans {
		if h.Slack == userID {
			return h.ID, true
		}
	}
	return "", false
}

// Union is the sorted set of every list's members: the identities (or
// emails) of a change, however many sources name them.
func Union(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
