package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/foureyes/foureyes/internal/devstack"
	"github.com/foureyes/foureyes/internal/procstat"
)

// report collects the table rows and notes of one run.
type report struct {
	cfg   config
	rows  [][5]string // measure, foureyes, floor, ratio, target
	notes []string
	goals []goal
}

func newReport(cfg config) *report { return &report{cfg: cfg} }

func (r *report) row(measure, ours, floor, ratio, target string) {
	r.rows = append(r.rows, [5]string{measure, ours, floor, ratio, target})
}

func (r *report) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// noteMachine records cores, memory, load and the server tuning.
func (r *report) noteMachine() {
	r.note("machine: %d cores, %s memory, load average %s (at start)", runtime.NumCPU(), memTotal(), loadAvg())
	r.note("Temporal server: %s", r.cfg.serverName())
	t := r.cfg.tuning()
	if r.cfg.cluster {
		r.note("cluster dynamic config %v (the stack's; -sqlite-pragma, -dynamic-config and -bare apply to the dev server only)", devstack.DefaultTuning.DynamicConfig)
	} else {
		r.note("dev server tuning: sqlite pragmas %v, dynamic config %v", t.SQLitePragmas, t.DynamicConfig)
	}
	if r.cfg.floorUpserts {
		r.note("the floor upserts ReleaseStatus six times per release (-floor-upserts)")
	}
	if r.cfg.compression != "" {
		r.note("gRPC compression of every role (foureyes and floor): %s", r.cfg.compression)
	}
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\n| measure | foureyes | floor | foureyes/floor | target |\n|---|---|---|---|---|\n")
	for _, row := range r.rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(row[:], " | "))
	}
	fmt.Fprintln(w)
	for _, n := range r.notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
	fmt.Fprintf(w, "- load average at the end: %s\n", loadAvg())
	r.printGoals(w)
}

// pct is the p-th percentile (nearest rank) of ds.
func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

func ratio(a, b float64) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// percentileRows adds p50/p95/p99 rows comparing two samples.
func (r *report) percentileRows(what string, ours, floor []time.Duration, target string) {
	for _, p := range []float64{50, 95, 99} {
		f, fl := "—", ""
		if floor != nil {
			f, fl = ms(pct(floor, p)), ratio(float64(pct(ours, p)), float64(pct(floor, p)))
		}
		r.row(fmt.Sprintf("%s p%.0f (ms, n=%d)", what, p, len(ours)), ms(pct(ours, p)), f, fl, target)
	}
}

func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	return strings.Join(f[:min(3, len(f))], " ")
}

func memTotal() string {
	kb, err := procstat.FieldKB("/proc/meminfo", "MemTotal")
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
}

func secondsDur(s int) time.Duration { return time.Duration(s) * time.Second }
