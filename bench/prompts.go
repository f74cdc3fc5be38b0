package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"
)

// watcher follows a role's log for prompt lines ("gate G of release R is
// open, who may sign is asked") and tells waiters. A bot reacts to the
// prompt as a person would; reading the log puts no load on Temporal.
type watcher struct {
	path  string
	parse func(line string) (id, gate string, ok bool)
	mu    sync.Mutex
	seen  map[string]chan struct{} // id/gate -> closed once prompted
	count map[string]int           // prompts seen per gate
	quit  chan struct{}
	done  chan struct{}
}

func watch(path string, parse func(string) (string, string, bool)) *watcher {
	w := &watcher{path: path, parse: parse, seen: map[string]chan struct{}{},
		count: map[string]int{}, quit: make(chan struct{}), done: make(chan struct{})}
	go w.follow()
	return w
}

func (w *watcher) stop() {
	close(w.quit)
	<-w.done
}

// follow reads what is appended to the file every few milliseconds.
func (w *watcher) follow() {
	defer close(w.done)
	var off int64
	var partial []byte
	buf := make([]byte, 1<<20)
	for {
		if f, err := os.Open(w.path); err == nil {
			for n, _ := f.ReadAt(buf, off); n > 0; n, _ = f.ReadAt(buf, off) {
				off += int64(n)
				partial = w.lines(append(partial, buf[:n]...))
			}
			f.Close()
		}
		select {
		case <-w.quit:
			return
		case <-time.After(3 * time.Millisecond):
		}
	}
}

// lines handles every complete line of data and returns the rest.
func (w *watcher) lines(data []byte) []byte {
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return data
		}
		if id, gate, ok := w.parse(string(data[:i])); ok {
			w.prompted(id, gate)
		}
		data = data[i+1:]
	}
}

func (w *watcher) prompted(id, gate string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch := w.chanLocked(id, gate)
	select {
	case <-ch:
	default:
		close(ch)
		w.count[gate]++
	}
}

func (w *watcher) chanLocked(id, gate string) chan struct{} {
	key := id + "/" + gate
	ch, ok := w.seen[key]
	if !ok {
		ch = make(chan struct{})
		w.seen[key] = ch
	}
	return ch
}

// wait blocks until release id was prompted for gate.
func (w *watcher) wait(ctx context.Context, id, gate string) error {
	w.mu.Lock()
	ch := w.chanLocked(id, gate)
	w.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("no %s prompt for %s: %w", gate, id, context.Cause(ctx))
	}
}

// prompted reports how many distinct releases were prompted for gate.
func (w *watcher) promptCount(gate string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.count[gate]
}

var consoleHeadline = regexp.MustCompile(`^==== foureyes: (review|approval) needed ====$`)

// parseConsolePrompt reads the console notifier's blocks: a headline
// "==== foureyes: GATE needed ====" followed by "  release:   ID".
func parseConsolePrompt() func(string) (string, string, bool) {
	gate := ""
	return func(line string) (string, string, bool) {
		if m := consoleHeadline.FindStringSubmatch(line); m != nil {
			gate = m[1]
			return "", "", false
		}
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "release:")
		if !ok || gate == "" {
			return "", "", false
		}
		g := gate
		gate = ""
		return strings.TrimSpace(rest), g, true
	}
}

// parseFloorPrompt reads FloorPrompt's "prompt ID GATE" lines.
func parseFloorPrompt(line string) (string, string, bool) {
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "prompt" {
		return "", "", false
	}
	return f[1], f[2], true
}

// isPrompted reports whether release id was prompted for gate.
func (w *watcher) isPrompted(id, gate string) bool {
	w.mu.Lock()
	ch, ok := w.seen[id+"/"+gate]
	w.mu.Unlock()
	if !ok {
		return false
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
