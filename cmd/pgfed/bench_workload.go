package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"
)

// benchMeasurement is one run of a workload on one system.
type benchMeasurement struct {
	figure    float64 // in the workload's unit
	latencyMs float64 // pgbench's average latency; 0 for others
	failed    int64   // pgbench's failed transactions
	answer    string  // what both systems must agree on; "" when unchecked
}

// benchWorkload is one line of the report.
type benchWorkload struct {
	id, name string
	unit     benchUnit
	dataset  string // the dataset its systems must have set up
	warmup   bool   // run once on each system, untimed, before the rounds
	run      func(ctx context.Context, sys *benchSystem) (benchMeasurement, error)
	// check, when set, runs after each run, untimed: a system that fails
	// it fails the workload, however fast it was.
	check func(ctx context.Context, sys *benchSystem) error
}

// benchConfig is what a run measures; benchMain fills it from the flags.
type benchConfig struct {
	duration        time.Duration // per pgbench run
	rounds          int
	scale           int
	copyRows        int64
	analyticRows    int64
	accounts        int64 // distinct accounts of the analytic table
	only            *regexp.Regexp
	pgbench         string // program paths
	psql            string
	scriptPath      string // the transfer script
	copyCSVPath     string // the COPY workload's input
	analyticCSVPath string // the analytic table's rows
}

// benchWorkloads returns every workload of a run, in report order, those not
// matched by cfg.only left out.
func benchWorkloads(cfg benchConfig) []benchWorkload {
	var ws []benchWorkload
	for _, mode := range []string{"simple", "extended", "prepared"} {
		for _, c := range []int{1, 8} {
			spec := benchPgbenchSpec{selectOnly: true, mode: mode, clients: c, threads: min(c, 2)}
			ws = append(ws, benchWorkload{
				id:      fmt.Sprintf("select-%s-c%d", mode, c),
				name:    fmt.Sprintf("pgbench -S -M %s -c %d%s", mode, c, benchThreadsFlag(spec)),
				unit:    benchTPS,
				dataset: benchDataPgbench,
				run:     benchPgbenchRunner(cfg, spec),
			})
		}
	}
	tpcb := benchPgbenchSpec{clients: 8, threads: 2}
	ws = append(ws, benchWorkload{id: "tpcb", name: "pgbench TPC-B (tpcb-like) -c 8 -j 2", unit: benchTPS,
		dataset: benchDataPgbench, run: benchPgbenchRunner(cfg, tpcb), check: benchCheckBalances})
	transfer := benchPgbenchSpec{clients: 8, threads: 2, script: cfg.scriptPath}
	ws = append(ws, benchWorkload{id: "transfer", name: "two-account transfer -c 8 -j 2", unit: benchTPS,
		dataset: benchDataPgbench, run: benchPgbenchRunner(cfg, transfer), check: benchCheckBalances})
	cw := &benchCopyWorkload{psql: cfg.psql, path: cfg.copyCSVPath, rows: cfg.copyRows, table: map[string]string{}}
	ws = append(ws, benchWorkload{id: "copy", name: "COPY " + strconv.FormatInt(cfg.copyRows, 10) + " rows CSV", unit: benchRowsPerSec,
		dataset: benchDataCopy, run: cw.run})
	for _, q := range benchQueries {
		ws = append(ws, benchWorkload{id: q.id, name: q.name + " (" + strconv.FormatInt(cfg.analyticRows, 10) + " rows)",
			unit: benchSeconds, dataset: benchDataAnalytic, warmup: true, run: q.run})
	}
	if cfg.only == nil {
		return ws
	}
	var picked []benchWorkload
	for _, w := range ws {
		if cfg.only.MatchString(w.id) {
			picked = append(picked, w)
		}
	}
	return picked
}

func benchThreadsFlag(p benchPgbenchSpec) string {
	if p.threads > 1 {
		return " -j " + strconv.Itoa(p.threads)
	}
	return ""
}

// benchPgbenchGrace is how long a pgbench run may last past its -T.
const benchPgbenchGrace = 2 * time.Minute

// benchPgbenchRunner runs pgbench with spec for cfg.duration.
func benchPgbenchRunner(cfg benchConfig, spec benchPgbenchSpec) func(context.Context, *benchSystem) (benchMeasurement, error) {
	return func(ctx context.Context, sys *benchSystem) (benchMeasurement, error) {
		// pgbench waits for the transactions in flight at the end of -T:
		// a system that hangs them fails the run after the grace period.
		out, err := benchRunTool(ctx, cfg.duration+benchPgbenchGrace, cfg.pgbench, spec.args(sys, cfg.duration, cfg.scale)...)
		if err != nil {
			return benchMeasurement{}, err
		}
		r, err := benchParsePgbench(out)
		if err != nil {
			return benchMeasurement{}, fmt.Errorf("%w; its output:\n%s", err, out)
		}
		return benchMeasurement{figure: r.TPS, latencyMs: r.LatencyMs, failed: r.Failed}, nil
	}
}

// benchRunWorkload measures w on both systems in alternation, plain then pgfed,
// for rounds rounds. A system whose dataset setup failed, or that fails a
// run, is not run again for w; its error goes in the result. Progress
// lines go to progress.
func benchRunWorkload(ctx context.Context, w benchWorkload, systems [2]*benchSystem, rounds int, progress io.Writer) benchResult {
	r := benchResult{ID: w.id, Name: w.name, Unit: w.unit}
	sides := [2]*benchSide{&r.Plain, &r.Pgfed}
	for i, sys := range systems {
		if err := sys.setupErr[w.dataset]; err != nil {
			sides[i].Error = fmt.Sprintf("set up the %s dataset: %v", w.dataset, err)
		}
	}
	var answers [2]string
	once := func(i int, label string) (benchMeasurement, bool) {
		if sides[i].Error != "" || ctx.Err() != nil {
			return benchMeasurement{}, false
		}
		m, err := w.run(ctx, systems[i])
		if err == nil && w.check != nil {
			err = w.check(ctx, systems[i])
		}
		if err != nil {
			verdict := "FAILED"
			if ctx.Err() != nil {
				verdict = "interrupted"
			}
			sides[i].Error = err.Error()
			fmt.Fprintf(progress, "  %-20s %-8s %-6s %s\n", w.id, label, systems[i].Name, verdict)
			return benchMeasurement{}, false
		}
		if answers[i] == "" {
			answers[i] = m.answer
		}
		return m, true
	}
	if w.warmup {
		for i := range systems {
			if m, ok := once(i, "warm-up"); ok {
				fmt.Fprintf(progress, "  %-20s %-8s %-6s %s\n", w.id, "warm-up", systems[i].Name, benchFormatFigure(w.unit, m.figure))
			}
		}
	}
	for round := 1; round <= rounds && ctx.Err() == nil; round++ {
		label := fmt.Sprintf("%d/%d", round, rounds)
		for i := range systems {
			m, ok := once(i, label)
			if !ok {
				continue
			}
			sides[i].add(m.figure, m.latencyMs)
			line := benchFormatFigure(w.unit, m.figure)
			if m.latencyMs > 0 {
				line += fmt.Sprintf(" (%.3f ms)", m.latencyMs)
			}
			if m.failed > 0 {
				sides[i].Failed += m.failed
				line += fmt.Sprintf(", %d failed", m.failed)
			}
			fmt.Fprintf(progress, "  %-20s %-8s %-6s %s\n", w.id, label, systems[i].Name, line)
		}
		if r.Plain.Error != "" && r.Pgfed.Error != "" {
			break
		}
	}
	if answers[0] != "" && answers[1] != "" && r.Pgfed.Error == "" {
		if err := benchSameAnswer(answers[0], answers[1]); err != nil {
			r.Pgfed.Error = err.Error()
		}
	}
	if ctx.Err() != nil {
		for _, s := range sides {
			if s.Error == "" && len(s.Samples) < rounds {
				s.Error = "interrupted"
			}
		}
	}
	r.finish(systems[1].Distribute)
	return r
}
