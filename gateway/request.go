package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/policy"
)

// Limits on request fields.
const (
	maxIDLen      = 255
	maxCommentLen = 4000
)

// badRequest is a client error with its HTTP status.
type badRequest struct {
	status int
	msg    string
}

func (e *badRequest) Error() string { return e.msg }

func invalid(format string, args ...any) *badRequest {
	return &badRequest{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// decodeRequest reads a decision request.
func decodeRequest(w http.ResponseWriter, r *http.Request, max int64) (api.DecisionRequest, *badRequest) {
	var req api.DecisionRequest
	if bad := decodeStrict(w, r, max, &req); bad != nil {
		return req, bad
	}
	return req, validateDecision(req)
}

// decodeStrict reads one JSON object of at most max bytes into v, refusing
// unknown fields (such as an identity) and trailing data.
func decodeStrict(w http.ResponseWriter, r *http.Request, max int64, v any) *badRequest {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, max))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, max)
	}
	if err := dec.Decode(new(json.RawMessage)); err != io.EOF {
		if tooLarge(err) {
			return decodeError(err, max)
		}
		return invalid("body must hold a single JSON object")
	}
	return nil
}

func tooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

// decodeError turns a json decoding error into a message naming the problem.
func decodeError(err error, max int64) *badRequest {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case tooLarge(err):
		return &badRequest{http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", max)}
	case errors.Is(err, io.EOF):
		return invalid("empty body: want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("malformed JSON: unexpected end of body")
	case errors.As(err, &syn):
		return invalid("malformed JSON at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ) && typ.Field != "":
		return invalid("field %s: must be a %s", typ.Field, jsonKind(typ.Type.Kind().String()))
	case errors.As(err, &typ):
		return invalid("body must be a JSON object")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return invalid("%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return invalid("malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func jsonKind(goKind string) string {
	if goKind == "string" {
		return "string"
	}
	return "JSON " + goKind
}

// validate checks the fields the workflow needs.
func validateDecision(q api.DecisionRequest) *badRequest {
	switch {
	case q.ReleaseID == "":
		return invalid("release_id is required")
	case !validID(q.ReleaseID):
		return invalid("field release_id: must be at most %d printable characters without spaces", maxIDLen)
	case q.Gate != policy.GateReview && q.Gate != policy.GateApproval && q.Gate != api.GateFollowUp:
		return invalid("field gate: must be %s, %s or %s", policy.GateReview, policy.GateApproval, api.GateFollowUp)
	case q.Verdict != api.VerdictApprove && q.Verdict != api.VerdictReject:
		return invalid("field verdict: must be %s or %s", api.VerdictApprove, api.VerdictReject)
	case q.Verdict == api.VerdictReject && strings.TrimSpace(q.Comment) == "":
		return invalid("field comment: a rejection needs a comment: say why")
	case q.RequestID != "" && !validID(q.RequestID):
		return invalid("field request_id: must be at most %d printable characters without spaces", maxIDLen)
	case len(q.Comment) > maxCommentLen:
		return invalid("field comment: longer than %d bytes", maxCommentLen)
	}
	return nil
}

func validID(s string) bool {
	if len(s) > maxIDLen {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// bearerToken extracts TOKEN from "Authorization: Bearer TOKEN".
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}
