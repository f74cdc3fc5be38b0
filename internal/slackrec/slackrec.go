// Package slackrec is a Slack stand-in for tests: slack-go's slacktest server
// with handlers that record chat.postMessage, chat.update and
// chat.postEphemeral (slacktest's defaults do not record), and helpers that
// build and sign interaction requests the way Slack does.
package slackrec

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
)

// Web API methods the server records.
const (
	PostMessage   = "chat.postMessage"
	Update        = "chat.update"
	PostEphemeral = "chat.postEphemeral"
	ViewsOpen     = "views.open" // JSON body: its trigger_id and view are kept in Form
)

// Call is one recorded Web API call and the message it answered with.
type Call struct {
	Method       string
	Form         url.Values
	AnsweredChan string // channel id
	AnsweredTS   string // message ts
}

// Server records calls; Fail scripts error answers.
type Server struct {
	*slacktest.Server
	mu       sync.Mutex
	calls    []Call
	ts       int
	channels map[string]string    // channel name -> id
	failures map[string][]Failure // method -> next answers
}

// Failure is a scripted answer: an HTTP status with headers and body.
type Failure struct {
	Status int
	Header map[string]string
	Body   string
}

// New starts a server that t stops; more binders add handlers (e.g. /ws).
func New(t testing.TB, more ...slacktest.Binder) *Server {
	s := &Server{channels: map[string]string{}, failures: map[string][]Failure{}}
	binders := append([]slacktest.Binder{func(c slacktest.Customize) {
		for _, m := range []string{PostMessage, Update, PostEphemeral} {
			c.Handle("/"+m, s.handler(m))
		}
		c.Handle("/"+ViewsOpen, s.viewsOpen)
	}}, more...)
	s.Server = slacktest.NewTestServer(binders...)
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// URL is the API URL to give slack.OptionAPIURL.
func (s *Server) URL() string { return s.GetAPIURL() }

// Fail makes the next call of method answer f (once per Fail).
func (s *Server) Fail(method string, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = append(s.failures[method], f)
}

// Calls returns the recorded calls of method, oldest first.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

func (s *Server) handler(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if f, ok := s.failure(method); ok {
			for k, v := range f.Header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(f.Status)
			fmt.Fprint(w, f.Body)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.record(method, r.PostForm))
	}
}

// viewsOpen records views.open (a JSON body) and answers with the view.
func (s *Server) viewsOpen(w http.ResponseWriter, r *http.Request) {
	var body struct {
		TriggerID string          `json:"trigger_id"`
		View      json.RawMessage `json:"view"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if f, ok := s.failure(ViewsOpen); ok {
		w.WriteHeader(f.Status)
		fmt.Fprint(w, f.Body)
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: ViewsOpen, Form: url.Values{"trigger_id": {body.TriggerID}, "view": {string(body.View)}}})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "view": map[string]any{"id": "V0REASON1"}})
}

func (s *Server) failure(method string) (Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.failures[method]
	if len(q) == 0 {
		return Failure{}, false
	}
	s.failures[method] = q[1:]
	return q[0], true
}

// record keeps the call and answers as Slack does: a channel id and a new
// ts for a post, the same ts for an update.
func (s *Server) record(method string, form url.Values) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := Call{Method: method, Form: form, AnsweredChan: s.channelID(form.Get("channel")), AnsweredTS: form.Get("ts")}
	if method != Update {
		s.ts++
		c.AnsweredTS = fmt.Sprintf("1700000000.%06d", s.ts)
	}
	s.calls = append(s.calls, c)
	if method == PostEphemeral {
		return map[string]any{"ok": true, "message_ts": c.AnsweredTS}
	}
	return map[string]any{"ok": true, "channel": c.AnsweredChan, "ts": c.AnsweredTS, "text": form.Get("text")}
}

// channelID maps "#name" to a stable id, as Slack answers with ids.
func (s *Server) channelID(ch string) string {
	if !strings.HasPrefix(ch, "#") {
		return ch
	}
	if id, ok := s.channels[ch]; ok {
		return id
	}
	id := fmt.Sprintf("C%08d", len(s.channels)+1)
	s.channels[ch] = id
	return id
}

// Channel, TS, ThreadTS, User and Text read the call's form.
func (c Call) Channel() string  { return c.Form.Get("channel") }
func (c Call) TS() string       { return c.Form.Get("ts") }
func (c Call) ThreadTS() string { return c.Form.Get("thread_ts") }
func (c Call) User() string     { return c.Form.Get("user") }
func (c Call) Text() string     { return c.Form.Get("text") }

// Blocks decodes the call's blocks (nil without any).
func (c Call) Blocks() []slack.Block {
	var b slack.Blocks
	if raw := c.Form.Get("blocks"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &b); err != nil {
			panic(fmt.Sprintf("slackrec: blocks of %s: %v", c.Method, err))
		}
	}
	return b.BlockSet
}

// Buttons are the buttons of the call's action blocks.
func (c Call) Buttons() []*slack.ButtonBlockElement {
	var out []*slack.ButtonBlockElement
	for _, b := range c.Blocks() {
		if a, ok := b.(*slack.ActionBlock); ok {
			for _, e := range a.Elements.ElementSet {
				if btn, ok := e.(*slack.ButtonBlockElement); ok {
					out = append(out, btn)
				}
			}
		}
	}
	return out
}

// Button is the call's button with the action id, or nil.
func (c Call) Button(actionID string) *slack.ButtonBlockElement {
	i := slices.IndexFunc(c.Buttons(), func(b *slack.ButtonBlockElement) bool { return b.ActionID == actionID })
	if i < 0 {
		return nil
	}
	return c.Buttons()[i]
}

// BlocksText is every text of the call's blocks, for Contains assertions.
func (c Call) BlocksText() string {
	raw, _ := json.Marshal(c.Blocks())
	var texts []string
	collect(json.RawMessage(raw), &texts)
	return strings.Join(texts, "\n")
}

func collect(raw json.RawMessage, texts *[]string) {
	var obj map[string]json.RawMessage
	var arr []json.RawMessage
	switch {
	case json.Unmarshal(raw, &obj) == nil:
		for k, v := range obj {
			var s string
			if k == "text" && json.Unmarshal(v, &s) == nil {
				*texts = append(*texts, s)
				continue
			}
			collect(v, texts)
		}
	case json.Unmarshal(raw, &arr) == nil:
		for _, v := range arr {
			collect(v, texts)
		}
	}
}
