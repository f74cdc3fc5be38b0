package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// --pprof-listen serves Go's profiles; without it nothing listens.
func TestServePprof(t *testing.T) {
	if addr, err := servePprof("", io.Discard); addr != nil || err != nil {
		t.Fatalf("no address: served %v, %v", addr, err)
	}
	addr, err := servePprof("127.0.0.1:0", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr.String() + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile:") {
		t.Errorf("pprof answered %d:\n%.200s", resp.StatusCode, body)
	}
	if _, err := servePprof("256.0.0.1:1", io.Discard); err == nil || !strings.Contains(err.Error(), "--pprof-listen") {
		t.Errorf("bad address: %v, want an error naming --pprof-listen", err)
	}
}
