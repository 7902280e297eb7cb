package quorum

import (
	"errors"
	"strings"
	"testing"
)

func nest(depth int) QSet {
	q := qs(1, nids(100+depth))
	for d := depth - 1; d >= 0; d-- {
		q = qs(1, nids(100+d), q)
	}
	return q
}

func TestSaneRules(t *testing.T) {
	many := make([]NodeID, MaxValidators+1)
	for i := range many {
		many[i] = nid(i)
	}
	cases := []struct {
		name   string
		q      QSet
		strict bool
		reason string // "" = sane
	}{
		{"one validator", qs(1, nids(1)), true, ""},
		{"rule 1: depth 4 allowed", nest(4), false, ""},
		{"rule 1: depth 5 rejected", nest(5), false, "nested deeper than 4"},
		{"rule 2: threshold 0", qs(0, nids(1)), false, "at least 1"},
		{"rule 2: inner threshold 0", qs(1, nids(1), qs(0, nids(2))), false, "inner[0]: threshold must be at least 1"},
		{"rule 3: threshold above entries", qs(3, nids(1, 2)), false, "exceeds the 2 entries"},
		{"rule 3: per level", qs(1, nids(1), qs(2, nids(2))), false, "inner[0]: threshold 2 exceeds"},
		{"rule 4: strict majority", qs(2, nids(1, 2, 3, 4)), true, "not more than half"},
		{"rule 4: non-strict accepts", qs(2, nids(1, 2, 3, 4)), false, ""},
		{"rule 4: 3 of 4 strict", qs(3, nids(1, 2, 3, 4)), true, ""},
		{"rule 5: duplicate at one level", qs(1, nids(1, 1)), false, "appears more than once"},
		{"rule 5: duplicate across levels", qs(1, nids(1), qs(1, nids(2, 1))), false, "appears more than once"},
		{"rule 6: no validators", qs(1, nil, qs(1, nil)), false, ""}, // fails inner threshold first
		{"rule 6: too many validators", qs(1, many), false, "1001 validators in total"},
		{"rule 6: 1000 validators", qs(1, many[:MaxValidators]), false, ""},
	}
	cases[12].reason = "exceeds the 0 entries"
	for _, c := range cases {
		err := c.q.Sane(c.strict)
		if c.reason == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.reason)
			continue
		}
		var se *SanityError
		if !errors.As(err, &se) || !errors.Is(err, ErrInsane) {
			t.Errorf("%s: %T does not wrap ErrInsane", c.name, err)
		}
	}
}

func TestSaneRule6EmptyTree(t *testing.T) {
	// {t:1, inner {t:1, inner {t:1, one validator}}} has one validator;
	// a set with no validators at all cannot pass rule 3 at its leaves, so
	// rule 6's lower bound is reached only through the total.
	q := qs(1, nids(1))
	q.Validators = nil
	if err := q.Sane(false); err == nil {
		t.Fatal("empty quorum set is sane")
	}
}
