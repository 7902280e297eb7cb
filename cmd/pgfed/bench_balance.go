package main

import (
	"context"
	"fmt"
	"strings"
)

// benchBalanceQueries sum the money in each pgbench table. TPC-B adds each
// transaction's delta to one account, one teller and one branch and logs it
// in history; a transfer moves money between two accounts. So, whenever no
// transaction is in flight, the four sums are equal: a system that commits
// part of a transaction, or loses a committed one, breaks the equality.
var benchBalanceQueries = []struct{ what, sql string }{
	{"accounts", "SELECT sum(abalance) FROM pgbench_accounts"},
	{"tellers", "SELECT sum(tbalance) FROM pgbench_tellers"},
	{"branches", "SELECT sum(bbalance) FROM pgbench_branches"},
	{"history", "SELECT coalesce(sum(delta), 0) FROM pgbench_history"},
}

// benchCheckBalances checks, through sys's client port, that the money in
// the pgbench tables adds up (see benchBalanceQueries).
func benchCheckBalances(ctx context.Context, sys *benchSystem) error {
	conn, err := benchConnect(ctx, sys)
	if err != nil {
		return fmt.Errorf("check balances: %w", err)
	}
	defer conn.Close(context.Background())
	sums := make([]string, len(benchBalanceQueries))
	for i, q := range benchBalanceQueries {
		rows, err := benchExec(ctx, conn, q.sql)
		if err != nil {
			return fmt.Errorf("check balances: %w", err)
		}
		if len(rows) != 1 || len(rows[0]) != 1 {
			return fmt.Errorf("check balances: %s returned %v", q.sql, rows)
		}
		sums[i] = rows[0][0]
	}
	return benchBalancesAgree(sums)
}

// benchBalancesAgree returns an error naming every sum when the sums of
// benchBalanceQueries (as text, in that order) are not all equal.
func benchBalancesAgree(sums []string) error {
	for _, s := range sums[1:] {
		if s != sums[0] {
			parts := make([]string, len(sums))
			for i, s := range sums {
				parts[i] = benchBalanceQueries[i].what + " " + s
			}
			return fmt.Errorf("money created or lost: the balances disagree after the run (%s): a transaction was applied in part, or lost", strings.Join(parts, ", "))
		}
	}
	return nil
}
