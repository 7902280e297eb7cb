package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"
)

// benchFactsSeed seeds the generated CSV files, so every run loads the same rows.
const benchFactsSeed = 20261126

// benchWriteFactsCSV writes rows rows in benchFactsColumns' shape as CSV to path:
// id 1..rows in order, account uniform in 1..accounts, kind uniform in
// 0..3, amount uniform in 0.00..9999.99. The same arguments always give
// the same file.
func benchWriteFactsCSV(path string, rows, accounts int64) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("generate CSV: %w", err)
	}
	rng := rand.New(rand.NewPCG(benchFactsSeed, uint64(rows)))
	w := bufio.NewWriterSize(f, 1<<20)
	line := make([]byte, 0, 64)
	for id := int64(1); id <= rows; id++ {
		line = strconv.AppendInt(line[:0], id, 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, 1+rng.Int64N(accounts), 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, rng.Int64N(4), 10)
		line = append(line, ',')
		cents := rng.Int64N(1000000)
		line = strconv.AppendInt(line, cents/100, 10)
		line = append(line, '.', byte('0'+cents%100/10), byte('0'+cents%10), '\n')
		if _, err := w.Write(line); err != nil {
			f.Close()
			return fmt.Errorf("generate CSV %s: %w", path, err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("generate CSV %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("generate CSV %s: %w", path, err)
	}
	return nil
}

// benchCopyCSV loads the CSV file at path into table through sys's client port
// with psql's \copy, which reads the file on the client side and sends it
// with COPY FROM STDIN.
func benchCopyCSV(ctx context.Context, sys *benchSystem, psql, table, path string) error {
	cmd := fmt.Sprintf(`\copy %s FROM '%s' WITH (FORMAT csv)`, table, strings.ReplaceAll(path, "'", "''"))
	_, err := benchRunTool(ctx, benchLoadLimit, psql, "-X", "-q", "-v", "ON_ERROR_STOP=1",
		"-h", sys.Host, "-p", strconv.Itoa(sys.Port), "-U", "postgres", "-d", "postgres", "-c", cmd)
	if err != nil {
		return fmt.Errorf("COPY into %s: %w", table, err)
	}
	return nil
}

// benchCopyWorkload times the COPY of a CSV file into an emptied table.
type benchCopyWorkload struct {
	psql string
	path string
	rows int64
	// table is the current target table of each system: bench_copy, or a
	// fresh bench_copy_<n> when the system cannot TRUNCATE.
	table map[string]string
	fresh int
}

// run empties the target table (untimed), then times the COPY and checks
// the number of rows (untimed). The figure is rows per second.
func (c *benchCopyWorkload) run(ctx context.Context, sys *benchSystem) (benchMeasurement, error) {
	conn, err := benchConnect(ctx, sys)
	if err != nil {
		return benchMeasurement{}, err
	}
	defer conn.Close(context.Background())
	table := c.table[sys.Name]
	if table == "" {
		table = "bench_copy"
	}
	if _, err := benchExec(ctx, conn, "TRUNCATE "+table); err != nil {
		// A system that cannot TRUNCATE yet gets a new table each round.
		c.fresh++
		table = "bench_copy_" + strconv.Itoa(c.fresh)
		if err := benchCreateFacts(ctx, conn, sys, table); err != nil {
			return benchMeasurement{}, fmt.Errorf("empty the COPY target (TRUNCATE failed, so a new table): %w", err)
		}
	}
	c.table[sys.Name] = table
	began := time.Now()
	if err := benchCopyCSV(ctx, sys, c.psql, table, c.path); err != nil {
		return benchMeasurement{}, err
	}
	elapsed := time.Since(began)
	if err := benchCheckCount(ctx, conn, table, c.rows); err != nil {
		return benchMeasurement{}, err
	}
	return benchMeasurement{figure: float64(c.rows) / elapsed.Seconds()}, nil
}
