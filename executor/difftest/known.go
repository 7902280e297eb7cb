package difftest

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// KnownFailuresFile is the list of corpus queries pgfed is known to get
// wrong, under testdata/difftest.
const KnownFailuresFile = "known_failures.txt"

// randomFile is the File of the generator's queries, which are never
// known failures.
const randomFile = "random"

// KnownFailure is a corpus query listed as failing, with its cause.
type KnownFailure struct {
	ID    string // "file.sql:line", as QueryID gives it
	Cause string // why it fails (a bug, where it is, what would fix it)
	Line  int    // the entry's line in the list
}

// QueryID names a corpus query in the known-failures list: its file's
// base name and line ("04_group.sql:90").
func QueryID(q Query) string { return filepath.Base(q.File) + ":" + strconv.Itoa(q.Line) }

var knownEntry = regexp.MustCompile(`^([^\s:]+\.sql:[0-9]+)\s+(\S.*)$`)

// ParseKnownFailures reads a known-failures list: one entry a line,
// "file.sql:line cause...", where the cause is required; blank lines and
// lines starting with # are ignored. An entry listed twice is an error.
func ParseKnownFailures(text string) ([]KnownFailure, error) {
	var out []KnownFailure
	seen := map[string]int{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := knownEntry.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("%s:%d: want \"file.sql:line cause\", got %q", KnownFailuresFile, i+1, line)
		}
		if prev, ok := seen[m[1]]; ok {
			return nil, fmt.Errorf("%s:%d: %s is already listed at line %d", KnownFailuresFile, i+1, m[1], prev)
		}
		seen[m[1]] = i + 1
		out = append(out, KnownFailure{ID: m[1], Cause: m[2], Line: i + 1})
	}
	return out, nil
}

// Judgement is how a run's outcomes compare with the known failures.
type Judgement struct {
	// Known are the failures the list expects, with their causes.
	Known []KnownOutcome
	// Unexpected are the failures the list does not name (every failing
	// random query is one).
	Unexpected []Outcome
	// Fixed are listed queries that now pass: remove them from the list.
	Fixed []KnownFailure
	// Stale are listed queries that were not run although the whole
	// corpus was (the file or line changed): fix the entry.
	Stale []KnownFailure
}

// KnownOutcome is a failure the list expects.
type KnownOutcome struct {
	Outcome
	Cause string
}

// Judge compares outcomes with the known failures. wholeCorpus says every
// corpus query was run, so that a listed query missing from the outcomes
// is a stale entry rather than one filtered out.
func Judge(outcomes []Outcome, known []KnownFailure, wholeCorpus bool) Judgement {
	byID := map[string]KnownFailure{}
	for _, k := range known {
		byID[k.ID] = k
	}
	ran := map[string]bool{}
	var j Judgement
	for _, o := range outcomes {
		id := QueryID(o.Query)
		k, listed := byID[id]
		listed = listed && o.Query.File != randomFile
		if listed {
			ran[id] = true
		}
		switch {
		case o.Verdict == Pass && listed:
			j.Fixed = append(j.Fixed, k)
		case o.Verdict == Pass:
		case listed:
			j.Known = append(j.Known, KnownOutcome{Outcome: o, Cause: k.Cause})
		default:
			j.Unexpected = append(j.Unexpected, o)
		}
	}
	if wholeCorpus {
		for _, k := range known {
			if !ran[k.ID] {
				j.Stale = append(j.Stale, k)
			}
		}
	}
	return j
}

// OK reports a run that matches the list exactly: every failure listed,
// every listed query failing, no stale entry.
func (j Judgement) OK() bool {
	return len(j.Unexpected) == 0 && len(j.Fixed) == 0 && len(j.Stale) == 0
}

// String lists the known failures (loudly: they are bugs) and every
// departure from the list.
func (j Judgement) String() string {
	var b strings.Builder
	if len(j.Known) > 0 {
		fmt.Fprintf(&b, "KNOWN FAILURES (%d, accepted because %s lists them):\n", len(j.Known), KnownFailuresFile)
		for _, k := range j.Known {
			fmt.Fprintf(&b, "  KNOWN %s [%s] %s\n    cause: %s\n    got: %s\n", QueryID(k.Query), k.Verdict, k.Query.Name,
				k.Cause, firstLine(k.Detail))
		}
	}
	for _, k := range j.Fixed {
		fmt.Fprintf(&b, "FIXED %s passes now: remove it from %s (line %d)\n", k.ID, KnownFailuresFile, k.Line)
	}
	for _, k := range j.Stale {
		fmt.Fprintf(&b, "STALE %s (%s line %d) names no corpus query: the corpus moved, fix the entry\n", k.ID, KnownFailuresFile, k.Line)
	}
	if len(j.Unexpected) > 0 {
		fmt.Fprintf(&b, "UNEXPECTED FAILURES (%d, not in %s):\n", len(j.Unexpected), KnownFailuresFile)
		for _, o := range j.Unexpected {
			fmt.Fprintf(&b, "  %s [%s] %s: %s\n", o.Query.Where(), o.Verdict, o.Query.Name, firstLine(o.Detail))
		}
	}
	return b.String()
}
