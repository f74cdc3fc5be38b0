package activities

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/policy"
)

// PolicyActivities are the orchestrator role's activities.
type PolicyActivities struct {
	Identity   string
	PolicyFile string
	// Signer is the orchestrator role's key: it seals each release's audit chain.
	Signer *attest.Signer
	// Caller says which run asked for a seal (nil: the server's word on
	// the activity task, InfoCaller): a run seals only its own trail.
	Caller CallerReader

	cache policyCache
}

// LoadPolicy reads the policy file, to be pinned into a release: its exact
// bytes, which the workflow parses and hashes itself (a rogue answer cannot
// claim another file's hash). The file is still checked here, so that a bad
// policy fails with its file and field, non-retryably: retrying cannot fix
// the file. A policy without every role's key could verify nothing.
// A release that asks for it gets the bytes compressed: alone, as a
// binary payload (in.Bytes, []byte; with the preset dictionary it names,
// in.Dict, else gzip), or gzip in a snapshot (in.Gzip); an older release
// asks nothing and gets them as they are, in a policy.Snapshot.
func (a *PolicyActivities) LoadPolicy(ctx context.Context, in api.LoadPolicyInput) (any, error) {
	l, err := a.cache.load(a.PolicyFile)
	if err != nil {
		msg := err.Error()
		if !strings.Contains(msg, a.PolicyFile) {
			msg = a.PolicyFile + ": " + msg
		}
		return nil, temporal.NewNonRetryableApplicationError(
			"bad policy: "+msg, ErrTypeBadPolicy, err)
	}
	switch {
	case in.Bytes && in.Dict == policy.DictionarySampleV1:
		return l.deflated, nil
	case in.Bytes:
		return l.gzip, nil
	case in.Gzip:
		return policy.Snapshot{Compressed: l.gzip, Hash: l.hash, Path: a.PolicyFile}, nil
	}
	return policy.Snapshot{Content: l.data, Hash: l.hash, Path: a.PolicyFile}, nil
}

// Seal signs the final head of a release's audit chain, so that an export
// cut short, re-chained or re-signed no longer verifies.
func (a *PolicyActivities) Seal(ctx context.Context, in api.SealInput) (api.SealResult, error) {
	if err := checkReleaseID(in.ReleaseID); err != nil {
		return api.SealResult{}, err
	}
	if !digestRE.MatchString(in.Head) {
		return api.SealResult{}, invalid("head", in.Head, "want the 64-character lowercase hex SHA-256 of the last entry")
	}
	if err := requireSigner(a.Signer, attest.RoleOrchestrator); err != nil {
		return api.SealResult{}, err
	}
	if err := a.sealsOwnTrail(ctx, in.ReleaseID); err != nil {
		return api.SealResult{}, temporal.NewNonRetryableApplicationError("seal refused: "+err.Error(), api.ErrTypeDeployRefused, nil)
	}
	seal := attest.Seal{Binding: attest.Binding{Release: in.ReleaseID, PolicySHA256: in.PolicyHash},
		Head: in.Head, Entries: in.Entries, Status: in.Status, Sealer: a.Identity, At: time.Now().UTC()}
	env, err := sign(a.Signer, attest.SealSubject(in.ReleaseID, in.Head), attest.PredicateSeal, seal)
	if err != nil {
		return api.SealResult{}, err
	}
	return api.SealResult{Seal: env, Executor: a.Identity}, nil
}

// policyCache reads a policy file on every call (it may change between
// releases) but parses it once per content: parsing was 5 % of the
// orchestrator's CPU (docs/benchmarks.md).
type policyCache struct {
	mu     sync.Mutex
	parsed map[string]*loadedPolicy // by file hash
}

// loadedPolicy is one content of a policy file, checked.
type loadedPolicy struct {
	data []byte
	gzip []byte // data compressed, once per content
	// deflated is data compressed with the dictionary DictionarySampleV1.
	deflated []byte
	hash     string
	pol      *policy.Policy
	ring     attest.KeyRing
}

// load reads, parses and checks path: a valid policy that lists every
// signing role's key.
func (c *policyCache) load(path string) (*loadedPolicy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	hash := policy.HashBytes(data)
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.parsed[hash]; ok {
		return l, nil
	}
	l, err := checkPolicy(path, data)
	if err != nil {
		return nil, err
	}
	if c.parsed == nil {
		c.parsed = map[string]*loadedPolicy{}
	}
	c.parsed[hash] = l
	return l, nil
}

func checkPolicy(path string, data []byte) (*loadedPolicy, error) {
	p, err := policy.Parse(path, data)
	if err != nil {
		return nil, err
	}
	if err := p.RequireKeys(path); err != nil {
		return nil, err
	}
	ring, err := p.KeyRing()
	if err != nil {
		return nil, fmt.Errorf("%s: keys: %w", path, err)
	}
	gz, err := policy.Compress(data)
	if err != nil {
		return nil, err
	}
	deflated, err := policy.CompressWithDictionary(data)
	if err != nil {
		return nil, err
	}
	return &loadedPolicy{data: data, gzip: gz, deflated: deflated, hash: policy.HashBytes(data), pol: p, ring: ring}, nil
}

// sealsOwnTrail: only the release itself asks for its seal; a workflow of
// any other id or type (a client's own) gets none.
func (a *PolicyActivities) sealsOwnTrail(ctx context.Context, release string) error {
	read := a.Caller
	if read == nil {
		read = InfoCaller
	}
	c, err := read(ctx)
	switch {
	case err != nil:
		return err
	case c.Type != api.WorkflowRelease || c.ID != release:
		return fmt.Errorf("asked by %s (a %q workflow) for the trail of release %s: a release seals only its own", c.ID, c.Type, release)
	}
	return nil
}
