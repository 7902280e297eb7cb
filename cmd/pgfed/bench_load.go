package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// The datasets workloads run on; each is set up once per system.
const (
	benchDataPgbench  = "pgbench"  // pgbench's four tables at --scale
	benchDataAnalytic = "analytic" // bench_facts, --analytic-rows rows
	benchDataCopy     = "copy"     // bench_copy, emptied before each COPY
)

// benchAccountsPerScale is pgbench's number of accounts per scale unit.
const benchAccountsPerScale = 100000

// benchFactsColumns is the shape of both the analytic table and the COPY target:
// id is the distribution column, kind has 4 values.
const benchFactsColumns = "(id bigint NOT NULL, account int NOT NULL, kind int NOT NULL, amount numeric NOT NULL)"

// benchConnect opens a connection to sys.
func benchConnect(ctx context.Context, sys *benchSystem) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, sys.connString())
	if err != nil {
		return nil, fmt.Errorf("connect to %s (port %d): %w", sys.Name, sys.Port, err)
	}
	return conn, nil
}

// benchExec runs sql with the simple query protocol (several statements
// allowed) and returns the rows of its last result, as text.
func benchExec(ctx context.Context, conn *pgx.Conn, sql string) ([][]string, error) {
	results, err := conn.PgConn().Exec(ctx, sql).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", benchAbbreviate(sql), err)
	}
	var rows [][]string
	if n := len(results); n > 0 {
		for _, r := range results[n-1].Rows {
			row := make([]string, len(r))
			for i, v := range r {
				row[i] = string(v)
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// benchAbbreviate shortens a statement for an error message.
func benchAbbreviate(sql string) string {
	const max = 120
	if len(sql) > max {
		return sql[:max] + "..."
	}
	return sql
}

// benchSetupPgbench creates pgbench's tables with `pgbench -i -I dtp` (drop,
// create, primary keys), distributes them on pgfed (accounts and history by
// aid, branches and tellers as reference tables), loads the rows pgbench
// itself would generate through the system's own client port, and vacuums.
//
// The rows are loaded by COPY rather than by pgbench's "g" step because
// that step truncates and COPYs with FREEZE in one transaction, which tests
// more than loading; the rows are the same, and both systems load them the
// same way.
func benchSetupPgbench(ctx context.Context, sys *benchSystem, pgbench string, scale int) error {
	if _, err := benchRunTool(ctx, pgbench, "-i", "-I", "dtp", "-s", strconv.Itoa(scale),
		"-h", sys.Host, "-p", strconv.Itoa(sys.Port), "-U", "postgres", "postgres"); err != nil {
		return fmt.Errorf("create the pgbench tables: %w", err)
	}
	conn, err := benchConnect(ctx, sys)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if sys.Distribute {
		for _, q := range []string{
			"SELECT create_reference_table('pgbench_branches')",
			"SELECT create_reference_table('pgbench_tellers')",
			"SELECT create_distributed_table('pgbench_accounts', 'aid')",
			"SELECT create_distributed_table('pgbench_history', 'aid')",
		} {
			if _, err := benchExec(ctx, conn, q); err != nil {
				return fmt.Errorf("distribute the pgbench tables: %w", err)
			}
		}
	}
	branches := int64(scale)
	loads := []struct {
		sql  string
		rows int64
		row  func(i int64) string
	}{
		{"COPY pgbench_branches (bid, bbalance) FROM STDIN", branches,
			func(i int64) string { return strconv.FormatInt(i, 10) + "\t0\n" }},
		{"COPY pgbench_tellers (tid, bid, tbalance) FROM STDIN", 10 * branches,
			func(i int64) string { return fmt.Sprintf("%d\t%d\t0\n", i, (i-1)/10+1) }},
		{"COPY pgbench_accounts (aid, bid, abalance, filler) FROM STDIN", benchAccountsPerScale * branches,
			func(i int64) string { return fmt.Sprintf("%d\t%d\t0\t\n", i, (i-1)/benchAccountsPerScale+1) }},
	}
	for _, l := range loads {
		tag, err := conn.PgConn().CopyFrom(ctx, &benchRowReader{n: l.rows, row: l.row}, l.sql)
		if err != nil {
			return fmt.Errorf("load pgbench rows: %s: %w", l.sql, err)
		}
		if tag.RowsAffected() != l.rows {
			return fmt.Errorf("load pgbench rows: %s: %d rows loaded, want %d", l.sql, tag.RowsAffected(), l.rows)
		}
	}
	return benchVacuumDirect(ctx, sys)
}

// benchSetupFacts creates table (with benchFactsColumns) and distributes it by id on
// pgfed; with csvPath it loads the file through psql's \copy and vacuums.
func benchSetupFacts(ctx context.Context, sys *benchSystem, psql, table, csvPath string, rows int64) error {
	conn, err := benchConnect(ctx, sys)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if err := benchCreateFacts(ctx, conn, sys, table); err != nil {
		return err
	}
	if csvPath == "" {
		return nil
	}
	if err := benchCopyCSV(ctx, sys, psql, table, csvPath); err != nil {
		return err
	}
	if err := benchCheckCount(ctx, conn, table, rows); err != nil {
		return err
	}
	return benchVacuumDirect(ctx, sys)
}

// benchCreateFacts (re)creates table and distributes it on pgfed.
func benchCreateFacts(ctx context.Context, conn *pgx.Conn, sys *benchSystem, table string) error {
	if _, err := benchExec(ctx, conn, "DROP TABLE IF EXISTS "+table+"; CREATE TABLE "+table+" "+benchFactsColumns); err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	if sys.Distribute {
		if _, err := benchExec(ctx, conn, "SELECT create_distributed_table('"+table+"', 'id')"); err != nil {
			return fmt.Errorf("distribute table %s: %w", table, err)
		}
	}
	return nil
}

// benchCheckCount checks that table holds want rows.
func benchCheckCount(ctx context.Context, conn *pgx.Conn, table string, want int64) error {
	rows, err := benchExec(ctx, conn, "SELECT count(*) FROM "+table)
	if err != nil {
		return fmt.Errorf("count the rows loaded: %w", err)
	}
	if len(rows) != 1 || len(rows[0]) != 1 || rows[0][0] != strconv.FormatInt(want, 10) {
		return fmt.Errorf("count the rows loaded: %s holds %v rows, want %d", table, rows, want)
	}
	return nil
}

// benchVacuumDirect runs VACUUM ANALYZE on every server holding sys's data,
// connecting to them directly (so it works whether or not the coordinator
// propagates VACUUM), so that both systems start with fresh statistics and
// visibility maps.
func benchVacuumDirect(ctx context.Context, sys *benchSystem) error {
	for _, s := range sys.Direct {
		conn, err := s.Connect(ctx, "postgres")
		if err != nil {
			return fmt.Errorf("vacuum: %w", err)
		}
		_, err = conn.Exec(ctx, "VACUUM ANALYZE")
		conn.Close(context.Background())
		if err != nil {
			return fmt.Errorf("vacuum server %s: %w", s.Name, err)
		}
	}
	return nil
}

// benchRowReader is an io.Reader of n generated rows, row(1) to row(n), for
// COPY FROM STDIN.
type benchRowReader struct {
	n, next int64
	row     func(i int64) string
	buf     []byte
}

func (r *benchRowReader) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) && r.next < r.n {
		r.next++
		r.buf = append(r.buf, r.row(r.next)...)
	}
	if len(r.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.buf)
	r.buf = r.buf[:copy(r.buf, r.buf[n:])]
	return n, nil
}
