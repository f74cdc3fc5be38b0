package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// slackAPI stands in for Slack's Web API (FOUREYES_APPROVAL_SLACK_API_URL):
// it answers every chat.* call as Slack does, at once.
type slackAPI struct {
	srv *http.Server
	url string
	mu  sync.Mutex
	ts  int
}

func startSlackAPI() (*slackAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &slackAPI{url: "http://" + ln.Addr().String() + "/api/"}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *slackAPI) serve(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.mu.Lock()
	s.ts++
	ts := fmt.Sprintf("1700000000.%06d", s.ts)
	s.mu.Unlock()
	if t := r.PostForm.Get("ts"); t != "" {
		ts = t
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": "CBENCH0001", "ts": ts, "message_ts": ts})
}

func (s *slackAPI) close() { _ = s.srv.Close() }
