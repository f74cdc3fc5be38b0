package workflows

import (
	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/policy"
)

// Since versionPolicyDictionary the release asks for the file compressed
// with the sample's dictionary and pins the hash of what it decompressed.
func (s *ReleaseSuite) TestPolicyIsPinnedThroughTheDictionary() {
	s.approveAll()
	res := s.run()
	s.Equal(api.StatusDeployed, res.Status)
	s.Equal(policy.DictionarySampleV1, s.roles.policyDict, "the release asked for the dictionary's form")
	s.Equal(policy.HashBytes(policyContent(testPolicy())), res.PolicyHash)
}

// Since versionPolicyBytes LoadPolicy answers the compressed file alone;
// an orchestrator that knows no dictionary answers gzip (as before
// versionPolicyDictionary), which the release pins the same way.
func (s *ReleaseSuite) TestPolicyBytesArePinned() {
	asked := 0
	s.roles.policyBytes = func(content []byte) []byte {
		asked++
		gz, err := policy.Compress(content)
		s.Require().NoError(err)
		return gz
	}
	s.approveAll()
	res := s.run()
	s.Equal(api.StatusDeployed, res.Status)
	s.Equal(1, asked, "the release asked for the bytes alone")
	s.Equal(policy.HashBytes(policyContent(testPolicy())), res.PolicyHash)
}

// An orchestrator not yet upgraded answers a snapshot to the new ask: the
// release pins it as before (a rolling upgrade loses no release).
func (s *ReleaseSuite) TestPolicySnapshotFromAnOldOrchestratorIsPinned() {
	s.roles.snapshotPolicy = true
	s.approveAll()
	res := s.run()
	s.Equal(api.StatusDeployed, res.Status)
	s.Equal(policy.HashBytes(policyContent(testPolicy())), res.PolicyHash)
}

// Bytes that are not the compressed file fail the release with the reason,
// before anything is built: a LoadPolicy answer is not trusted.
func (s *ReleaseSuite) TestPolicyBytesThatAreNotCompressedFailTheRelease() {
	s.roles.policyBytes = func(content []byte) []byte { return content }
	res := s.run()
	s.Equal(api.StatusFailed, res.Status)
	s.Contains(res.Reason, "policy could not be loaded: flate: corrupt input")
	s.Empty(s.roles.builds, "nothing built under a policy that was not pinned")
}
