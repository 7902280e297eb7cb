package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// benchTransferScript is the cross-shard two-account transfer: about half of
// the pairs live on different workers, which takes a two-phase commit.
// The two rows are updated in aid order, so concurrent transfers never
// deadlock; the sign of :d picks the direction of the money.
const benchTransferScript = `\set a1 random(1, 100000 * :scale)
\set a2 random(1, 100000 * :scale)
\set lo least(:a1, :a2)
\set hi greatest(:a1, :a2)
\set d random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance - :d WHERE aid = :lo;
UPDATE pgbench_accounts SET abalance = abalance + :d WHERE aid = :hi;
COMMIT;
`

// benchPgbenchRun is what one pgbench run reports.
type benchPgbenchRun struct {
	TPS          float64 // "tps = N (without initial connection time)"
	LatencyMs    float64 // "latency average = N ms"
	Transactions int64   // "number of transactions actually processed: N"
	Failed       int64   // "number of failed transactions: N (...)"; PostgreSQL 15+
}

var (
	benchReTPS          = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \((?:without initial connection time|excluding connections establishing)\)`)
	benchReLatency      = regexp.MustCompile(`(?m)^latency average = ([0-9.]+) ms`)
	benchReTransactions = regexp.MustCompile(`(?m)^number of transactions actually processed: ([0-9]+)`)
	benchReFailed       = regexp.MustCompile(`(?m)^number of failed transactions: ([0-9]+)`)
)

// benchParsePgbench reads pgbench's report (its standard output). It fails when
// the report has no throughput line or no transaction was processed.
func benchParsePgbench(out string) (benchPgbenchRun, error) {
	var r benchPgbenchRun
	m := benchReTPS.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("pgbench printed no tps line")
	}
	var err error
	if r.TPS, err = strconv.ParseFloat(m[1], 64); err != nil {
		return r, fmt.Errorf("pgbench tps %q: %w", m[1], err)
	}
	if m := benchReLatency.FindStringSubmatch(out); m != nil {
		r.LatencyMs, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := benchReTransactions.FindStringSubmatch(out); m != nil {
		r.Transactions, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := benchReFailed.FindStringSubmatch(out); m != nil {
		r.Failed, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if r.Transactions == 0 || r.TPS == 0 {
		return r, errors.New("pgbench processed no transaction")
	}
	return r, nil
}

// benchToolFailure extracts the reason of a failed pgbench (or psql) run
// from its standard error: the lines that report an error and the lines
// that continue them (the server's LINE, DETAIL, HINT...), at most
// maxLines; else the last lines.
func benchToolFailure(stderr string) string {
	const maxLines = 8
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	var picked []string
	inError := false
	for _, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case t == "":
			continue
		case strings.Contains(t, "error:") || strings.Contains(t, "ERROR:") || strings.Contains(t, "FATAL:") || strings.Contains(t, "fatal:"):
			inError = true
		case strings.HasPrefix(t, "pgbench:") || strings.HasPrefix(t, "psql:"):
			inError = strings.HasPrefix(t, "pgbench: detail:") || strings.HasPrefix(t, "pgbench: hint:")
		}
		if inError && len(picked) < maxLines {
			picked = append(picked, t)
		}
	}
	if len(picked) == 0 {
		if len(lines) > maxLines {
			lines = lines[len(lines)-maxLines:]
		}
		picked = lines
	}
	return strings.Join(picked, "\n")
}

// benchPgbenchSpec is one pgbench invocation of a workload.
type benchPgbenchSpec struct {
	selectOnly bool   // -S
	mode       string // -M simple | extended | prepared
	clients    int    // -c
	threads    int    // -j
	script     string // a custom script's path (-f), with -s scale; "" for a builtin
}

// args returns pgbench's arguments against sys for duration d.
func (p benchPgbenchSpec) args(sys *benchSystem, d time.Duration, scale int) []string {
	secs := int(d.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	a := []string{"-h", sys.Host, "-p", strconv.Itoa(sys.Port), "-U", "postgres",
		"-n", // no vacuum of the pgbench tables before the run: loaded and vacuumed once
		"-T", strconv.Itoa(secs), "-c", strconv.Itoa(p.clients), "-j", strconv.Itoa(p.threads)}
	if p.selectOnly {
		a = append(a, "-S")
	}
	if p.mode != "" {
		a = append(a, "-M", p.mode)
	}
	if p.script != "" {
		a = append(a, "-f", p.script, "-s", strconv.Itoa(scale))
	}
	return append(a, "postgres")
}

// benchRunTool runs one of PostgreSQL's client programs to completion,
// for at most limit. On an interrupt, or past the limit, it is sent SIGINT
// and killed if it lingers. The error names the program and carries the
// reason from its standard error.
func benchRunTool(ctx context.Context, limit time.Duration, path string, args ...string) (stdout string, err error) {
	runCtx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(runCtx, path, args...)
	cmd.Env = append(os.Environ(), "PGSSLMODE=disable", "PGCONNECT_TIMEOUT=30", "PGOPTIONS=")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		name := benchToolName(path)
		switch {
		case ctx.Err() != nil:
			return out.String(), fmt.Errorf("%s: interrupted: %w", name, ctx.Err())
		case runCtx.Err() != nil:
			return out.String(), fmt.Errorf("%s: still running after %s (hung?), stopped: %s", name, limit, benchToolFailure(errb.String()))
		}
		return out.String(), fmt.Errorf("%s: %w: %s", name, err, benchToolFailure(errb.String()))
	}
	return out.String(), nil
}

// benchToolName is a program path's last element.
func benchToolName(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}
