package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Where visibility is kept, by what the data folder already holds.
func TestVisibilityFile(t *testing.T) {
	for _, c := range []struct {
		name   string
		files  []string // already in the data folder
		shared bool
		want   string // file name in the folder; "" for temporal-server.db
		err    string
	}{
		{name: "a fresh folder gets a file of its own", want: visibilityDBName},
		{name: "a folder made with it keeps it", files: []string{"temporal-server.db", visibilityDBName}, want: visibilityDBName},
		{name: "a folder made before keeps visibility where its records are", files: []string{"temporal-server.db"}},
		{name: "shared when asked", shared: true},
		{name: "visibility of a removed store is refused", files: []string{visibilityDBName}, err: "workflows that are gone"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range c.files {
				if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := visibilityFile(dir, c.shared)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want one saying %q", err, c.err)
				}
				return
			}
			want := ""
			if c.want != "" {
				want = filepath.Join(dir, c.want)
			}
			if err != nil || got != want {
				t.Fatalf("visibilityFile = %q, %v; want %q", got, err, want)
			}
		})
	}
}
