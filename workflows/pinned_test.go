package workflows

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/foureyes/foureyes/policy"
)

func TestSharedPolicy(t *testing.T) {
	a := policy.Policy{Version: 1, ServiceIdentities: []string{"foureyes-build"}}
	b := policy.Policy{Version: 1, ServiceIdentities: []string{"foureyes-build"}}
	first := sharedPolicy("test-shared-hash", a)
	second := sharedPolicy("test-shared-hash", b)
	assert.Same(t, &first.ServiceIdentities[0], &second.ServiceIdentities[0], "same content, same hash: shared")
	other := policy.Policy{Version: 1, ServiceIdentities: []string{"foureyes-deploy"}}
	got := sharedPolicy("test-shared-hash", other)
	assert.Equal(t, other, got, "different content under one hash is never swapped")
}
