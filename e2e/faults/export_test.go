package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/internal/devstack"
)

// rewrittenExport: a deployed release's exported trail, cut after an entry,
// or with an entry removed and the chain recomputed over the rest, is
// refused by the real starter binary, naming the entry; the untouched
// export passes.
func (a *attackRun) rewrittenExport(ctx context.Context, t *testing.T) {
	r := a.reference(ctx, t)
	entries := r.entries
	if len(entries) < 8 || entries[len(entries)-1].Type != audit.EventSealed {
		t.Fatalf("the reference release's trail has %d entries, last %q: want a sealed trail", len(entries), entries[len(entries)-1].Type)
	}
	dir := t.TempDir()
	whole := a.writeExport(t, dir, "whole.jsonl", entries)
	if code, out := a.verifyExport(ctx, whole); code != 0 {
		t.Fatalf("the untouched export: exit %d, want 0: %s", code, out)
	}
	cut := len(entries) / 2
	a.attempt(t, "rewritten export", fmt.Sprintf("cut after entry %d of %d", cut, len(entries)), func() error {
		file := a.writeExport(t, dir, "cut.jsonl", entries[:cut])
		e := entries[cut-1]
		return a.refusedExport(ctx, file, fmt.Sprintf("line %d (seq %d, %s)", cut, e.Seq, e.Type))
	})
	// Remove a refusal-free, envelope-free entry in the middle (what an
	// insider would hide: a gate reminder, a refusal) and re-chain.
	drop := 0
	for i := 1; i < len(entries)-1; i++ {
		if len(entries[i].Envelope) == 0 && entries[i].Type != audit.EventReleaseStarted {
			drop = i
			break
		}
	}
	a.attempt(t, "rewritten export", fmt.Sprintf("entry %d (%s) removed and the chain re-computed", drop+1, entries[drop].Type), func() error {
		var c audit.Chain
		for i, e := range entries {
			if i == drop {
				continue
			}
			e.Seq, e.Prev, e.Hash = 0, "", ""
			c.Append(e)
		}
		rechained := c.Entries()
		var buf bytes.Buffer
		if err := audit.Export(&buf, rechained); err != nil {
			return err
		}
		if n, err := audit.Verify(&buf); err != nil || n != len(rechained) {
			return fmt.Errorf("the re-chained export is not even internally consistent (%d, %v): the attack is not tried", n, err)
		}
		file := a.writeExport(t, dir, "rechained.jsonl", rechained)
		last := rechained[len(rechained)-1]
		return a.refusedExport(ctx, file, fmt.Sprintf("line %d (seq %d, %s)", len(rechained), last.Seq, last.Type))
	})
	a.attempt(t, "rewritten export", "an approval removed, the chain re-computed and sealed anew with the orchestrator's key", func() error {
		file, err := a.resealedWithout(t, dir, entries, audit.EventDecision)
		if err != nil {
			return err
		}
		return a.refusedExport(ctx, file, "the judge disagrees with the trail")
	})
}

// resealedWithout is the trail without its first entry of type kind,
// re-chained and sealed with the orchestrator's real key: what a holder of
// that key (or a caller of an oracle that signs any head) makes. Every
// envelope left still verifies; only the judge's replay can tell.
func (a *attackRun) resealedWithout(t *testing.T, dir string, entries []audit.Entry, kind string) (string, error) {
	signer, err := attest.LoadSigner(attest.RoleOrchestrator, a.s.Local.KeyFile(attest.RoleOrchestrator))
	if err != nil {
		return "", err
	}
	var c audit.Chain
	dropped := false
	for _, e := range entries[:len(entries)-1] {
		if e.Type == kind && !dropped {
			dropped = true
			continue
		}
		e.Seq, e.Prev, e.Hash = 0, "", ""
		c.Append(e)
	}
	last := entries[len(entries)-1]
	s := attest.Seal{Binding: attest.Binding{Release: last.Release, PolicySHA256: a.hash}, Head: c.Head(), Entries: len(c.Links),
		Status: last.Outcome, Sealer: last.Executor, At: time.Now().UTC()}
	env, err := signer.Attest(attest.SealSubject(last.Release, s.Head), attest.PredicateSeal, s)
	if err != nil {
		return "", err
	}
	last.Seq, last.Prev, last.Hash, last.Envelope = 0, "", "", json.RawMessage(env)
	c.Append(last)
	return a.writeExport(t, dir, "resealed.jsonl", c.Entries()), nil
}

func (a *attackRun) writeExport(t *testing.T, dir, name string, entries []audit.Entry) string {
	var buf bytes.Buffer
	require(t, audit.Export(&buf, entries))
	file := filepath.Join(dir, name)
	require(t, os.WriteFile(file, buf.Bytes(), 0o644))
	return file
}

// verifyExport runs `starter audit --verify FILE --policy <the stack's policy>`.
func (a *attackRun) verifyExport(ctx context.Context, file string) (int, string) {
	cmd := exec.CommandContext(ctx, filepath.Join(a.s.Local.BinDir, "starter"), "audit", "--verify", file,
		"--policy", a.s.Local.PolicyFile())
	cmd.Env = devstack.BaseEnv()
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	return -1, err.Error()
}

// refusedExport: starter exits 3 naming the entry want.
func (a *attackRun) refusedExport(ctx context.Context, file, want string) error {
	code, out := a.verifyExport(ctx, file)
	if code != 3 || !strings.Contains(out, want) {
		return fmt.Errorf("starter audit --verify: exit %d (%s), want 3 naming %q", code, strings.TrimSpace(out), want)
	}
	return nil
}
