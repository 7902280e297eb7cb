package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"
)

// measurement is one run of a workload on one system.
type measurement struct {
	figure    float64 // in the workload's unit
	latencyMs float64 // pgbench's average latency; 0 for others
	failed    int64   // pgbench's failed transactions
	answer    string  // what both systems must agree on; "" when unchecked
}

// workload is one line of the report.
type workload struct {
	id, name string
	unit     benchUnit
	dataset  string // the dataset its systems must have set up
	warmup   bool   // run once on each system, untimed, before the rounds
	run      func(ctx context.Context, sys *benchSystem) (measurement, error)
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

// workloads returns every workload of a run, in report order, those not
// matched by cfg.only left out.
func workloads(cfg benchConfig) []workload {
	var ws []workload
	for _, mode := range []string{"simple", "extended", "prepared"} {
		for _, c := range []int{1, 8} {
			spec := pgbenchSpec{selectOnly: true, mode: mode, clients: c, threads: min(c, 2)}
			ws = append(ws, workload{
				id:      fmt.Sprintf("select-%s-c%d", mode, c),
				name:    fmt.Sprintf("pgbench -S -M %s -c %d%s", mode, c, threadsFlag(spec)),
				unit:    unitTPS,
				dataset: datasetPgbench,
				run:     pgbenchRunner(cfg, spec),
			})
		}
	}
	tpcb := pgbenchSpec{clients: 8, threads: 2}
	ws = append(ws, workload{id: "tpcb", name: "pgbench TPC-B (tpcb-like) -c 8 -j 2", unit: unitTPS,
		dataset: datasetPgbench, run: pgbenchRunner(cfg, tpcb)})
	transfer := pgbenchSpec{clients: 8, threads: 2, script: cfg.scriptPath}
	ws = append(ws, workload{id: "transfer", name: "two-account transfer -c 8 -j 2", unit: unitTPS,
		dataset: datasetPgbench, run: pgbenchRunner(cfg, transfer)})
	cw := &copyWorkload{psql: cfg.psql, path: cfg.copyCSVPath, rows: cfg.copyRows, table: map[string]string{}}
	ws = append(ws, workload{id: "copy", name: "COPY " + strconv.FormatInt(cfg.copyRows, 10) + " rows CSV", unit: unitRowsSec,
		dataset: datasetCopy, run: cw.run})
	for _, q := range analyticQueries {
		ws = append(ws, workload{id: q.id, name: q.name + " (" + strconv.FormatInt(cfg.analyticRows, 10) + " rows)",
			unit: unitSeconds, dataset: datasetAnalytic, warmup: true, run: q.run})
	}
	if cfg.only == nil {
		return ws
	}
	var picked []workload
	for _, w := range ws {
		if cfg.only.MatchString(w.id) {
			picked = append(picked, w)
		}
	}
	return picked
}

func threadsFlag(p pgbenchSpec) string {
	if p.threads > 1 {
		return " -j " + strconv.Itoa(p.threads)
	}
	return ""
}

// pgbenchRunner runs pgbench with spec for cfg.duration.
func pgbenchRunner(cfg benchConfig, spec pgbenchSpec) func(context.Context, *benchSystem) (measurement, error) {
	return func(ctx context.Context, sys *benchSystem) (measurement, error) {
		out, err := runTool(ctx, cfg.pgbench, spec.args(sys, cfg.duration, cfg.scale)...)
		if err != nil {
			return measurement{}, err
		}
		r, err := parsePgbench(out)
		if err != nil {
			return measurement{}, fmt.Errorf("%w; its output:\n%s", err, out)
		}
		return measurement{figure: r.TPS, latencyMs: r.LatencyMs, failed: r.Failed}, nil
	}
}

// runWorkload measures w on both systems in alternation, plain then pgfed,
// for rounds rounds. A system whose dataset setup failed, or that fails a
// run, is not run again for w; its error goes in the result. Progress
// lines go to progress.
func runWorkload(ctx context.Context, w workload, systems [2]*benchSystem, rounds int, progress io.Writer) benchResult {
	r := benchResult{ID: w.id, Name: w.name, Unit: w.unit}
	sides := [2]*sideResult{&r.Plain, &r.Pgfed}
	for i, sys := range systems {
		if err := sys.setupErr[w.dataset]; err != nil {
			sides[i].Error = fmt.Sprintf("set up the %s dataset: %v", w.dataset, err)
		}
	}
	var answers [2]string
	once := func(i int, label string) (measurement, bool) {
		if sides[i].Error != "" || ctx.Err() != nil {
			return measurement{}, false
		}
		m, err := w.run(ctx, systems[i])
		if err != nil {
			sides[i].Error = err.Error()
			fmt.Fprintf(progress, "  %-20s %-8s %-6s FAILED\n", w.id, label, systems[i].Name)
			return measurement{}, false
		}
		if answers[i] == "" {
			answers[i] = m.answer
		}
		return m, true
	}
	if w.warmup {
		for i := range systems {
			if m, ok := once(i, "warm-up"); ok {
				fmt.Fprintf(progress, "  %-20s %-8s %-6s %s\n", w.id, "warm-up", systems[i].Name, formatFigure(w.unit, m.figure))
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
			line := formatFigure(w.unit, m.figure)
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
		if err := sameAnswer(answers[0], answers[1]); err != nil {
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
