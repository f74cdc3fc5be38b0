package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/policy"
)

// handlePageLink answers POST /v1/pages: a link to the caller's own
// approval page for a release's gate, or to their enroll page. The token
// names the identity; the link is theirs alone.
func (s *Server) handlePageLink(w http.ResponseWriter, r *http.Request) {
	c, ok := s.admit(w, r, api.ChannelAPI)
	if !ok {
		return
	}
	var req api.PageRequest
	if bad := decodeStrict(w, r, s.maxBody, &req); bad != nil {
		writeError(w, bad.status, bad.msg)
		return
	}
	link, err := s.PageLink(c.identity, req)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, link)
}

// PageLink mints identity's link for req.
func (s *Server) PageLink(identity string, req api.PageRequest) (api.PageLink, error) {
	l := pageLink{Purpose: req.Purpose, Release: req.ReleaseID, Gate: req.Gate, Identity: identity,
		Expires: time.Now().Add(PageLinkTTL).Truncate(time.Second)}
	switch {
	case s.page == nil:
		return api.PageLink{}, errors.New("this gateway serves no approval page (FOUREYES_APPROVAL_PAGE_URL)")
	case !mayOpen(s.policy, identity):
		return api.PageLink{}, errNotHuman(identity)
	case l.Purpose == PurposeEnroll:
		l.Release, l.Gate = "", ""
	case l.Purpose != PurposeApprove:
		return api.PageLink{}, fmt.Errorf("field purpose: must be %s or %s", PurposeApprove, PurposeEnroll)
	case l.Release == "" || !validID(l.Release):
		return api.PageLink{}, errors.New("field release_id: the release to approve is required")
	case l.Gate != policy.GateReview && l.Gate != policy.GateApproval && l.Gate != api.GateFollowUp:
		return api.PageLink{}, fmt.Errorf("field gate: must be %s, %s or %s", policy.GateReview, policy.GateApproval, api.GateFollowUp)
	}
	return api.PageLink{URL: s.page.keys.URL(l), Expires: l.Expires.UTC()}, nil
}

func errNotHuman(identity string) error {
	return fmt.Errorf("%s is not a human of the policy: the approval page is for people (bots sign with SSH keys)", identity)
}

func errForeignOrigin(origin string) error {
	return fmt.Errorf("posted from origin %q, not the approval page's", origin)
}

func errField(name string) error {
	return fmt.Errorf("field %s: must be non-empty base64url", name)
}

func randomID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
