package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// forEach runs fn for every item with at most n at a time and returns the
// first error (after every call has returned).
func forEach[T any](ctx context.Context, items []T, n int, fn func(context.Context, T) error) error {
	var first atomic.Pointer[error]
	ch := make(chan T)
	var wg sync.WaitGroup
	for range max(1, min(n, len(items))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ch {
				if err := fn(ctx, it); err != nil {
					first.CompareAndSwap(nil, &err)
				}
			}
		}()
	}
	feed(ctx, items, ch)
	wg.Wait()
	if p := first.Load(); p != nil {
		return *p
	}
	return ctx.Err()
}

// feed sends items to ch until they are all sent or ctx ends, then closes ch.
func feed[T any](ctx context.Context, items []T, ch chan<- T) {
	defer close(ch)
	for _, it := range items {
		select {
		case ch <- it:
		case <-ctx.Done():
			return
		}
	}
}

// startAll starts n releases, conc at a time, and returns their ids and how
// long starting them took.
func startAll(ctx context.Context, sys system, n, conc int) ([]string, time.Duration, error) {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = newReleaseID()
	}
	t0 := time.Now()
	err := forEach(ctx, ids, conc, sys.start)
	return ids, time.Since(t0), err
}

// waitPrompts waits until every release was prompted for gate.
func waitPrompts(ctx context.Context, sys system, ids []string, gate string) error {
	for _, id := range ids {
		if err := sys.prompts().wait(ctx, id, gate); err != nil {
			return err
		}
	}
	return nil
}

// waitResults waits for every release to end as it should.
func waitResults(ctx context.Context, sys system, ids []string) error {
	return forEach(ctx, ids, 64, sys.result)
}

// sample is one timed decision.
type sample struct {
	id, gate string
	sent     time.Time     // just before the decision was submitted
	answer   time.Duration // until the submission returned
}

// decideTimed submits the gate's decision for id and times it.
func decideTimed(ctx context.Context, sys system, id, gate string) (sample, error) {
	if p, ok := sys.(preparer); ok {
		if err := p.prepare(ctx, id, gate); err != nil {
			return sample{}, err
		}
	}
	s := sample{id: id, gate: gate, sent: time.Now()}
	err := sys.decide(ctx, id, gate)
	s.answer = time.Since(s.sent)
	return s, err
}

// decideEach decides gate for each release in turn, one at a time, gap apart.
func decideEach(ctx context.Context, sys system, ids []string, gate string, gap time.Duration) ([]sample, error) {
	out := make([]sample, 0, len(ids))
	for _, id := range ids {
		s, err := decideTimed(ctx, sys, id, gate)
		if err != nil {
			return out, err
		}
		out = append(out, s)
		if err := sleep(ctx, gap); err != nil {
			return out, err
		}
	}
	return out, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-time.After(d):
		return nil
	}
}

// latencies turns samples into decision-to-next-activity durations, read
// from each release's history.
func latencies(ctx context.Context, r *rig, sys system, samples []sample) ([]time.Duration, []path, error) {
	out := make([]time.Duration, len(samples))
	paths := make([]path, len(samples))
	idx := make([]int, len(samples))
	for i := range idx {
		idx[i] = i
	}
	err := forEach(ctx, idx, 16, func(ctx context.Context, i int) error {
		s := samples[i]
		p, err := nextStart(ctx, r.Client, s.id, func(a *schedAttrs) bool { return sys.next(s.gate, a) })
		p.sent = s.sent
		out[i], paths[i] = p.actStarted.Sub(s.sent), p
		return err
	})
	return out, paths, err
}

var errTimeout = errors.New("bench: global timeout reached")
