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
	// unauthenticated profiles stay on the machine: any address another
	// host could reach is refused before anything listens
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "10.1.2.3:6060", "example.com:6060", "no-port"} {
		if got, err := servePprof(addr, io.Discard); got != nil || err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("--pprof-listen %s: served %v, %v; want refused as not loopback", addr, got, err)
		}
	}
	if _, err := servePprof("[::1]:0", io.Discard); err != nil && !strings.Contains(err.Error(), "cannot assign") {
		t.Errorf("::1 is loopback: %v", err)
	}
}
