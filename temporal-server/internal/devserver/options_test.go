package devserver

import (
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
)

func TestParseDynamicConfig(t *testing.T) {
	got, err := ParseDynamicConfig([]string{"matching.numTaskqueueReadPartitions=1", "x.float=1.5", "x.list=[1,\"a\"]", "x.word=abc", "frontend.persistenceMaxQPS=5"})
	if err != nil {
		t.Fatal(err)
	}
	if got["matching.numTaskqueueReadPartitions"] != 1 || got["x.float"] != 1.5 || got["x.word"] != "abc" ||
		got["frontend.persistenceMaxQPS"] != 5 || got["history.persistenceMaxQPS"] != 45000 {
		t.Errorf("got %v", got)
	}
	if l, ok := got["x.list"].([]any); !ok || l[0] != 1 || l[1] != "a" {
		t.Errorf("list: %#v", got["x.list"])
	}
	for k, v := range SecurityDynamicConfig {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
		if _, err := ParseDynamicConfig([]string{strings.ToUpper(k) + "=false"}); err == nil || !strings.Contains(err.Error(), "fixed") {
			t.Errorf("overriding %s: %v", k, err)
		}
	}
	if _, err := ParseDynamicConfig([]string{"novalue"}); err == nil {
		t.Error("KEY without =VALUE accepted")
	}
}

func TestParseSearchAttributes(t *testing.T) {
	got, err := ParseSearchAttributes(DefaultSearchAttributes)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 8 || got["ReleaseAwaiting"] != enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST || got["ReleaseStatus"] != enumspb.INDEXED_VALUE_TYPE_KEYWORD ||
		got["ReleaseEmergency"] != enumspb.INDEXED_VALUE_TYPE_BOOL {
		t.Errorf("got %v", got)
	}
	for _, bad := range []string{"X", "=Keyword", "X=Blob"} {
		if _, err := ParseSearchAttributes([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
