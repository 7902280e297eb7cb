package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// benchQueryLimit bounds one analytic query.
const benchQueryLimit = 10 * time.Minute

// benchFactsTable is the analytic workloads' table.
const benchFactsTable = "bench_facts"

// benchQuery is one analytic workload: a query over benchFactsTable, timed
// from send to last row, and the part of its answer both systems must
// agree on.
type benchQuery struct {
	id, name string
	sql      string
	// answer reduces the rows to what must be equal on both systems:
	// order-insensitive where the query does not order, ties ignored.
	answer func(rows [][]string) string
}

// benchQueries are the three analytic queries.
var benchQueries = []benchQuery{
	{
		id:     "agg-kind",
		name:   "GROUP BY kind (4 values)",
		sql:    "SELECT kind, sum(amount), count(*) FROM " + benchFactsTable + " GROUP BY kind",
		answer: benchSortedRows,
	},
	{
		id:   "agg-account-top10",
		name: "GROUP BY account ORDER BY sum DESC LIMIT 10",
		sql:  "SELECT account, sum(amount) FROM " + benchFactsTable + " GROUP BY account ORDER BY sum(amount) DESC LIMIT 10",
		// Accounts tied on their sum may come in either order: compare
		// the sums only.
		answer: func(rows [][]string) string { return benchColumn(rows, 1) },
	},
	{
		id:     "count-distinct",
		name:   "count(DISTINCT account)",
		sql:    "SELECT count(DISTINCT account) FROM " + benchFactsTable,
		answer: benchSortedRows,
	},
}

// run times q once on sys. The figure is seconds.
func (q benchQuery) run(ctx context.Context, sys *benchSystem) (benchMeasurement, error) {
	conn, err := benchConnect(ctx, sys)
	if err != nil {
		return benchMeasurement{}, err
	}
	defer conn.Close(context.Background())
	qctx, cancel := context.WithTimeout(ctx, benchQueryLimit)
	defer cancel()
	began := time.Now()
	rows, err := benchExec(qctx, conn, q.sql)
	elapsed := time.Since(began)
	if err != nil {
		if ctx.Err() == nil && qctx.Err() != nil {
			return benchMeasurement{}, fmt.Errorf("%s: no answer within %s", q.sql, benchQueryLimit)
		}
		return benchMeasurement{}, err
	}
	return benchMeasurement{figure: elapsed.Seconds(), answer: q.answer(rows)}, nil
}

// benchSortedRows renders rows one per line, sorted.
func benchSortedRows(rows [][]string) string {
	lines := make([]string, len(rows))
	for i, r := range rows {
		lines[i] = strings.Join(r, "|")
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// benchColumn renders column i of rows, in order, one per line.
func benchColumn(rows [][]string, i int) string {
	var b strings.Builder
	for _, r := range rows {
		if i < len(r) {
			b.WriteString(r[i])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// benchSameAnswer returns an error when pgfed's answer differs from plain
// PostgreSQL's.
func benchSameAnswer(plain, pgfed string) error {
	if plain == pgfed {
		return nil
	}
	return fmt.Errorf("wrong answer: plain PostgreSQL returned\n%s\npgfed returned\n%s", benchAbbreviate(plain), benchAbbreviate(pgfed))
}
