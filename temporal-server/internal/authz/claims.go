package authz

import (
	"crypto/subtle"
	"encoding/hex"
	"strconv"
	"strings"

	"go.temporal.io/server/common/authorization"

	"github.com/foureyes/foureyes/formats/authzconfig"
)

// Auth types of the claims the ClaimMapper makes (the principal's type in
// history when principal propagation is on).
const (
	AuthTypeAPIKey = "apikey"
	AuthTypeMTLS   = "mtls"
)

// Caller is who made a call, kept in Claims.Extensions. Err is set when a
// credential was presented but does not name one identity: the authorizer
// denies the call with it (so that the denial is logged with the API).
type Caller struct {
	Identity string
	Role     string
	Err      string
}

// ClaimMapper maps a call's credentials to an identity of the config: an API
// key ("authorization: Bearer KEY", what the SDK's
// client.NewAPIKeyStaticCredentials sends) by its SHA-256, an mTLS client
// certificate by its subject. Every credential presented must be known, and
// when both are, they must name the same identity.
type ClaimMapper struct {
	ids []authzconfig.Identity
}

var (
	_ authorization.ClaimMapper                     = (*ClaimMapper)(nil)
	_ authorization.ClaimMapperWithAuthInfoRequired = (*ClaimMapper)(nil)
)

// NewClaimMapper returns the claim mapper of c's identities.
func NewClaimMapper(c *authzconfig.Config) *ClaimMapper { return &ClaimMapper{ids: c.Identities} }

// AuthInfoRequired: a call with no credential gets no claims at all (nil),
// which the authorizer denies.
func (m *ClaimMapper) AuthInfoRequired() bool { return true }

// GetClaims never fails: a bad credential becomes claims whose Caller has
// Err, denied (and logged with the API) by the authorizer.
func (m *ClaimMapper) GetClaims(ai *authorization.AuthInfo) (*authorization.Claims, error) {
	var byKey, byCert *authzconfig.Identity
	authType := ""
	if ai.AuthToken != "" {
		authType = AuthTypeAPIKey
		key, ok := strings.CutPrefix(ai.AuthToken, "Bearer ")
		if !ok || key == "" {
			return denied(authType, "authorization header is not \"Bearer API-KEY\""), nil
		}
		if byKey = m.byKey(key); byKey == nil {
			return denied(authType, "unknown API key (sha256 "+authzconfig.HashKey(key)[:12]+"…)"), nil
		}
	}
	if ai.TLSSubject != nil {
		subject := authzconfig.SubjectString(ai.TLSSubject)
		if byCert = m.bySubject(subject); byCert == nil {
			return denied(AuthTypeMTLS, "unknown client certificate subject "+strconv.Quote(subject)), nil
		}
		if byKey != nil && byKey.Name != byCert.Name {
			return denied(AuthTypeAPIKey, "API key of "+byKey.Name+" with the certificate of "+byCert.Name), nil
		}
		if byKey == nil {
			authType = AuthTypeMTLS
		}
	}
	id := byKey
	if id == nil {
		id = byCert
	}
	if id == nil {
		return nil, nil
	}
	return &authorization.Claims{Subject: id.Name, AuthType: authType,
		Extensions: &Caller{Identity: id.Name, Role: id.Role}}, nil
}

func denied(authType, reason string) *authorization.Claims {
	return &authorization.Claims{AuthType: authType, Extensions: &Caller{Err: reason}}
}

// byKey compares the key's hash with every identity's, in constant time and
// without stopping at a match.
func (m *ClaimMapper) byKey(key string) *authzconfig.Identity {
	sum := authzconfig.HashKey(key)
	want, _ := hex.DecodeString(sum)
	var found *authzconfig.Identity
	for i := range m.ids {
		h, err := hex.DecodeString(m.ids[i].APIKeySHA256)
		if err != nil || len(h) != len(want) {
			continue
		}
		if subtle.ConstantTimeCompare(h, want) == 1 {
			found = &m.ids[i]
		}
	}
	return found
}

func (m *ClaimMapper) bySubject(s string) *authzconfig.Identity {
	for i := range m.ids {
		if m.ids[i].CertSubject != "" && m.ids[i].CertSubject == s {
			return &m.ids[i]
		}
	}
	return nil
}
