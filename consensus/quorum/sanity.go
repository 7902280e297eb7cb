package quorum

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxDepth is the deepest nesting a quorum set may have: the outermost set is
// at depth 0, so a sane quorum set has at most MaxDepth+1 levels
// (stellar-core's MAXIMUM_QUORUM_NESTING_LEVEL).
const MaxDepth = 4

// MaxValidators is the largest number of validators a quorum set may name
// across all its levels.
const MaxValidators = 1000

// ErrInsane is the sentinel every SanityError wraps.
var ErrInsane = errors.New("quorum set is not sane")

// SanityError says which rule of the sanity check a quorum set breaks and
// where: Path names the inner set ("" for the outermost set, "inner[1].inner[0]"
// for the first inner set of the second inner set).
type SanityError struct {
	Path   string
	Reason string
}

// Error describes the broken rule and where it is broken.
func (e *SanityError) Error() string {
	where := "top level"
	if e.Path != "" {
		where = e.Path
	}
	return fmt.Sprintf("quorum set is not sane: %s: %s", where, e.Reason)
}

// Unwrap returns ErrInsane.
func (e *SanityError) Unwrap() error { return ErrInsane }

// Sane applies stellar-core's isQuorumSetSane to q: nesting depth at most
// MaxDepth, every threshold at least 1 and at most the number of entries at
// its level, no node named twice anywhere in the tree, between 1 and
// MaxValidators validators in total. In strict mode (for the local
// configuration) every threshold must also exceed half of its entries
// (threshold >= entries-threshold+1), so that two slices of the same set always
// overlap; quorum sets received from peers are checked with strict false.
// The result is nil or a *SanityError.
func (q *QSet) Sane(strict bool) error {
	if q == nil {
		return &SanityError{Reason: "no quorum set"}
	}
	c := sanityChecker{strict: strict, seen: make(Set)}
	if err := c.check(q, 0, ""); err != nil {
		return err
	}
	if c.count < 1 || c.count > MaxValidators {
		return &SanityError{Reason: fmt.Sprintf("%d validators in total, want 1..%d", c.count, MaxValidators)}
	}
	return nil
}

type sanityChecker struct {
	strict bool
	seen   Set
	count  int
}

func (c *sanityChecker) check(q *QSet, depth int, path string) error {
	if depth > MaxDepth {
		return &SanityError{Path: path, Reason: fmt.Sprintf("nested deeper than %d levels", MaxDepth)}
	}
	if q.Threshold < 1 {
		return &SanityError{Path: path, Reason: "threshold must be at least 1"}
	}
	entries := int64(q.Entries())
	t := int64(q.Threshold)
	if t > entries {
		return &SanityError{Path: path, Reason: fmt.Sprintf("threshold %d exceeds the %d entries", t, entries)}
	}
	if c.strict && t < entries-t+1 {
		return &SanityError{Path: path, Reason: fmt.Sprintf("threshold %d of %d entries is not more than half (strict mode)", t, entries)}
	}
	c.count += len(q.Validators)
	for _, v := range q.Validators {
		if c.seen.Has(v) {
			return &SanityError{Path: path, Reason: "node " + v.String() + " appears more than once"}
		}
		c.seen[v] = struct{}{}
	}
	for i := range q.InnerSets {
		if err := c.check(&q.InnerSets[i], depth+1, joinPath(path, i)); err != nil {
			return err
		}
	}
	return nil
}

func joinPath(path string, i int) string {
	var b strings.Builder
	b.WriteString(path)
	if path != "" {
		b.WriteByte('.')
	}
	b.WriteString("inner[")
	b.WriteString(strconv.Itoa(i))
	b.WriteByte(']')
	return b.String()
}
