package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// factsTable is the analytic workloads' table.
const factsTable = "bench_facts"

// analyticQuery is one analytic workload: a query over factsTable, timed
// from send to last row, and the part of its answer both systems must
// agree on.
type analyticQuery struct {
	id, name string
	sql      string
	// answer reduces the rows to what must be equal on both systems:
	// order-insensitive where the query does not order, ties ignored.
	answer func(rows [][]string) string
}

// analyticQueries are the three analytic queries.
var analyticQueries = []analyticQuery{
	{
		id:     "agg-kind",
		name:   "GROUP BY kind (4 values)",
		sql:    "SELECT kind, sum(amount), count(*) FROM " + factsTable + " GROUP BY kind",
		answer: sortedRows,
	},
	{
		id:   "agg-account-top10",
		name: "GROUP BY account ORDER BY sum DESC LIMIT 10",
		sql:  "SELECT account, sum(amount) FROM " + factsTable + " GROUP BY account ORDER BY sum(amount) DESC LIMIT 10",
		// Accounts tied on their sum may come in either order: compare
		// the sums only.
		answer: func(rows [][]string) string { return column(rows, 1) },
	},
	{
		id:     "count-distinct",
		name:   "count(DISTINCT account)",
		sql:    "SELECT count(DISTINCT account) FROM " + factsTable,
		answer: sortedRows,
	},
}

// run times q once on sys. The figure is seconds.
func (q analyticQuery) run(ctx context.Context, sys *benchSystem) (measurement, error) {
	conn, err := connect(ctx, sys)
	if err != nil {
		return measurement{}, err
	}
	defer conn.Close(context.Background())
	began := time.Now()
	rows, err := execSQL(ctx, conn, q.sql)
	elapsed := time.Since(began)
	if err != nil {
		return measurement{}, err
	}
	return measurement{figure: elapsed.Seconds(), answer: q.answer(rows)}, nil
}

// sortedRows renders rows one per line, sorted.
func sortedRows(rows [][]string) string {
	lines := make([]string, len(rows))
	for i, r := range rows {
		lines[i] = strings.Join(r, "|")
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// column renders column i of rows, in order, one per line.
func column(rows [][]string, i int) string {
	var b strings.Builder
	for _, r := range rows {
		if i < len(r) {
			b.WriteString(r[i])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// sameAnswer returns an error when pgfed's answer differs from plain
// PostgreSQL's.
func sameAnswer(plain, pgfed string) error {
	if plain == pgfed {
		return nil
	}
	return fmt.Errorf("wrong answer: plain PostgreSQL returned\n%s\npgfed returned\n%s", abbreviate(plain), abbreviate(pgfed))
}
