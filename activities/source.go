package activities

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/judge"
	"github.com/foureyes/foureyes/policy"
)

// buildFromGit resolves the release's commit in the service's repository,
// reads the change since the last deploy, and builds the commit: the
// command in a clean worktree (removed afterwards), else git archive.
func (a *BuildActivities) buildFromGit(ctx context.Context, in api.BuildInput, dir string, l *loadedPolicy, repo, command string) (buildRecord, error) {
	base, baseRelease, err := deployedBase(in, l.ring)
	if err != nil {
		return buildRecord{}, err
	}
	stateDir, err := a.stateDir()
	if err != nil {
		return buildRecord{}, err
	}
	m, err := openMirror(ctx, gitRunner{timeout: a.GitTimeout}, stateDir, a.remote(repo))
	if err != nil {
		return buildRecord{}, err
	}
	defer m.release()
	sha, err := m.resolve(ctx, in.Commit)
	if err != nil {
		return buildRecord{}, err
	}
	change, err := readChange(ctx, m, sha, base, baseRelease, l.pol, in.Service)
	if err != nil {
		return buildRecord{}, err
	}
	if err := judgeChange(l.pol, in, &change); err != nil {
		return buildRecord{}, err
	}
	if command == "" {
		command = a.Command
	}
	tmp, err := tempArtifact(dir, in)
	if err != nil {
		return buildRecord{}, err
	}
	defer os.Remove(tmp)
	out := fmt.Sprintf("%s resolved to %s in %s; ", in.Commit, sha, repo)
	if command == "" {
		err = m.archive(ctx, sha, tmp)
		out += "git archive of " + sha
	} else {
		var cmdOut string
		cmdOut, err = a.buildInWorktree(ctx, m, in, filepath.Join(stateDir, "worktrees"), sha, command, tmp)
		out += "built in a clean worktree\n" + cmdOut
	}
	if err != nil {
		return buildRecord{}, err
	}
	m.release()
	return a.store(dir, tmp, in, sha, out, &builtSource{Repository: repo, Commit: sha, Command: command, Change: change})
}

// buildInWorktree checks the commit out in a worktree of its own, runs the
// command there without holding the mirror, and removes the worktree.
func (a *BuildActivities) buildInWorktree(ctx context.Context, m *mirror, in api.BuildInput, root, sha, command, tmp string) (string, error) {
	name := in.ReleaseID
	if name == "" {
		name = fmt.Sprintf("build-%d", time.Now().UnixNano())
	}
	wt := filepath.Join(root, name)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	if _, err := os.Stat(wt); err == nil { // left by an attempt of this release that was killed
		if err := m.removeWorktree(ctx, wt); err != nil {
			return "", err
		}
	}
	if err := m.addWorktree(ctx, wt, sha); err != nil {
		return "", err
	}
	m.release()
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if m.acquire(cctx) == nil {
			_ = m.removeWorktree(cctx, wt)
		} else {
			_ = os.RemoveAll(wt)
		}
	}()
	return a.runCommand(ctx, in, command, sha, wt, tmp)
}

// stateDir is the build role's own folder.
func (a *BuildActivities) stateDir() (string, error) {
	dir := a.StateDir
	if dir == "" {
		dir = filepath.Join(a.ArtifactDir, ".build")
	}
	return filepath.Abs(dir)
}

// remote is what git fetches a repository from: a URL or scp-like address
// as written, a relative path taken from the folder of the build role's
// policy file.
func (a *BuildActivities) remote(repo string) string {
	if strings.Contains(repo, "://") || scpLike(repo) || filepath.IsAbs(repo) {
		return repo
	}
	policy, err := filepath.Abs(a.PolicyFile)
	if err != nil {
		return repo
	}
	return filepath.Join(filepath.Dir(policy), repo)
}

// scpLike: git reads host:path (a colon before any slash) as ssh.
func scpLike(s string) bool {
	colon, slash := strings.Index(s, ":"), strings.Index(s, "/")
	return colon > 0 && (slash < 0 || colon < slash)
}

// deployedBase reads the deploy role's signed statement of what is deployed
// to the release's service and environment: the change begins there. It
// must be bound to this release and policy; without it the build stops
// (the change, hence its authors, could not be known).
func deployedBase(in api.BuildInput, ring attest.KeyRing) (commit, release string, err error) {
	if len(in.Deployed) == 0 {
		return "", "", refused("no statement of the deploy role says what is deployed to %s in %s: "+
			"the change and its authors cannot be known (fail closed)", in.Service, in.Environment)
	}
	j := &judge.Judge{Keys: ring}
	st, err := j.Deployed(judge.Release{ID: in.ReleaseID, PolicyHash: in.PolicyHash}, in.Deployed, in.Service, in.Environment)
	if err != nil {
		return "", "", refused("the deploy role's statement of what is deployed: %v", err)
	}
	return st.Commit, st.By, nil
}

// readChange is what the release deploys that base does not have: the
// commits reachable from sha and not from base, each signature judged
// against the build role's policy. Nothing deployed yet: every commit since
// the service's baseline, else the whole history (a first release hides no
// one). A redeploy of base, or a step back to an ancestor of base: the
// commit alone. A base that is not an ancestor (rewritten history) gives
// every commit since their merge base, flagged.
func readChange(ctx context.Context, m *mirror, sha, base, baseRelease string, pol *policy.Policy, service string) (attest.Change, error) {
	ch := attest.Change{Base: base, BaseRelease: baseRelease}
	if base == "" {
		ch.Baseline = pol.Baseline(service)
	}
	list, err := changeCommits(ctx, m, sha, &ch)
	if err != nil {
		return ch, err
	}
	sigs, err := m.signatures(ctx, list, pol)
	if err != nil {
		return ch, err
	}
	summarize(&ch, list, sigs)
	return ch, nil
}

// changeCommits lists the change's commits, newest first.
func changeCommits(ctx context.Context, m *mirror, sha string, ch *attest.Change) ([]commitInfo, error) {
	from, what := ch.Base, fmt.Sprintf("the last deployed commit %s (release %s)", ch.Base, ch.BaseRelease)
	if from == "" {
		from, what = ch.Baseline, "the service's baseline "+ch.Baseline+" (policy)"
	}
	var list []commitInfo
	var err error
	switch {
	case from != "" && from != sha:
		if err := m.fetchCommit(ctx, from); err != nil {
			return nil, sourceFailure(fmt.Sprintf("%s is not in %s, so the change since it cannot be read (fail closed)", what, m.remote), err)
		}
		if ch.Base != "" {
			if ch.BaseIsAncestor, err = m.isAncestor(ctx, from, sha); err != nil {
				return nil, sourceFailure("comparing "+from+" with "+sha, err)
			}
		}
		if list, err = m.commits(ctx, sha, "^"+from); err != nil {
			return nil, sourceFailure("reading the commits since "+from, err)
		}
	case from == "": // a first release without a baseline: the whole history
		if list, err = m.commits(ctx, sha); err != nil {
			return nil, sourceFailure("reading the history of "+sha, err)
		}
	default:
		ch.BaseIsAncestor = ch.Base != ""
	}
	if len(list) == 0 {
		if list, err = m.commits(ctx, "-n1", sha); err != nil {
			return nil, sourceFailure("reading commit "+sha, err)
		}
	}
	return list, nil
}

// summarize records the commits (at most attest.MaxChangeCommits listed,
// all counted), their emails and their signers.
func summarize(ch *attest.Change, list []commitInfo, sigs map[string]commitSignature) {
	ch.CommitCount = len(list)
	ch.Commits = []attest.ChangeCommit{}
	emails, signers := map[string]bool{}, map[string]bool{}
	for i, c := range list {
		sig := sigs[c.sha]
		if i < attest.MaxChangeCommits {
			ch.Commits = append(ch.Commits, attest.ChangeCommit{SHA: c.sha, Subject: c.subject,
				Author: c.author, Committer: c.committer, CoAuthors: c.coAuthors,
				Signature: sig.status, Signer: sig.signer, Why: sig.why})
		}
		if sig.status == attest.SignatureVerified {
			signers[sig.signer] = true
		} else {
			ch.Unproven++
		}
		emails[c.author], emails[c.committer] = true, true
		for _, e := range c.coAuthors {
			emails[e] = true
		}
	}
	ch.Emails = slices.Sorted(maps.Keys(emails))
	ch.Signers = slices.Sorted(maps.Keys(signers))
}
