// Package devserver runs Temporal server v1.32 with all services in one
// process on SQLite, the Web UI beside it, and foureyes' authorization: what
// `temporal server start-dev` runs, with every call authenticated and
// authorized (package authz).
package devserver

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
)

// DefaultSearchAttributes are the Release workflow's search attributes, as
// in the main module's workflows.SearchAttributes (NAME=TYPE).
var DefaultSearchAttributes = []string{
	"ReleaseService=Keyword", "ReleaseEnvironment=Keyword", "ReleaseStatus=Keyword",
	"ReleaseRequester=Keyword", "ReleaseCommit=Keyword", "ReleaseAwaiting=KeywordList",
	"ReleaseEmergency=Bool", "ReleasePromotes=Keyword",
}

// ParseSearchAttributes turns NAME=TYPE pairs into a map (types as the CLI
// names them: Keyword, Text, Int, Double, Bool, Datetime, KeywordList).
func ParseSearchAttributes(pairs []string) (map[string]enumspb.IndexedValueType, error) {
	out := map[string]enumspb.IndexedValueType{}
	for _, p := range pairs {
		name, typ, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("search attribute %q: want NAME=TYPE", p)
		}
		var t enumspb.IndexedValueType
		for short, v := range enumspb.IndexedValueType_shorthandValue {
			if strings.EqualFold(short, typ) {
				t = enumspb.IndexedValueType(v)
			}
		}
		if t == enumspb.INDEXED_VALUE_TYPE_UNSPECIFIED {
			return nil, fmt.Errorf("search attribute %q: unknown type %q", p, typ)
		}
		out[name] = t
	}
	return out, nil
}

// DefaultDynamicConfig is what the CLI's dev server sets (v1.5.1), which the
// stack ran on so far.
var DefaultDynamicConfig = map[string]any{
	"history.hostLevelCacheMaxSize":                  8096,
	"frontend.namespaceRPS.visibility":               100,
	"system.forceSearchAttributesCacheRefreshOnRead": true,
	"frontend.persistenceMaxQPS":                     10000,
	"history.persistenceMaxQPS":                      45000,
}

// SecurityDynamicConfig is fixed: authorization depends on it.
//   - principal propagation: every history event carries the
//     server-attested principal (identity) of the call that caused it;
//   - the namespace of a task token must be the request's (the authorizer
//     judges the request's namespace);
//   - streaming endpoints are authorized too;
//   - the authorizer's own errors reach the caller: a completion of an
//     activity that is no longer pending gets NotFound, as without
//     authorization (the SDK then stops the activity).
var SecurityDynamicConfig = map[string]any{
	"frontend.enablePrincipalPropagation":      true,
	"frontend.enableTokenNamespaceEnforcement": true,
	"system.disableStreamingAuthorizer":        false,
	"frontend.exposeAuthorizerErrors":          true,
}

// ParseDynamicConfig turns KEY=VALUE pairs (VALUE in JSON; a bare word is a
// string) into values, over DefaultDynamicConfig. Keys of
// SecurityDynamicConfig are refused.
func ParseDynamicConfig(pairs []string) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range DefaultDynamicConfig {
		out[k] = v
	}
	for _, p := range pairs {
		key, raw, ok := strings.Cut(p, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("dynamic config %q: want KEY=VALUE", p)
		}
		for k := range SecurityDynamicConfig {
			if strings.EqualFold(k, key) {
				return nil, fmt.Errorf("dynamic config %q: %s is fixed by the server's authorization", p, k)
			}
		}
		v, err := jsonValue(raw)
		if err != nil {
			return nil, fmt.Errorf("dynamic config %q: %w", p, err)
		}
		out[key] = v
	}
	for k, v := range SecurityDynamicConfig {
		out[k] = v
	}
	return out, nil
}

// jsonValue decodes a JSON value; numbers become int when whole (dynamic
// config wants int, not float64), anything that is not JSON is a string.
func jsonValue(raw string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return raw, nil
	}
	return convertNumbers(v), nil
}

func convertNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = convertNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = convertNumbers(x[k])
		}
	}
	return v
}

// ParsePairs turns KEY=VALUE pairs into a map (SQLite pragmas).
func ParsePairs(what string, pairs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s %q: want KEY=VALUE", what, p)
		}
		out[k] = v
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
