package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// report is what a run measured and found.
type report struct {
	Elapsed time.Duration
	// Committed transfers (acknowledged COMMIT), of which CrossCommitted
	// between two banks.
	Committed, CrossCommitted int
	// Declined for insufficient funds, Aborted with an error that
	// guarantees no commit, Unknown outcome (40003, broken connection).
	Declined, Aborted, Unknown int
	// Aborts counts the errors by SQLSTATE ("connection" for others).
	Aborts map[string]int
	// FirstError is the first error other than 40001/40P01.
	FirstError string
	// All, Cross and Same are the commit latencies of the committed
	// transfers: all, between banks, within a bank.
	All, Cross, Same latency

	// Before and After are the books before the clients ran and at the
	// check.
	Before, After bookState
	// Consistent: the total balance is unchanged, every transfer in the
	// table has its two rows summing to zero, every committed transfer is
	// there and every aborted or declined one is not.
	Consistent bool
	// Problems lists what the check found wrong (at most a few).
	Problems []string

	attempts map[int64]status
}

// checkWait bounds how long the check waits for the books to settle:
// a transfer whose outcome the client did not learn (40003) is still
// finished by the banks' validators.
const checkWait = 30 * time.Second

// check compares the books with what the clients saw, again and again
// until they agree or checkWait passes.
func (r *report) check(ctx context.Context, c *pgx.Conn) error {
	deadline := time.Now().Add(checkWait)
	for {
		after, err := books(ctx, c)
		if err != nil {
			return fmt.Errorf("reading the balances: %w", err)
		}
		rows, err := transferRows(ctx, c)
		if err != nil {
			return fmt.Errorf("reading the transfers: %w", err)
		}
		r.After = after
		r.Problems = r.problems(rows)
		r.Consistent = len(r.Problems) == 0
		if r.Consistent || time.Now().After(deadline) || ctx.Err() != nil {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// problems compares the transfer rows with the attempts and the totals.
func (r *report) problems(rows map[int64][2]int64) []string {
	var out []string
	add := func(format string, args ...any) {
		if len(out) < 10 {
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	if r.After.total != r.Before.total || r.After.accounts != r.Before.accounts {
		add("total balance %d over %d accounts, was %d over %d", r.After.total, r.After.accounts, r.Before.total, r.Before.accounts)
	}
	for id, v := range rows {
		if v[0] != 2 || v[1] != 0 {
			add("transfer %d has %d rows summing to %d (want its debit and credit, summing to 0)", id, v[0], v[1])
		}
	}
	for id, st := range r.attempts {
		_, there := rows[id]
		switch {
		case st == committed && !there:
			add("transfer %d was committed but is missing", id)
		case (st == aborted || st == declined) && there:
			add("transfer %d failed for its client but is in the books", id)
		}
	}
	return out
}

// print writes the report.
func (r *report) print(w io.Writer) {
	secs := r.Elapsed.Seconds()
	fmt.Fprintf(w, "payments: %d transfers committed in %.1fs: %.1f/s (%d cross-bank, %d same-bank)\n",
		r.Committed, secs, float64(r.Committed)/secs, r.CrossCommitted, r.Committed-r.CrossCommitted)
	for _, l := range []struct {
		name string
		l    latency
	}{{"cross-bank", r.Cross}, {"same-bank", r.Same}, {"all", r.All}} {
		if l.l.N > 0 {
			fmt.Fprintf(w, "payments:   %-10s commit latency p50 %s  p99 %s  (%d)\n", l.name, ms(l.l.P50), ms(l.l.P99), l.l.N)
		}
	}
	var codes []string
	for c, n := range r.Aborts {
		codes = append(codes, fmt.Sprintf("%s x%d", c, n))
	}
	sort.Strings(codes)
	fmt.Fprintf(w, "payments: %d declined (insufficient funds), %d aborted, %d of unknown outcome; errors by SQLSTATE: %s\n",
		r.Declined, r.Aborted, r.Unknown, orNone(strings.Join(codes, ", ")))
	if r.FirstError != "" {
		fmt.Fprintf(w, "payments: first other error: %s\n", r.FirstError)
	}
	verdict := "OK"
	if !r.Consistent {
		verdict = "INCONSISTENT"
	}
	fmt.Fprintf(w, "payments: books %s: total balance %d before, %d after; every committed transfer at both banks, no failed one\n",
		verdict, r.Before.total, r.After.total)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "payments:   %s\n", p)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
