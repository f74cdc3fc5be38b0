package activities

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
)

// ErrTypeNoSigningKey: a role that attests was asked to work without its
// signing key. Its answer would be unsigned, which nobody accepts, so it
// does no work at all (non-retryable: a retry has no key either).
const ErrTypeNoSigningKey = "NoSigningKey"

// receiptOutput is how much of a step's output its signed receipt keeps.
const receiptOutput = 2 << 10

// requireSigner refuses work to a role started without its key; the worker
// refuses to start so, this guards other callers (and tests) of the structs.
func requireSigner(s *attest.Signer, role string) error {
	if s == nil {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"the %s role has no signing key (FOUREYES_%s_SIGNING_KEY_FILE): it answers nothing unsigned",
			role, strings.ToUpper(role)), ErrTypeNoSigningKey, nil)
	}
	return nil
}

// sign wraps a signing failure: the work was done but cannot be vouched for.
func sign(s *attest.Signer, subject attest.Subject, predicateType string, predicate any) (attest.Envelope, error) {
	env, err := s.Attest(subject, predicateType, predicate)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", predicateType, err)
	}
	return env, nil
}

// provenance is the build role's SLSA provenance of rec, built for in.
func provenance(in api.BuildInput, rec buildRecord, started, finished time.Time) attest.Provenance {
	res := rec.Result
	p := attest.Provenance{
		BuildDefinition: attest.BuildDefinition{BuildType: attest.BuildType,
			ExternalParameters: attest.BuildParameters{
				Binding: attest.Binding{Release: in.ReleaseID, PolicySHA256: in.PolicyHash},
				Service: in.Service, Environment: in.Environment, Commit: in.Commit,
				Authors: nonNil(in.Authors), Requester: in.Requester, ArtifactRef: res.ArtifactRef,
				Rebuild: rec.Rebuild}},
		RunDetails: attest.RunDetails{Builder: attest.Builder{ID: res.Executor},
			Metadata: attest.BuildMetadata{InvocationID: in.ReleaseID,
				StartedOn: started.UTC(), FinishedOn: finished.UTC()}},
	}
	if src := rec.Source; src != nil {
		ext := &p.BuildDefinition.ExternalParameters
		change := src.Change
		ext.Commit, ext.Ref, ext.Repository, ext.BuildCommand, ext.Change = src.Commit, in.Commit, src.Repository, src.Command, &change
		p.BuildDefinition.ResolvedDependencies = []attest.ResourceDescriptor{
			{URI: "git+" + src.Repository, Digest: map[string]string{"gitCommit": src.Commit}}}
	}
	return p
}

// nonNil keeps empty lists as [] in signed JSON (null would not be a list).
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// clip keeps the end of a command's output (where failures are reported)
// so that a receipt stays small.
func clip(s string) string {
	if len(s) <= receiptOutput {
		return s
	}
	return strings.ToValidUTF8(s[len(s)-receiptOutput:], "")
}
