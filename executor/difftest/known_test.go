package difftest

import (
	"strings"
	"testing"
)

func TestParseKnownFailures(t *testing.T) {
	known, err := ParseKnownFailures("# comment\n\n01_a.sql:3 a cause\n  02_b.sql:10   another one  \n")
	if err != nil {
		t.Fatal(err)
	}
	if len(known) != 2 || known[0] != (KnownFailure{ID: "01_a.sql:3", Cause: "a cause", Line: 3}) ||
		known[1] != (KnownFailure{ID: "02_b.sql:10", Cause: "another one", Line: 4}) {
		t.Fatalf("got %+v", known)
	}
	for _, bad := range []string{
		"01_a.sql:3",                       // no cause
		"01_a.sql cause",                   // no line
		"random:3 cause",                   // not a corpus file
		"01_a.sql:3 one\n01_a.sql:3 twice", // listed twice
	} {
		if _, err := ParseKnownFailures(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestJudge checks the rules of the known-failures list: listed failures
// are accepted, a listed query that passes or is missing from a whole run
// is a departure, and so is every unlisted failure, random ones included.
func TestJudge(t *testing.T) {
	q := func(file string, line int) Query {
		return Query{File: "testdata/difftest/queries/" + file, Line: line, Name: file}
	}
	known := []KnownFailure{{ID: "01_a.sql:3", Cause: "bug A"}, {ID: "01_a.sql:9", Cause: "bug B"}}
	outcomes := []Outcome{
		{Query: q("01_a.sql", 3), Verdict: Mismatch, Detail: "1 rows missing"},
		{Query: q("01_a.sql", 9), Verdict: Failed, Detail: "ERROR"},
		{Query: q("01_a.sql", 12), Verdict: Pass},
	}
	if j := Judge(outcomes, known, true); !j.OK() || len(j.Known) != 2 || j.Known[0].Cause != "bug A" {
		t.Fatalf("listed failures only: %+v", j)
	} else if s := j.String(); !strings.Contains(s, "KNOWN 01_a.sql:3 [mismatch]") || !strings.Contains(s, "bug B") {
		t.Errorf("report does not show the known failures loudly:\n%s", s)
	}

	fixed := append([]Outcome{}, outcomes...)
	fixed[0].Verdict = Pass
	if j := Judge(fixed, known, true); j.OK() || len(j.Fixed) != 1 || j.Fixed[0].ID != "01_a.sql:3" {
		t.Errorf("a listed query that passes: %+v", j)
	}

	unlisted := append(append([]Outcome{}, outcomes...), Outcome{Query: q("01_a.sql", 15), Verdict: Failed})
	if j := Judge(unlisted, known, true); j.OK() || len(j.Unexpected) != 1 {
		t.Errorf("an unlisted failure: %+v", j)
	}

	random := append(append([]Outcome{}, outcomes...), Outcome{Query: Query{File: randomFile, Line: 3}, Verdict: Mismatch})
	if j := Judge(random, append(known, KnownFailure{ID: "random:3"}), true); j.OK() || len(j.Unexpected) != 1 {
		t.Errorf("a failing random query is never known: %+v", j)
	}

	if j := Judge(outcomes[:1], known, true); j.OK() || len(j.Stale) != 1 || j.Stale[0].ID != "01_a.sql:9" {
		t.Errorf("a listed query not run in a whole run: %+v", j)
	}
	if j := Judge(outcomes[:1], known, false); !j.OK() {
		t.Errorf("a listed query filtered out: %+v", j)
	}
}
