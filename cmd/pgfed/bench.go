package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"time"

	"github.com/pgfed/pgfed/executor/pgcluster"
)

// benchSettings are the flags of a run, as recorded in the JSON report.
type benchSettings struct {
	Duration     string `json:"duration"`
	Rounds       int    `json:"rounds"`
	Scale        int    `json:"scale"`
	CopyRows     int64  `json:"copy_rows"`
	AnalyticRows int64  `json:"analytic_rows"`
	Accounts     int64  `json:"accounts"`
	Quick        bool   `json:"quick"`
	Fast         bool   `json:"fast"`
	Only         string `json:"only,omitempty"`
}

// benchDefaults are the flag defaults of a full run, and of --quick (a
// smoke run of under a minute). A flag given explicitly wins over both.
var benchDefaults = map[bool]struct {
	duration               time.Duration
	rounds, scale          int
	copyRows, analyticRows int64
}{
	false: {duration: 4 * time.Second, rounds: 3, scale: 10, copyRows: 2000000, analyticRows: 4000000},
	true:  {duration: time.Second, rounds: 1, scale: 1, copyRows: 100000, analyticRows: 200000},
}

// benchMain is `pgfed bench`: it starts one plain PostgreSQL and a pgfed
// cluster (metadata database, 2 workers, coordinator) under a temporary
// folder, loads the same data in both, measures each workload on both in
// alternation, prints a table of medians, ratios and the targets,
// writes the results as JSON, and stops everything it started. A workload
// that fails is reported as FAILED with its error; the others still run.
// Exit status: 0 when every workload was measured (targets met or not), 1
// when some failed, 2 for bad flags, 130 when interrupted.
func benchMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pgfed bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "smoke run of under a minute: 1 s runs, 1 round, scale 1, small tables (explicit flags still win)")
	duration := fs.Duration("duration", benchDefaults[false].duration, "length of each pgbench run (pgbench -T, whole seconds)")
	rounds := fs.Int("rounds", benchDefaults[false].rounds, "rounds of alternation plain/pgfed per workload; the median is reported")
	scale := fs.Int("scale", benchDefaults[false].scale, "pgbench scale factor (100000 accounts each)")
	copyRows := fs.Int64("copy-rows", benchDefaults[false].copyRows, "rows of the COPY workload")
	analyticRows := fs.Int64("analytic-rows", benchDefaults[false].analyticRows, "rows of the analytic table")
	accounts := fs.Int64("accounts", 0, "distinct accounts in the analytic table (0: a quarter of --analytic-rows)")
	jsonPath := fs.String("json", "bench-results.json", "where to write the results as JSON (\"\" for nowhere)")
	dir := fs.String("dir", "", "folder under which to make the temporary folder (default: the system's temporary folder)")
	keep := fs.Bool("keep", false, "keep the temporary folder (servers' data and logs) after the run")
	only := fs.String("only", "", "run only the workloads whose id matches this regular expression (ids: select-simple-c1 ... tpcb transfer copy agg-kind agg-account-top10 count-distinct)")
	noDistribute := fs.Bool("no-distribute", false, "leave pgfed's tables in the metadata database (pass-through), to measure the coordinator alone")
	fast := fs.Bool("fast", false, "run every server with fsync=off and full_page_writes=off (both systems alike)")
	logLevel := fs.String("log-level", "error", "log level of the in-process coordinator and servers (to stderr)")
	cpuProfile := fs.String("cpuprofile", "", "write a pprof CPU profile of the workloads (the coordinator runs in this process) to this file")
	memProfile := fs.String("memprofile", "", "write a pprof allocation profile of this process (coordinator included) to this file at the end")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pgfed bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	d := benchDefaults[*quick]
	if !set["duration"] {
		*duration = d.duration
	}
	if !set["rounds"] {
		*rounds = d.rounds
	}
	if !set["scale"] {
		*scale = d.scale
	}
	if !set["copy-rows"] {
		*copyRows = d.copyRows
	}
	if !set["analytic-rows"] {
		*analyticRows = d.analyticRows
	}
	if *accounts == 0 {
		*accounts = max(*analyticRows/4, 1)
	}
	cfg := benchConfig{duration: *duration, rounds: *rounds, scale: *scale, copyRows: *copyRows,
		analyticRows: *analyticRows, accounts: *accounts}
	if err := cfg.validate(); err != nil {
		fmt.Fprintln(stderr, "pgfed bench:", err)
		return 2
	}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fmt.Fprintf(stderr, "pgfed bench: --only: %v\n", err)
			return 2
		}
		cfg.only = re
	}
	settings := benchSettings{Duration: cfg.duration.String(), Rounds: cfg.rounds, Scale: cfg.scale,
		CopyRows: cfg.copyRows, AnalyticRows: cfg.analyticRows, Accounts: cfg.accounts,
		Quick: *quick, Fast: *fast, Only: *only}

	rep, err := runBench(ctx, cfg, benchRunOptions{dir: *dir, keep: *keep, fast: *fast, distribute: !*noDistribute,
		logLevel: *logLevel, profiler: &benchProfiler{cpuPath: *cpuProfile, memPath: *memProfile}}, stdout, stderr)
	rep.Settings = settings
	if err != nil {
		fmt.Fprintln(stderr, "pgfed bench:", err)
	}
	if len(rep.Results) > 0 {
		fmt.Fprintln(stdout)
		if !rep.Distributed {
			fmt.Fprintln(stdout, "--no-distribute: pgfed's tables stayed in the metadata database; pgfed's figures measure the")
			fmt.Fprintln(stdout, "coordinator as a pass-through, and the issue's targets (about distributed tables) do not apply.")
			fmt.Fprintln(stdout)
		}
		if werr := benchWriteTable(stdout, rep.Results); werr != nil {
			fmt.Fprintln(stderr, "pgfed bench:", werr)
		}
		if ctx.Err() != nil {
			fmt.Fprintln(stdout, "\ninterrupted: results not written")
		} else if *jsonPath != "" {
			if werr := benchWriteJSON(*jsonPath, rep); werr != nil {
				fmt.Fprintln(stderr, "pgfed bench:", werr)
			} else {
				fmt.Fprintf(stdout, "\nresults written to %s\n", *jsonPath)
			}
		}
	}
	sum := benchSummary(rep.Results)
	fmt.Fprintf(stdout, "pgfed bench: %d workloads: %d met, %d missed, %d without target, %d FAILED (%s)\n",
		len(rep.Results), sum[benchMet], sum[benchMissed], sum[benchNoTarget], sum[benchFailed],
		rep.Finished.Sub(rep.Started).Round(time.Second))
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "pgfed bench: interrupted")
		return 130
	case err != nil || sum[benchFailed] > 0:
		return 1
	}
	return 0
}

func (cfg benchConfig) validate() error {
	switch {
	case cfg.duration < time.Second:
		return errors.New("--duration must be at least 1s")
	case cfg.rounds < 1:
		return errors.New("--rounds must be at least 1")
	case cfg.scale < 1:
		return errors.New("--scale must be at least 1")
	case cfg.copyRows < 1 || cfg.analyticRows < 1:
		return errors.New("--copy-rows and --analytic-rows must be at least 1")
	case cfg.accounts < 1:
		return errors.New("--accounts must be at least 1")
	}
	return nil
}

// benchRunOptions are the flags about the machinery rather than the
// measurements.
type benchRunOptions struct {
	dir        string
	keep       bool
	fast       bool
	distribute bool
	logLevel   string
	profiler   *benchProfiler
}

// runBench runs the benchmark: it makes the temporary folder and the input
// files, starts the cluster, sets up the datasets, runs the workloads, and
// stops and removes everything. The report holds every workload run, also
// when err (a failure of the machinery, not of a workload) is not nil.
func runBench(ctx context.Context, cfg benchConfig, o benchRunOptions, stdout, stderr io.Writer) (rep benchReport, err error) {
	rep = benchReport{Started: time.Now().UTC(), Distributed: o.distribute}
	defer func() { rep.Finished = time.Now().UTC() }()
	if cfg.pgbench, cfg.psql, err = benchFindTools(); err != nil {
		return rep, err
	}
	tmp, err := os.MkdirTemp(o.dir, "pgfed-bench-")
	if err != nil {
		return rep, fmt.Errorf("temporary folder: %w", err)
	}
	defer func() {
		if o.keep {
			fmt.Fprintf(stdout, "pgfed bench: kept %s\n", tmp)
		} else if rerr := os.RemoveAll(tmp); rerr != nil {
			fmt.Fprintf(stderr, "pgfed bench: remove %s: %v\n", tmp, rerr)
		}
	}()

	ws := benchWorkloads(cfg)
	if len(ws) == 0 {
		return rep, errors.New("--only matches no workload")
	}
	needed := map[string]bool{}
	for _, w := range ws {
		needed[w.dataset] = true
	}
	if err := benchWriteInputs(&cfg, tmp, needed); err != nil {
		return rep, err
	}
	ws = benchWorkloads(cfg) // now with the input files' paths

	log := newLogger(stderr, o.logLevel)
	began := time.Now()
	c, err := startBenchCluster(ctx, filepath.Join(tmp, "servers"), o.fast, log)
	if err != nil {
		return rep, err
	}
	defer func() {
		if serr := c.stop(); serr != nil {
			err = errors.Join(err, serr)
			return
		}
		fmt.Fprintln(stdout, "pgfed bench: every server stopped")
	}()
	fmt.Fprintf(stdout, "pgfed bench: plain PostgreSQL on port %d; pgfed coordinator on %s (metadata port %d, workers %d and %d); started in %s\n",
		c.plain.Port, c.coordAddr, c.meta.Port, c.workers[0].Port, c.workers[1].Port, time.Since(began).Round(time.Millisecond))
	rep.Environment = benchEnvironment(ctx, c)

	systems := c.systems(o.distribute)
	if o.distribute && c.registerErr != nil {
		for ds := range needed {
			systems[1].setupErr[ds] = c.registerErr
		}
	}
	benchSetupDatasets(ctx, cfg, systems, needed, stdout)

	fmt.Fprintf(stdout, "pgfed bench: %d workloads, %d rounds each, plain and pgfed in alternation; pgbench -T %s, scale %d, COPY %d rows, analytic table %d rows over %d accounts\n",
		len(ws), cfg.rounds, cfg.duration, cfg.scale, cfg.copyRows, cfg.analyticRows, cfg.accounts)
	if o.profiler != nil {
		if err := o.profiler.start(); err != nil {
			return rep, err
		}
	}
	for _, w := range ws {
		if ctx.Err() != nil {
			break
		}
		rep.Results = append(rep.Results, benchRunWorkload(ctx, w, systems, cfg.rounds, stdout))
	}
	if o.profiler != nil {
		if err := o.profiler.stop(); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// benchFindTools finds pgbench and psql: next to the servers' programs
// (the folder pgcluster runs initdb from, where Debian keeps them too), else
// on $PATH.
func benchFindTools() (pgbench, psql string, err error) {
	binDir, _ := pgcluster.FindBinDir()
	find := func(name string) (string, error) {
		if binDir != "" {
			p := filepath.Join(binDir, name)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return p, nil
			}
		}
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
		return "", fmt.Errorf("%s not found in %q nor on $PATH (install postgresql-client: make deps)", name, binDir)
	}
	if pgbench, err = find("pgbench"); err != nil {
		return "", "", err
	}
	if psql, err = find("psql"); err != nil {
		return "", "", err
	}
	return pgbench, psql, nil
}

// benchWriteInputs writes the transfer script and the CSV files the needed
// datasets use into folder dir, and records their paths in cfg.
func benchWriteInputs(cfg *benchConfig, dir string, needed map[string]bool) error {
	cfg.scriptPath = filepath.Join(dir, "transfer.sql")
	if err := os.WriteFile(cfg.scriptPath, []byte(benchTransferScript), 0o644); err != nil {
		return fmt.Errorf("write the transfer script: %w", err)
	}
	if needed[benchDataCopy] {
		cfg.copyCSVPath = filepath.Join(dir, "copy.csv")
		if err := benchWriteFactsCSV(cfg.copyCSVPath, cfg.copyRows, max(cfg.copyRows/4, 1)); err != nil {
			return err
		}
	}
	if needed[benchDataAnalytic] {
		cfg.analyticCSVPath = filepath.Join(dir, "facts.csv")
		if err := benchWriteFactsCSV(cfg.analyticCSVPath, cfg.analyticRows, cfg.accounts); err != nil {
			return err
		}
	}
	return nil
}

// benchSetupDatasets sets up each needed dataset on each system, plain first,
// recording failures in the systems' setupErr.
func benchSetupDatasets(ctx context.Context, cfg benchConfig, systems [2]*benchSystem, needed map[string]bool, stdout io.Writer) {
	for _, ds := range []string{benchDataPgbench, benchDataCopy, benchDataAnalytic} {
		if !needed[ds] {
			continue
		}
		for _, sys := range systems {
			if sys.setupErr[ds] != nil || ctx.Err() != nil {
				continue
			}
			began := time.Now()
			dsCtx, cancel := context.WithTimeout(ctx, benchLoadLimit)
			var err error
			switch ds {
			case benchDataPgbench:
				err = benchSetupPgbench(dsCtx, sys, cfg.pgbench, cfg.scale)
			case benchDataCopy:
				err = benchSetupFacts(dsCtx, sys, cfg.psql, "bench_copy", "", 0)
			case benchDataAnalytic:
				err = benchSetupFacts(dsCtx, sys, cfg.psql, benchFactsTable, cfg.analyticCSVPath, cfg.analyticRows)
			}
			cancel()
			if err != nil {
				sys.setupErr[ds] = err
				fmt.Fprintf(stdout, "pgfed bench: set up %s on %s: FAILED: %s\n", ds, sys.Name, benchIndent(err.Error(), "    "))
				continue
			}
			fmt.Fprintf(stdout, "pgfed bench: set up %s on %s in %s\n", ds, sys.Name, time.Since(began).Round(time.Millisecond))
		}
	}
}

// benchEnvironment describes the machine and the versions measured.
func benchEnvironment(ctx context.Context, c *benchCluster) map[string]string {
	env := map[string]string{
		"go":      runtime.Version(),
		"cpus":    fmt.Sprint(runtime.NumCPU()),
		"workers": fmt.Sprint(len(c.workers)),
		"pgfed":   version,
	}
	if conn, err := c.plain.Connect(ctx, "postgres"); err == nil {
		var v string
		if conn.QueryRow(ctx, "SHOW server_version").Scan(&v) == nil {
			env["postgresql"] = v
		}
		conn.Close(context.Background())
	}
	return env
}
