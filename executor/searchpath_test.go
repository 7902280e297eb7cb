package executor

import (
	"reflect"
	"testing"
)

// TestSearchPathParsing checks search_path values and the options startup
// parameter.
func TestSearchPathParsing(t *testing.T) {
	for in, want := range map[string][]string{
		"":                nil,
		"app, public":     {"app", "public"},
		`"$user", Public`: {"alice", "public"},
		`"My Schema",x`:   {"My Schema", "x"},
		"DEFAULT":         nil,
	} {
		if got := parseSearchPath(in, "alice"); !reflect.DeepEqual(got, want) {
			t.Errorf("parseSearchPath(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"-c search_path=app":                    "app",
		"-c geqo=off --search_path=a,b":         "a,b",
		`-c search_path=my\ schema -c geqo=off`: "my schema",
	} {
		if got, ok := optionSetting(in, "search_path"); !ok || got != want {
			t.Errorf("optionSetting(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	if _, ok := optionSetting("-c geqo=off", "search_path"); ok {
		t.Error("found a search_path in options without one")
	}
}
