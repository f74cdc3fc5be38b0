package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/policy"
)

// source is what a release with git sources learned about its commit.
type source struct {
	enabled  bool   // this release takes its source from git (version)
	listed   bool   // the policy names the service's repository
	repo     string // as the policy names it
	base     attest.DeployedState
	commit   string         // the full SHA the build resolved and attested
	change   *attest.Change // attested by the build role
	authors  []string       // identities of the change's emails (mapped here and attested)
	unmapped []string       // emails of the change nobody has
}

// validateSource checks the request against the service's entry: a
// repository takes any SHA, tag or branch; a service without one only where
// the environment allows it, with a full SHA and declared authors.
func (r *release) validateSource() string {
	q := r.req
	svc, listed := r.pol.Service(q.Service)
	r.src.listed, r.src.repo = listed, svc.Repository
	switch {
	case listed && !api.ValidRevision(q.Commit):
		return fmt.Sprintf("commit %q is not a commit SHA (full or short), a tag or a branch", q.Commit)
	case listed:
		return ""
	case !r.pol.AllowsNoRepository(q.Environment):
		return fmt.Sprintf("service %s has no repository in the policy, and environment %s refuses services "+
			"without one (services_without_repository; fail closed)", q.Service, q.Environment)
	case !api.ValidCommit(q.Commit):
		return fmt.Sprintf("service %s has no repository to resolve %q in: give the full 40-hex commit", q.Service, q.Commit)
	case len(q.Authors) == 0:
		return fmt.Sprintf("the change has no author (service %s has no repository to read them from)", q.Service)
	}
	return ""
}

// askDeployed asks the deploy role, before the build, what is deployed to
// the service and environment, and verifies its signed answer: the build
// role starts the change there.
func (r *release) askDeployed(ctx workflow.Context) (attest.Envelope, error) {
	opts := workflow.ActivityOptions{TaskQueue: api.QueueDeploy, StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 30 * time.Second, MaximumAttempts: 5},
		Summary: fmt.Sprintf("code: what is deployed to %s in %s", r.req.Service, r.req.Environment)}
	res, err := call(workflow.WithActivityOptions(ctx, opts), deployRole.Deployed,
		api.DeployedInput{ReleaseID: r.id, Service: r.req.Service, Environment: r.req.Environment,
			PolicyHash: r.policyHash})
	if err != nil {
		return nil, fmt.Errorf("what is deployed to %s in %s could not be asked: %w", r.req.Service, r.req.Environment, err)
	}
	st := &r.src.base
	err = r.verifyFact(res.Statement, attest.RoleDeploy, attest.PredicateDeployed,
		attest.DeploymentSubject(r.req.Service, r.req.Environment), st, func() attest.Binding { return st.Binding })
	if err == nil && (st.Service != r.req.Service || st.Environment != r.req.Environment) {
		err = fmt.Errorf("it is about %s in %s", st.Service, st.Environment)
	}
	if err != nil {
		return nil, errors.New("the deploy role's statement of what is deployed refused (fail closed): " + err.Error())
	}
	return res.Statement, nil
}

// verifySource checks the provenance's account of the source: the
// requested ref, resolved to a full SHA, from the policy's repository, with
// the change starting at the commit the deploy role said is deployed.
func (r *release) verifySource(ext attest.BuildParameters) error {
	q := r.req
	switch {
	case !r.src.listed:
		if ext.Repository != "" || ext.Commit != q.Commit {
			return fmt.Errorf("provenance is for %s from %q, not %s without a repository", ext.Commit, ext.Repository, q.Commit)
		}
		return nil
	case ext.Ref != q.Commit:
		return fmt.Errorf("provenance is for %q, not the requested %q", ext.Ref, q.Commit)
	case !api.ValidCommit(ext.Commit) || (api.ValidCommit(q.Commit) && ext.Commit != q.Commit):
		return fmt.Errorf("provenance resolved %q to %q", q.Commit, ext.Commit)
	case ext.Repository != r.src.repo:
		return fmt.Errorf("provenance is for repository %q, not the policy's %q", ext.Repository, r.src.repo)
	case ext.Change == nil || len(ext.Change.Commits) == 0:
		return errors.New("provenance reads no change from git")
	case ext.Change.Base != r.src.base.Commit:
		return fmt.Errorf("the change starts at %q, but the deploy role said %q is deployed", ext.Change.Base, r.src.base.Commit)
	}
	r.src.commit, r.src.change = ext.Commit, ext.Change
	ids, unmapped := r.pol.MapEmails(ext.Change.Emails)
	r.src.authors = policy.Union(ids, ext.Change.Identities)
	r.src.unmapped = policy.Union(unmapped, ext.Change.Unmapped)
	return nil
}

// commitSHA is the commit the release deploys: the one the build resolved,
// else (before the build, or without git sources) the one requested.
func (r *release) commitSHA() string {
	if r.src.commit != "" {
		return r.src.commit
	}
	return r.req.Commit
}

// authors are the declared authors and those the change's commits name.
func (r *release) authors() []string {
	if len(r.src.authors) == 0 {
		return r.req.Authors
	}
	return policy.Union(r.req.Authors, r.src.authors)
}

// describeChange is the audit detail of the attested source.
func (r *release) describeChange() string {
	c := r.src.change
	if c == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "; commit %s (%s) of %s; change: %s", r.src.commit, r.req.Commit, r.src.repo, countCommits(c.CommitCount))
	switch {
	case c.Base == "":
		b.WriteString(", nothing deployed before (the commit alone)")
	case !c.BaseIsAncestor:
		fmt.Fprintf(&b, " since %s (release %s), which is not an ancestor: every commit since their merge base", shortCommit(c.Base), c.BaseRelease)
	default:
		fmt.Fprintf(&b, " since %s (release %s)", shortCommit(c.Base), c.BaseRelease)
	}
	fmt.Fprintf(&b, "; authors from git: %s", orNone(strings.Join(r.src.authors, ", ")))
	if len(r.src.unmapped) > 0 {
		fmt.Fprintf(&b, "; emails that map to nobody: %s", strings.Join(r.src.unmapped, ", "))
		if !r.pol.AllowsUnmapped(r.req.Environment) {
			b.WriteString(" (they block every approval)")
		}
	}
	return b.String()
}

func countCommits(n int) string {
	if n == 1 {
		return "1 commit"
	}
	return fmt.Sprintf("%d commits", n)
}

// commitLines are the change's first n commits as people are shown them.
func (r *release) commitLines(n int) []api.CommitLine {
	c := r.src.change
	if c == nil {
		return nil
	}
	var out []api.CommitLine
	for _, k := range c.Commits[:min(n, len(c.Commits))] {
		who := k.Author
		if id, ok := r.pol.IdentityForEmail(k.Author); ok {
			who = id
		}
		out = append(out, api.CommitLine{Short: shortCommit(k.SHA), Subject: k.Subject, Author: who, Proof: k.Proof()})
	}
	return out
}

// changeView is the change as the status query shows it (at most 20 commits).
func (r *release) changeView() *api.Change {
	c := r.src.change
	if c == nil {
		return nil
	}
	return &api.Change{Repository: r.src.repo, Ref: r.req.Commit, Base: c.Base, BaseRelease: c.BaseRelease,
		BaseIsAncestor: c.BaseIsAncestor, Commits: c.Commits[:min(20, len(c.Commits))], CommitCount: c.CommitCount,
		Authors: r.src.authors, Unmapped: r.src.unmapped, Baseline: c.Baseline, Signers: c.Signers, Unproven: c.Unproven}
}
