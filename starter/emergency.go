package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"github.com/foureyes/foureyes/api"
)

// emergencyFlags: --emergency REASON makes the release a break-glass one,
// declared by the API token's identity (a release manager) through the
// gateway, which signs the declaration for the release id chosen here.
type emergencyFlags struct {
	reason, tokenFile, gatewayURL string
	key                           ownKey // the requester's own key, to sign the request
}

func (f *emergencyFlags) define(e *env, fs *flag.FlagSet) {
	fs.StringVar(&f.reason, "emergency", "", "break-glass: declare the release an emergency, with this `REASON` (release managers; needs the API token)")
	fs.StringVar(&f.tokenFile, "token-file", "", "`FILE` holding the API token (default $FOUREYES_TOKEN), for --emergency")
	fs.StringVar(&f.gatewayURL, "gateway", e.envOr("FOUREYES_GATEWAY_URL", "http://127.0.0.1:8480"), "gateway `URL`, for --emergency")
}

// declare asks the gateway to sign the emergency of release id; the
// release carries the signed declaration from its start.
func (f *emergencyFlags) declare(e *env, id string, req api.ReleaseRequest) (json.RawMessage, error) {
	token, err := readToken(e, f.tokenFile)
	if err != nil {
		return nil, err
	}
	status, raw, err := gatewayClient{f.gatewayURL, token}.post(api.PathEmergencies,
		api.EmergencyRequest{ReleaseID: id, Service: req.Service, Environment: req.Environment, Reason: f.reason, RequestID: uuid.NewString()})
	if err != nil {
		return nil, err
	}
	var ans struct {
		api.EmergencyAnswer
		Error string `json:"error"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil || status != http.StatusOK {
		return nil, fail(exitFailure, "--emergency: the gateway answered %d: %s%v", status, ans.Error, orNil(err))
	}
	return json.RawMessage(ans.Envelope), nil
}

func orNil(err error) string {
	if err == nil {
		return ""
	}
	return fmt.Sprintf(" (%v)", err)
}
