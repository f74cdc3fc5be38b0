package tracing

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Span is one span as a traces file (FOUREYES_TRACES_FILE, stdouttrace's
// JSON lines) holds it, reduced to what tests and the waterfall read.
type Span struct {
	Name     string
	TraceID  string
	SpanID   string
	ParentID string // "" for a root
	Kind     int    // trace.SpanKind
	Start    time.Time
	End      time.Time
	Service  string            // the resource's service.name
	Attrs    map[string]string // string forms of the attribute values
	Error    bool              // status Error
}

type jsonSpanContext struct {
	TraceID, SpanID string
}

type jsonKeyValue struct {
	Key   string
	Value struct {
		Type  string
		Value any
	}
}

type jsonSpan struct {
	Name        string
	SpanContext jsonSpanContext
	Parent      jsonSpanContext
	SpanKind    int
	StartTime   time.Time
	EndTime     time.Time
	Attributes  []jsonKeyValue
	Status      struct{ Code string }
	Resource    []jsonKeyValue
}

const zeroSpanID = "0000000000000000"

// ReadSpans reads every *.jsonl file in dir.
func ReadSpans(dir string) ([]Span, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	var all []Span
	for _, f := range files {
		spans, err := ReadSpanFile(f)
		if err != nil {
			return nil, err
		}
		all = append(all, spans...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Start.Before(all[j].Start) })
	return all, nil
}

// ReadSpanFile reads one traces file.
func ReadSpanFile(path string) ([]Span, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var spans []Span
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var js jsonSpan
		if err := json.Unmarshal([]byte(line), &js); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		s := Span{Name: js.Name, TraceID: js.SpanContext.TraceID, SpanID: js.SpanContext.SpanID,
			ParentID: js.Parent.SpanID, Kind: js.SpanKind, Start: js.StartTime, End: js.EndTime,
			Attrs: map[string]string{}, Error: js.Status.Code == "Error"}
		if s.ParentID == zeroSpanID {
			s.ParentID = ""
		}
		for _, kv := range js.Attributes {
			s.Attrs[kv.Key] = fmt.Sprint(kv.Value.Value)
		}
		for _, kv := range js.Resource {
			if kv.Key == "service.name" {
				s.Service = fmt.Sprint(kv.Value.Value)
			}
		}
		spans = append(spans, s)
	}
	return spans, sc.Err()
}

// Release is the release a span is about: the SDK's temporalWorkflowID tag
// or foureyes' own foureyes.release.
func (s Span) Release() string {
	if id := s.Attrs["temporalWorkflowID"]; id != "" {
		return id
	}
	return s.Attrs["foureyes.release"]
}
