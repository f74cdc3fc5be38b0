package activities

import (
	"context"
	"time"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
)

// Deployed answers, signed, what this role's record says is deployed to a
// service in an environment: the commit and the release that deployed it
// (nothing, on a first release). A release asks before its build: its
// change, and so its authors, start after that commit. The answer is bound
// to the asking release, so it cannot serve another; Deploy checks the
// change against the record again before anything runs.
func (a *DeployActivities) Deployed(ctx context.Context, in api.DeployedInput) (api.DeployedResult, error) {
	if err := checkReleaseID(in.ReleaseID); err != nil {
		return api.DeployedResult{}, err
	}
	for _, err := range []error{checkName("service", in.Service), checkName("environment", in.Environment),
		requireSigner(a.Signer, attest.RoleDeploy)} {
		if err != nil {
			return api.DeployedResult{}, err
		}
	}
	st, err := readState(a.statePath(api.DeployInput{Service: in.Service, Environment: in.Environment}))
	if err != nil {
		return api.DeployedResult{}, err
	}
	s := attest.DeployedState{Binding: attest.Binding{Release: in.ReleaseID, PolicySHA256: in.PolicyHash},
		Service: in.Service, Environment: in.Environment, Deployer: a.Identity, At: time.Now().UTC()}
	if st != nil {
		s.Commit, s.By, s.Digest = st.Commit, st.ReleaseID, st.Digest
		s.DeployedAt, s.VerifiedAt = st.DeployedAt, st.VerifiedAt
	}
	env, err := sign(a.Signer, attest.DeploymentSubject(in.Service, in.Environment), attest.PredicateDeployed, s)
	if err != nil {
		return api.DeployedResult{}, err
	}
	return api.DeployedResult{Statement: env, Executor: a.Identity}, nil
}
