package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runQuorum(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := quorumMain(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func example(name string) string { return filepath.Join("..", "..", "testdata", "quorum", name) }

// TestQuorumCheckExitCodes: 0 intersecting, 1 split, 2 no quorum, 3 bad input.
func TestQuorumCheckExitCodes(t *testing.T) {
	cases := []struct {
		file string
		code int
		out  string
	}{
		{"symmetric-4.json", 0, "all quorums intersect"},
		{"symmetric-7.json", 0, "all quorums intersect"},
		{"tiered-orgs.json", 0, "all quorums intersect"},
		{"split.json", 1, "do NOT intersect"},
		{"no-quorum.json", 2, "no quorum"},
	}
	for _, c := range cases {
		code, out, errOut := runQuorum(t, "check", example(c.file))
		if code != c.code || !strings.Contains(out, c.out) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", c.file, code, out, errOut)
		}
	}
}

func TestQuorumCheckJSONFlagEitherSide(t *testing.T) {
	for _, args := range [][]string{
		{"check", "--json", example("split.json")},
		{"check", example("split.json"), "--json"},
	} {
		code, out, _ := runQuorum(t, args...)
		var r struct {
			Status         string
			Split          [][]string
			MinimalQuorums [][]string
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		if code != 1 || r.Status != "split" || len(r.Split) != 2 || len(r.MinimalQuorums) == 0 {
			t.Errorf("%v: exit %d, %+v", args, code, r)
		}
	}
}

func TestQuorumCheckBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := writeFile(bad, `{"publicKey": "x"}`); err != nil {
		t.Fatal(err)
	}
	cases := [][]string{
		nil,
		{"frobnicate"},
		{"check"},
		{"check", "a.json", "b.json"},
		{"check", "--bogus", example("split.json")},
		{"check", filepath.Join(t.TempDir(), "missing.json")},
		{"check", bad},
	}
	for _, args := range cases {
		code, _, errOut := runQuorum(t, args...)
		if code != 3 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	_, _, errOut := runQuorum(t, "check", bad)
	if !strings.Contains(errOut, "want a JSON array of nodes") {
		t.Errorf("message %q", errOut)
	}
}

func writeFile(name, s string) error { return os.WriteFile(name, []byte(s), 0o644) }

func TestQuorumHelpExitsZero(t *testing.T) {
	code, _, errOut := runQuorum(t, "-h")
	if code != 0 || !strings.Contains(errOut, "usage: pgfed quorum check") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
