package main

import (
	"slices"
	"testing"

	"github.com/foureyes/foureyes/api"
)

// TestComposeRegistersSearchAttributes: the frontend registers every
// search attribute the Release workflow upserts, with its type (on a new
// database, and those a reused one lacks).
func TestComposeRegistersSearchAttributes(t *testing.T) {
	args := loadCompose(t)["temporal-frontend"].Command
	for _, nameType := range api.SearchAttributes {
		i := slices.Index(args, nameType)
		if i < 1 || args[i-1] != "--search-attribute" {
			t.Errorf("docker-compose.yml: temporal-frontend has no --search-attribute %s", nameType)
		}
	}
}
