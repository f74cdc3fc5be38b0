// Package tracesvg draws a trace's spans (tracing.ReadSpans) as a waterfall
// in SVG: one row per span in tree order, a bar from its start to its end
// on the trace's time axis, coloured by the process (service) that
// exported it. docs/images/trace.svg is one release's trace, drawn by
// TestOneTracePerRelease (e2e/integration) or by `go run
// ./internal/tracesvg/cmd`.
package tracesvg

import (
	"fmt"
	"html"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/foureyes/foureyes/tracing"
)

// OfTrace is the spans of trace id.
func OfTrace(spans []tracing.Span, id string) []tracing.Span {
	var out []tracing.Span
	for _, s := range spans {
		if s.TraceID == id {
			out = append(out, s)
		}
	}
	return out
}

// Layout.
const (
	labelWidth = 430
	barWidth   = 760
	rowHeight  = 18
	top        = 58
	width      = labelWidth + barWidth + 90
)

var palette = []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#edc948", "#9c755f"}

// services in the order a release meets them; others follow by name.
var serviceOrder = []string{"foureyes-starter", "foureyes-orchestrator", "foureyes-build", "foureyes-review",
	"foureyes-approval", "foureyes-deploy"}

// Render writes the waterfall of spans (one trace) with title.
func Render(w io.Writer, spans []tracing.Span, title string) error {
	if len(spans) == 0 {
		return fmt.Errorf("tracesvg: no spans")
	}
	rows := treeOrder(spans)
	t0, t1 := rows[0].span.Start, rows[0].span.End
	for _, r := range rows {
		if r.span.Start.Before(t0) {
			t0 = r.span.Start
		}
		if r.span.End.After(t1) {
			t1 = r.span.End
		}
	}
	total := t1.Sub(t0)
	if total <= 0 {
		total = time.Millisecond
	}
	x := func(t time.Time) float64 { return labelWidth + float64(t.Sub(t0))/float64(total)*barWidth }
	colors := serviceColors(spans)
	height := top + len(rows)*rowHeight + 60

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="monospace" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="8" y="18" font-size="14" font-weight="bold">%s</text>`+"\n", html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="8" y="34">trace %s · %d spans · %s</text>`+"\n", spans[0].TraceID, len(spans), round(total))
	// Time axis: five ticks.
	for i := 0; i <= 4; i++ {
		tx := labelWidth + float64(i)*barWidth/4
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#dddddd"/>`+"\n", tx, top-6, tx, top+len(rows)*rowHeight)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#666666">%s</text>`+"\n", tx, top-10, round(total*time.Duration(i)/4))
	}
	for i, r := range rows {
		y := top + i*rowHeight
		if i%2 == 1 {
			fmt.Fprintf(&b, `<rect x="0" y="%d" width="%d" height="%d" fill="#f6f6f6"/>`+"\n", y, width, rowHeight)
		}
		s := r.span
		label := strings.Repeat("  ", min(r.depth, 12)) + strings.TrimPrefix(s.Service, "foureyes-") + ": " + s.Name
		fmt.Fprintf(&b, `<text x="8" y="%d" xml:space="preserve">%s</text>`+"\n", y+13, html.EscapeString(clip(label, 62)))
		x0, x1 := x(s.Start), x(s.End)
		if x1-x0 < 1.5 {
			x1 = x0 + 1.5
		}
		stroke := ""
		if s.Error {
			stroke = ` stroke="#b00000" stroke-width="1.5"`
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" rx="2" fill="%s"%s><title>%s</title></rect>`+"\n",
			x0, y+3, x1-x0, rowHeight-6, colors[s.Service], stroke, html.EscapeString(s.Service+" "+s.Name+" "+round(s.End.Sub(s.Start))))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#444444">%s</text>`+"\n", x1+4, y+13, round(s.End.Sub(s.Start)))
	}
	// Legend.
	ly := top + len(rows)*rowHeight + 30
	lx := 8
	for _, svc := range services(spans) {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", lx, ly-10, colors[svc], lx+16, ly, html.EscapeString(svc))
		lx += 20 + 7*len(svc) + 18
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

type row struct {
	span  tracing.Span
	depth int
}

// treeOrder lists each span after its parent, siblings by start time;
// a span whose parent is not among spans is a root.
func treeOrder(spans []tracing.Span) []row {
	byID := map[string]bool{}
	for _, s := range spans {
		byID[s.SpanID] = true
	}
	children := map[string][]tracing.Span{}
	var roots []tracing.Span
	for _, s := range spans {
		if s.ParentID == "" || !byID[s.ParentID] {
			roots = append(roots, s)
		} else {
			children[s.ParentID] = append(children[s.ParentID], s)
		}
	}
	byStart := func(l []tracing.Span) {
		sort.SliceStable(l, func(i, j int) bool { return l[i].Start.Before(l[j].Start) })
	}
	var out []row
	var walk func(s tracing.Span, depth int)
	walk = func(s tracing.Span, depth int) {
		out = append(out, row{s, depth})
		kids := children[s.SpanID]
		byStart(kids)
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	byStart(roots)
	for _, r := range roots {
		walk(r, 0)
	}
	return out
}

func services(spans []tracing.Span) []string {
	set := map[string]bool{}
	for _, s := range spans {
		set[s.Service] = true
	}
	var out []string
	for _, s := range serviceOrder {
		if set[s] {
			out = append(out, s)
			delete(set, s)
		}
	}
	var rest []string
	for s := range set {
		rest = append(rest, s)
	}
	sort.Strings(rest)
	return append(out, rest...)
}

func serviceColors(spans []tracing.Span) map[string]string {
	m := map[string]string{}
	for i, s := range services(spans) {
		m[s] = palette[i%len(palette)]
	}
	return m
}

func round(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

func clip(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
