package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/gateway"
)

// Only a prompt teaches the gateway a binding, and the notifier keeps the
// prompt's message reference (Notifiers takes the last one that differs).
func TestPromptedBindingsLearnFromPromptsOnly(t *testing.T) {
	b := &gateway.Bindings{}
	p := promptedBindings{b}
	ref, err := p.Notify(context.Background(), api.Notification{Kind: api.NotifyReminder,
		ReleaseID: "r-1", PolicyHash: "p", ArtifactDigest: "d", Ref: "slack:1"})
	assert.NoError(t, err)
	assert.Equal(t, "slack:1", ref)
	assert.False(t, b.Known("r-1"))
	_, _ = p.Notify(context.Background(), api.Notification{Kind: api.NotifyPrompt,
		ReleaseID: "r-1", PolicyHash: "p", ArtifactDigest: "d"})
	assert.True(t, b.Known("r-1"))
}
