package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// The datasets workloads run on; each is set up once per system.
const (
	benchDataPgbench  = "pgbench"  // pgbench's four tables at --scale
	benchDataAnalytic = "analytic" // bench_facts, --analytic-rows rows
	benchDataCopy     = "copy"     // bench_copy, emptied before each COPY
)

// benchLoadLimit bounds each step of loading data (pgbench -i, a COPY, a
// distribution), so that a hung system fails its workloads instead of
// hanging the benchmark.
const benchLoadLimit = 30 * time.Minute

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

// benchSetupPgbench loads pgbench's tables with `pgbench -i -s scale`
// through the system's client port, then, on pgfed, distributes them the
// way a Citus user would: branches and tellers as reference tables,
// accounts and history by aid (create_distributed_table moves the rows out
// of the metadata database into the shards). Then it checks the number of
// accounts and vacuums. Loading before distributing keeps this setup
// independent of COPY into distributed tables, which the copy workload
// measures on its own.
func benchSetupPgbench(ctx context.Context, sys *benchSystem, pgbench string, scale int) error {
	if _, err := benchRunTool(ctx, benchLoadLimit, pgbench, "-i", "-q", "-s", strconv.Itoa(scale),
		"-h", sys.Host, "-p", strconv.Itoa(sys.Port), "-U", "postgres", "postgres"); err != nil {
		return fmt.Errorf("pgbench -i: %w", err)
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
	if err := benchCheckCount(ctx, conn, "pgbench_accounts", benchAccountsPerScale*int64(scale)); err != nil {
		return err
	}
	return benchVacuumDirect(ctx, sys)
}

// benchSetupFacts creates table (with benchFactsColumns); with csvPath it
// loads the file into it through psql's \copy first, then, on pgfed,
// distributes it (benchDistributionColumn; moving the rows into the shards), checks the
// number of rows and vacuums.
func benchSetupFacts(ctx context.Context, sys *benchSystem, psql, table, csvPath string, rows int64) error {
	conn, err := benchConnect(ctx, sys)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if err := benchCreateTable(ctx, conn, table); err != nil {
		return err
	}
	if csvPath != "" {
		if err := benchCopyCSV(ctx, sys, psql, table, csvPath); err != nil {
			return err
		}
	}
	if err := benchDistributeFacts(ctx, conn, sys, table); err != nil {
		return err
	}
	if csvPath == "" {
		return nil
	}
	if err := benchCheckCount(ctx, conn, table, rows); err != nil {
		return err
	}
	return benchVacuumDirect(ctx, sys)
}

// benchCreateFacts (re)creates an empty table and distributes it on pgfed.
func benchCreateFacts(ctx context.Context, conn *pgx.Conn, sys *benchSystem, table string) error {
	if err := benchCreateTable(ctx, conn, table); err != nil {
		return err
	}
	return benchDistributeFacts(ctx, conn, sys, table)
}

// benchCreateTable (re)creates table, local, with benchFactsColumns.
func benchCreateTable(ctx context.Context, conn *pgx.Conn, table string) error {
	if _, err := benchExec(ctx, conn, "DROP TABLE IF EXISTS "+table+"; CREATE TABLE "+table+" "+benchFactsColumns); err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	return nil
}

// benchDistributeFacts distributes table on pgfed by benchDistributionColumn.
func benchDistributeFacts(ctx context.Context, conn *pgx.Conn, sys *benchSystem, table string) error {
	if !sys.Distribute {
		return nil
	}
	col := benchDistributionColumn(table)
	if _, err := benchExec(ctx, conn, "SELECT create_distributed_table('"+table+"', '"+col+"')"); err != nil {
		return fmt.Errorf("distribute table %s: %w", table, err)
	}
	return nil
}

// benchDistributionColumn is the column a benchmark table is distributed
// by: the analytic table by account, the GROUP BY key of two of its three
// queries, as a Citus user would and as the Citus anchors in FACTS.md were
// measured (its analytic wins come from partitioning by the GROUP BY key);
// the COPY table by id.
func benchDistributionColumn(table string) string {
	if table == benchFactsTable {
		return "account"
	}
	return "id"
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
