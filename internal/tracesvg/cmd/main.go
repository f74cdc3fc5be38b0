// Command cmd draws one trace of a traces folder as an SVG waterfall:
//
//	go run ./internal/tracesvg/cmd -dir data/traces -trace TRACE_ID > trace.svg
//
// TRACE_ID is what `starter status RELEASE` prints as "trace"; without
// -trace, the trace of -release (its spans' temporalWorkflowID).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/foureyes/foureyes/internal/tracesvg"
	"github.com/foureyes/foureyes/tracing"
)

func main() {
	dir := flag.String("dir", "data/traces", "folder of the stack's *.jsonl span files")
	traceID := flag.String("trace", "", "trace id")
	release := flag.String("release", "", "release id (when -trace is not given)")
	flag.Parse()
	if err := run(*dir, *traceID, *release); err != nil {
		fmt.Fprintln(os.Stderr, "tracesvg:", err)
		os.Exit(1)
	}
}

func run(dir, traceID, release string) error {
	spans, err := tracing.ReadSpans(dir)
	if err != nil {
		return err
	}
	if traceID == "" {
		for _, s := range spans {
			if release != "" && s.Release() == release {
				traceID = s.TraceID
				break
			}
		}
	}
	if traceID == "" {
		return fmt.Errorf("no trace: give -trace, or a -release with spans in %s", dir)
	}
	title := "trace " + traceID
	if release != "" {
		title = "release " + release
	}
	return tracesvg.Render(os.Stdout, tracesvg.OfTrace(spans, traceID), title)
}
