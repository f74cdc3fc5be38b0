package judge

import (
	"errors"
	"fmt"
	"time"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/policy"
)

// Evidence is what a deploy rests on. The deploy role takes the requester,
// the emergency declaration and every request from the release's own
// history on the server (what the release manager started it with, what
// the approval role sent it), not from its caller; the provenance and the
// review verdict are signed and bound, so whoever passes them on cannot
// change them.
type Evidence struct {
	// Request is what the release was started with (the requester, and
	// their own signed request where the environment asks for one).
	Request    Claim
	Emergency  attest.Envelope
	Provenance attest.Envelope
	Review     attest.Envelope
	Requests   []Request
	// Current is what runs of the service in the environment now (nil:
	// nothing); the change must start there or cover it.
	Current *Running
	// Required is what runs in the environment the promotion rule names
	// (nil: nothing), for releases whose environment has one.
	Required *policy.Deployment
}

// Running is one deploy record: which release put which commit there.
type Running struct{ Commit, Release string }

// Deploy is the whole judgement before a deploy of rel at now: the build
// and review facts, the source and its authors, the emergency, every
// gate replayed over every request, the freeze windows and the promotion
// rule. It returns the replay, and why rel may not deploy (nil: it may).
func (j *Judge) Deploy(rel Release, ev Evidence, now time.Time) (Gates, error) {
	f, err := j.facts(rel, ev)
	if err != nil {
		return Gates{}, err
	}
	g := j.Replay(rel, f, ev.Requests)
	if err := g.Passed(); err != nil {
		return g, err
	}
	if w, ok := j.Policy.Frozen(rel.Environment, policy.GateApproval, now); ok {
		return g, fmt.Errorf("freeze window: %s until %s", w.Reason, w.End.UTC().Format(time.RFC3339))
	}
	return g, j.promotion(rel, f.Declarer != "", ev.Required, now)
}

// facts verifies the provenance, the source, the review and the emergency,
// and gathers what the separation rules ask about.
func (j *Judge) facts(rel Release, ev Evidence) (Facts, error) {
	p, err := j.Provenance(rel, ev.Provenance)
	if err != nil {
		return Facts{}, err
	}
	authors, unmapped, err := j.Source(rel, p.BuildDefinition.ExternalParameters, ev.Current)
	if err != nil {
		return Facts{}, err
	}
	r, err := j.Review(rel, ev.Review)
	if err != nil {
		return Facts{}, err
	}
	if !r.Passed {
		return Facts{}, fmt.Errorf("review verdict: the automated review failed (%d findings)", len(r.Findings))
	}
	requester, err := j.Requester(rel, ev.Request)
	if err != nil {
		return Facts{}, err
	}
	f := Facts{Authors: authors, Unmapped: unmapped, Signers: SignedOnly(j.Policy, p.BuildDefinition.ExternalParameters.Change, p.BuildDefinition.ExternalParameters.Authors), Requester: requester, Comments: true,
		Executors: []string{p.RunDetails.Builder.ID, r.Reviewer}}
	if len(ev.Emergency) > 0 {
		if f.Declarer, err = j.Declarer(rel, ev.Emergency, requester); err != nil {
			return Facts{}, err
		}
	}
	return f, nil
}

// Source: a service the policy names a repository for was built from that
// repository, with the change's authors read from git and attested; the
// change starts at what runs now (or covers it), else its authors could
// miss someone's commits. A service without a repository only where the
// environment allows it, its authors only those declared.
func (j *Judge) Source(rel Release, p attest.BuildParameters, cur *Running) (authors, unmapped []string, err error) {
	repo, listed := j.Policy.Service(rel.Service)
	switch {
	case !listed && p.Repository != "":
		return nil, nil, fmt.Errorf("build provenance: built from %s, but the policy names no repository for %s", p.Repository, rel.Service)
	case !listed && !j.Policy.AllowsNoRepository(rel.Environment):
		return nil, nil, fmt.Errorf("service %s has no repository in the policy, and environment %s refuses services without one", rel.Service, rel.Environment)
	case !listed:
		return p.Authors, nil, nil
	case p.Repository != repo.Repository:
		return nil, nil, fmt.Errorf("build provenance: built from %q, but the policy's repository of %s is %q", p.Repository, rel.Service, repo.Repository)
	case p.Change == nil:
		return nil, nil, fmt.Errorf("build provenance: no change read from git for %s (its authors are unknown)", rel.Service)
	case cur != nil && cur.Commit != p.Change.Base && !p.Change.Contains(cur.Commit):
		return nil, nil, fmt.Errorf("the change was read from %s, but %s is deployed to %s/%s now (release %s) and is not part of it: "+
			"its authors are not known; start a new release", orNothing(p.Change.Base), cur.Commit, rel.Environment, rel.Service, cur.Release)
	case j.Policy.CommitsMustBeSigned(rel.Service, rel.Environment):
		if err := AllSigned(p.Change, rel.Service, rel.Environment); err != nil {
			return nil, nil, err
		}
	}
	ids, unmapped := j.Policy.MapEmails(p.Change.Emails)
	return policy.Union(p.Authors, ids, p.Change.Identities), policy.Union(unmapped, p.Change.Unmapped), nil
}

func orNothing(commit string) string {
	if commit == "" {
		return "nothing deployed"
	}
	return commit
}

// promotion judges the environment's promotion rule on what runs in the
// required environment at now: the digest must run there verified for
// long enough. An emergency skips it only where the policy says so.
func (j *Judge) promotion(rel Release, emergency bool, required *policy.Deployment, now time.Time) error {
	req, ok := j.Policy.Requirement(rel.Environment)
	if !ok {
		return nil
	}
	if e, _ := j.Policy.EmergencyRule(rel.Environment); emergency && e.SkipRequires {
		return nil
	}
	if v := req.Judge(required, rel.Digest, now); !v.Met {
		return errors.New("promotion rule: " + v.Reason)
	}
	return nil
}
