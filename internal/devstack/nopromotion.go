package devstack

import (
	"os"
	"path/filepath"
	"strings"
)

// WithoutPromotionRules is a policy's text without its environments'
// requires: and emergency: sections (indented four spaces, their fields
// six, as in deployments/policy.yaml). Suites whose releases go straight to
// prod (integration, faults, bench) run with it: the promotion rule is
// tested on its own, and a staging release before every prod one would
// only slow them down.
func WithoutPromotionRules(data []byte) []byte {
	var out strings.Builder
	skip := false
	for _, l := range strings.SplitAfter(string(data), "\n") {
		switch {
		case strings.HasPrefix(l, "    requires:") || strings.HasPrefix(l, "    emergency:"):
			skip = true
			continue
		case skip && strings.HasPrefix(l, "      "):
			continue
		}
		skip = false
		out.WriteString(l)
	}
	return []byte(out.String())
}

// WritePolicyWithoutPromotion writes root's deployments/policy.yaml without its
// promotion rules and own-proof settings to dir/base-policy.yaml, for
// Local.BasePolicy.
func WritePolicyWithoutPromotion(root, dir string) (string, error) {
	return WriteSamplePolicy(root, dir, WithoutOwnProofs, WithoutPromotionRules)
}

// WriteSamplePolicy writes root's deployments/policy.yaml, with each edit
// applied in turn, to dir/base-policy.yaml, for Local.BasePolicy.
func WriteSamplePolicy(root, dir string, edits ...func([]byte) []byte) (string, error) {
	data, err := os.ReadFile(filepath.Join(root, "deployments", "policy.yaml"))
	if err != nil {
		return "", err
	}
	for _, edit := range edits {
		data = edit(data)
	}
	out := filepath.Join(dir, "base-policy.yaml")
	return out, os.WriteFile(out, data, 0o644)
}

// WithoutOwnProofs is a policy's text without its gates' proof: and its
// environments' request_proof: lines: the approval role's word counts
// again. The suites that test other things (integration, faults, bench)
// run with it; own signatures are tested on their own (the faults
// suite's vault environment, the demo).
func WithoutOwnProofs(data []byte) []byte {
	var out strings.Builder
	for _, l := range strings.SplitAfter(string(data), "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "proof:") || strings.HasPrefix(t, "request_proof:") {
			continue
		}
		out.WriteString(l)
	}
	return []byte(out.String())
}
