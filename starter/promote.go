package main

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
)

// cmdPromote starts the next environment's release of a deployed
// release's artifact: the same digest, commit and authors, no rebuild. The
// promoted release's provenance goes along exactly as the build role
// signed it; the new release verifies it, and so does the deploy role.
func cmdPromote(e *env, args []string) error {
	fs := newFlags("promote")
	to := fs.String("to", "", "required: the environment to promote to, `ENV` as named in the policy")
	requester := fs.String("requester", e.getenv("FOUREYES_IDENTITY"), "requester `IDENTITY`")
	title := fs.String("title", "", "title (default: the promoted release's)")
	wait := fs.Bool("wait", false, "wait for the result")
	asJSON := fs.Bool("json", false, "print JSON")
	var em emergencyFlags
	em.define(e, fs)
	em.key.define(e, fs)
	pos, err := parseArgs(fs, args, "RELEASE")
	if err != nil {
		return err
	}
	var req api.ReleaseRequest
	err = withClient(e, func(ctx context.Context, c client.Client) error {
		req, err = promotion(ctx, c, pos[0], *to)
		return err
	})
	if err != nil {
		return err
	}
	req.Requester = *requester
	if *title != "" {
		req.Title = *title
	}
	if err := em.key.asRequester(e, &req); err != nil {
		return err
	}
	if err := validateStart(&req); err != nil {
		return err
	}
	return startDeclared(e, req, em, *wait, *asJSON)
}

// promotion is the request promoting release id to env: only a deployed
// release with a signed build provenance can be promoted.
func promotion(ctx context.Context, c client.Client, id, env string) (api.ReleaseRequest, error) {
	var st api.Status
	if err := query(ctx, c, id, api.QueryStatus, &st); err != nil {
		return api.ReleaseRequest{}, err
	}
	if err := promotable(st, env); err != nil {
		return api.ReleaseRequest{}, err
	}
	var trail audit.Trail
	if err := query(ctx, c, id, api.QueryAudit, &trail); err != nil {
		return api.ReleaseRequest{}, err
	}
	prov, err := provenanceOf(trail.Entries)
	if err != nil {
		return api.ReleaseRequest{}, fail(exitFailure, "release %s: %v", id, err)
	}
	q := st.Request
	return api.ReleaseRequest{Service: q.Service, Environment: env, Commit: st.Commit, Authors: q.Authors,
		Title: q.Title, Link: q.Link, Promotes: &api.Promotion{Release: id, Provenance: prov}}, nil
}

func promotable(st api.Status, env string) error {
	switch {
	case env == "":
		return fail(exitUsage, "--to: required (the environment to promote to)")
	case st.Result == nil || st.Result.Status != api.StatusDeployed:
		return fail(exitFailure, "release %s is %s: only a deployed release can be promoted", st.ReleaseID, st.Status)
	case st.Request.Environment == env:
		return fail(exitUsage, "--to: release %s is already in %s", st.ReleaseID, env)
	case st.Commit == "":
		return fail(exitFailure, "release %s has no resolved commit to promote", st.ReleaseID)
	}
	return nil
}

// provenanceOf is the build role's signed provenance in the code stage's
// entry of a trail (the release verified it before recording it).
func provenanceOf(entries []audit.Entry) (attest.Envelope, error) {
	for _, e := range entries {
		if e.Type == audit.EventStageFinished && e.Stage == api.StageCode && len(e.Envelope) > 0 {
			return attest.Envelope(e.Envelope), nil
		}
	}
	return nil, errors.New("no signed build provenance in its trail")
}

// promotesLine is how status names the link between releases.
func promotesLine(st api.Status) string {
	if st.Promotes == "" {
		return ""
	}
	return fmt.Sprintf("%s (same artifact, no rebuild)", st.Promotes)
}
