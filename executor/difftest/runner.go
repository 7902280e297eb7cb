package difftest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Verdict is how one query fared.
type Verdict uint8

const (
	Pass        Verdict = iota
	Mismatch            // both answered, differently
	Unsupported         // the cluster refused it with SQLSTATE 0A000
	Failed              // the cluster failed with another error
	OracleError         // the oracle failed: a bug of the corpus or generator
)

// String names the verdict.
func (v Verdict) String() string {
	return [...]string{"pass", "mismatch", "not supported", "error", "oracle error"}[v]
}

// Outcome is the result of checking one query.
type Outcome struct {
	Query   Query
	Verdict Verdict
	Detail  string // the difference, or the error
	Plan    string // EXPLAIN through the cluster, for mismatches
	Elapsed time.Duration
}

// Runner runs queries on the oracle and on the cluster and compares.
// Cluster connections that die are reopened with ClusterConn.
type Runner struct {
	Oracle      *pgx.Conn
	Cluster     *pgx.Conn
	ClusterConn string        // connection string to reopen Cluster
	Timeout     time.Duration // per query and side; default 30s
	Protocol    Protocol      // how queries are sent to the cluster (the oracle always gets Simple)

	Outcomes []Outcome
}

// Check runs q on both sides and records and returns its outcome.
func (r *Runner) Check(ctx context.Context, q Query) Outcome {
	start := time.Now()
	out := r.check(ctx, q)
	out.Elapsed = time.Since(start)
	r.Outcomes = append(r.Outcomes, out)
	return out
}

func (r *Runner) timeout() time.Duration {
	if r.Timeout <= 0 {
		return 30 * time.Second
	}
	return r.Timeout
}

func (r *Runner) check(ctx context.Context, q Query) Outcome {
	qctx, cancel := context.WithTimeout(ctx, r.timeout())
	want, err := Run(qctx, r.Oracle, q.SQL)
	cancel()
	if err != nil {
		return Outcome{Query: q, Verdict: OracleError, Detail: err.Error()}
	}
	if err := r.reconnect(ctx); err != nil {
		return Outcome{Query: q, Verdict: Failed, Detail: err.Error()}
	}
	qctx, cancel = context.WithTimeout(ctx, r.timeout())
	got, err := RunWith(qctx, r.Cluster, q.SQL, r.Protocol)
	cancel()
	if err != nil {
		v := Failed
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == pgerrcode.FeatureNotSupported {
			v = Unsupported
		}
		return Outcome{Query: q, Verdict: v, Detail: err.Error()}
	}
	if d := Diff(want, got, q.Ordered); d != "" {
		return Outcome{Query: q, Verdict: Mismatch, Detail: d, Plan: r.explain(ctx, q.SQL)}
	}
	return Outcome{Query: q, Verdict: Pass}
}

// reconnect reopens the cluster connection when a failure closed it.
func (r *Runner) reconnect(ctx context.Context) error {
	if r.Cluster != nil && !r.Cluster.IsClosed() {
		return nil
	}
	if r.ClusterConn == "" {
		return errors.New("difftest: the cluster connection is closed and there is no connection string to reopen it")
	}
	cctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	c, err := pgx.Connect(cctx, r.ClusterConn)
	if err != nil {
		return fmt.Errorf("difftest: reconnect to the cluster: %w", err)
	}
	r.Cluster = c
	return nil
}

// explain returns EXPLAIN's text through the cluster (at most 40 lines), or
// why there is none.
func (r *Runner) explain(ctx context.Context, sql string) string {
	if err := r.reconnect(ctx); err != nil {
		return err.Error()
	}
	qctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	res, err := Run(qctx, r.Cluster, "EXPLAIN "+sql)
	if err != nil {
		return "EXPLAIN failed: " + err.Error()
	}
	var lines []string
	for i, row := range res.Rows {
		if i == 40 {
			lines = append(lines, fmt.Sprintf("... %d more lines", len(res.Rows)-40))
			break
		}
		for _, v := range row {
			if v != nil {
				lines = append(lines, *v)
			}
		}
	}
	return strings.Join(lines, "\n")
}

// Count returns how many outcomes have verdict v.
func (r *Runner) Count(v Verdict) int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Verdict == v {
			n++
		}
	}
	return n
}

// Summary is one line of counts by verdict.
func (r *Runner) Summary() string {
	parts := []string{fmt.Sprintf("%d queries", len(r.Outcomes))}
	for v := Pass; v <= OracleError; v++ {
		parts = append(parts, fmt.Sprintf("%d %s", r.Count(v), v))
	}
	return strings.Join(parts, ", ")
}

var digits = regexp.MustCompile(`[0-9]+`)

// Causes groups the failures' errors by message (numbers blanked) and
// returns the most frequent first, with counts, at most n of them.
func (r *Runner) Causes(n int) []string {
	count := map[string]int{}
	for _, o := range r.Outcomes {
		switch o.Verdict {
		case Pass:
			continue
		case Mismatch:
			line := firstLine(o.Detail)
			if strings.HasPrefix(line, typesPrefix) {
				// keep the OIDs, drop the full lists
				line = strings.TrimSpace(line[:strings.LastIndex(line, " (want")])
			} else {
				line = digits.ReplaceAllString(line, "N")
			}
			count["mismatch: "+line]++
		default:
			count[o.Verdict.String()+": "+digits.ReplaceAllString(o.Detail, "N")]++
		}
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if count[keys[i]] != count[keys[j]] {
			return count[keys[i]] > count[keys[j]]
		}
		return keys[i] < keys[j]
	})
	if len(keys) > n {
		keys = keys[:n]
	}
	for i, k := range keys {
		keys[i] = fmt.Sprintf("%5d  %s", count[k], k)
	}
	return keys
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Report lists every failed outcome: where, what, the SQL (trimmed), the
// difference or error, and the plan of mismatches.
func (r *Runner) Report() string {
	var b strings.Builder
	for _, o := range r.Outcomes {
		if o.Verdict == Pass {
			continue
		}
		fmt.Fprintf(&b, "--- %s [%s] %s\n", o.Query.Where(), o.Verdict, o.Query.Name)
		fmt.Fprintf(&b, "%s\n", indent(trim(o.Query.SQL, 400)))
		fmt.Fprintf(&b, "%s\n", indent(o.Detail))
		if o.Plan != "" {
			fmt.Fprintf(&b, "  plan:\n%s\n", indent(indent(o.Plan)))
		}
	}
	return b.String()
}

func trim(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}
