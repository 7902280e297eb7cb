package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
)

// `pgfed federation bench` (make bench-fed): money transfers between two
// accounts through the coordinator, on dev clusters started one after the
// other on this machine — between two banks of a federation of 3 and of 4
// organizations (federated commit: the validators decide), next to the same
// transfer between two workers of one plain cluster (the coordinator's
// two-phase commit). It reports transfers per second and the p50/p99
// latency of COMMIT and of the whole transaction, as a table and as JSON.

// fedBenchOptions are the benchmark's flags.
type fedBenchOptions struct {
	duration time.Duration
	warmup   time.Duration
	clients  int
	accounts int // per bank, or per worker
	orgs     []int
	out      string
	keep     bool
	logLevel string // of the clusters' processes (validator logs: orgs/<org>/validator.log)
}

// fedBenchResult is one scenario's measurement.
type fedBenchResult struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Orgs        int     `json:"orgs,omitempty"`
	Clients     int     `json:"clients"`
	Seconds     float64 `json:"seconds"`
	Transfers   int64   `json:"transfers"`
	Failed      int64   `json:"failed"`
	TPS         float64 `json:"transfers_per_second"`
	CommitP50Ms float64 `json:"commit_p50_ms"`
	CommitP99Ms float64 `json:"commit_p99_ms"`
	TxnP50Ms    float64 `json:"transaction_p50_ms"`
	TxnP99Ms    float64 `json:"transaction_p99_ms"`
	FirstError  string  `json:"first_error,omitempty"`
	Error       string  `json:"error,omitempty"`
	// Dir is the cluster's folder, kept (--keep).
	Dir string `json:"dir,omitempty"`
}

// fedBenchReport is the JSON output.
type fedBenchReport struct {
	Started time.Time        `json:"started"`
	Results []fedBenchResult `json:"results"`
}

func fedBenchMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pgfed federation bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o fedBenchOptions
	orgs := fs.String("orgs", "3,4", "federation sizes to measure (comma-separated)")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "measured time of each scenario")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "unmeasured load before each measurement")
	fs.IntVar(&o.clients, "clients", 8, "concurrent clients")
	fs.IntVar(&o.accounts, "accounts", 200, "accounts per bank (per worker in the two-phase commit scenario)")
	fs.StringVar(&o.out, "out", "bench-fed-results.json", "file to write the JSON report to (\"\" for none)")
	fs.BoolVar(&o.keep, "keep", false, "keep the clusters' folders")
	fs.StringVar(&o.logLevel, "log-level", "warn", "log level of the clusters (with --keep, debug logs the validators' commit timings in orgs/<org>/validator.log)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	for _, s := range strings.Split(*orgs, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 16 {
			fmt.Fprintf(stderr, "pgfed federation bench: --orgs: %q is not a size from 1 to 16\n", s)
			return 2
		}
		o.orgs = append(o.orgs, n)
	}
	if o.clients < 1 || o.duration <= 0 || o.accounts < 2 {
		fmt.Fprintln(stderr, "pgfed federation bench: --clients, --duration and --accounts must be positive (accounts at least 2)")
		return 2
	}
	log := newLogger(stderr, o.logLevel)
	rep := fedBenchReport{Started: time.Now().UTC()}
	scenarios := []struct {
		id, name string
		orgs     int
	}{{"2pc-2workers", "2PC: 2 workers, one organization", 0}}
	for _, n := range o.orgs {
		scenarios = append(scenarios, struct {
			id, name string
			orgs     int
		}{fmt.Sprintf("fed-%dbanks", n), fmt.Sprintf("federated: %d banks", n), n})
	}
	for _, sc := range scenarios {
		fmt.Fprintf(stdout, "bench: %s ...\n", sc.name)
		res := runFedBenchScenario(ctx, o, sc.orgs, log)
		res.ID, res.Name, res.Orgs, res.Clients = sc.id, sc.name, sc.orgs, o.clients
		if res.Error != "" {
			fmt.Fprintf(stdout, "bench: %s: %s\n", sc.name, res.Error)
		}
		rep.Results = append(rep.Results, res)
		if ctx.Err() != nil {
			break
		}
	}
	writeFedBenchTable(stdout, rep.Results)
	b, _ := json.MarshalIndent(rep, "", "  ")
	fmt.Fprintf(stdout, "%s\n", b)
	if o.out != "" {
		if err := os.WriteFile(o.out, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(stderr, "pgfed federation bench:", err)
			return 1
		}
	}
	for _, r := range rep.Results {
		if r.Error != "" {
			return 1
		}
	}
	return 0
}

// runFedBenchScenario starts a dev cluster (orgs organizations, or two
// plain workers for 0), loads the accounts, runs the transfers and stops
// the cluster.
func runFedBenchScenario(ctx context.Context, o fedBenchOptions, orgs int, log hclog.Logger) (res fedBenchResult) {
	dir, err := os.MkdirTemp("", "pgfed-bench-fed-")
	if err != nil {
		res.Error = err.Error()
		return res
	}
	if o.keep {
		res.Dir = dir
	} else {
		defer os.RemoveAll(dir)
	}
	ports, err := freePorts(1)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	var coord coordinatorOptions
	cfs := flag.NewFlagSet("coordinator", flag.ContinueOnError)
	coord.register(cfs, "")
	if err := cfs.Parse(nil); err != nil {
		res.Error = err.Error()
		return res
	}
	cfg := devConfig{dir: dir, port: ports[0], workers: 2, orgs: orgs, workersPerOrg: 1, logLevel: o.logLevel, coord: coord}
	devCtx, stopDev := context.WithCancel(ctx)
	devDone := make(chan error, 1)
	go func() { devDone <- runDev(devCtx, cfg, io.Discard, log) }()
	defer func() {
		stopDev()
		if err := <-devDone; err != nil && res.Error == "" {
			res.Error = "stopping the cluster: " + err.Error()
		}
	}()
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", cfg.port)
	if err := waitCoordinator(ctx, url, devDone); err != nil {
		res.Error = err.Error()
		return res
	}
	pick, err := setupFedBench(ctx, url, dir, orgs, o.accounts)
	if err != nil {
		res.Error = "setup: " + err.Error()
		return res
	}
	runFedBenchLoad(ctx, url, o, pick, &res)
	return res
}

// waitCoordinator waits until the dev cluster's coordinator answers.
func waitCoordinator(ctx context.Context, url string, devDone chan error) error {
	deadline := time.Now().Add(3 * time.Minute)
	for {
		select {
		case err := <-devDone:
			devDone <- err
			return fmt.Errorf("the dev cluster stopped: %v", err)
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		c, err := pgx.Connect(cctx, url)
		cancel()
		if err == nil {
			c.Close(ctx)
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the coordinator does not answer: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// fedBenchLeg is one account of a transfer: the UPDATE's arguments.
type fedBenchLeg struct {
	bank string // "" in the two-phase commit scenario
	id   int
}

// setupFedBench creates and fills the accounts and returns how to pick a
// transfer's two accounts: at two different banks, or on two different
// workers.
func setupFedBench(ctx context.Context, url, dir string, orgs, accounts int) (func(*rand.Rand) [2]fedBenchLeg, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	exec := func(sql string) error {
		_, err := conn.Exec(ctx, sql)
		if err != nil {
			return fmt.Errorf("%s: %w", benchAbbreviate(sql), err)
		}
		return nil
	}
	if orgs > 0 {
		if err := exec(`CREATE TABLE accounts (bank text NOT NULL, id int NOT NULL, balance bigint NOT NULL, PRIMARY KEY (bank, id))`); err != nil {
			return nil, err
		}
		if err := exec(`SELECT create_distributed_table('accounts', 'bank', distribution_type => 'org')`); err != nil {
			return nil, err
		}
		for k := 1; k <= orgs; k++ {
			var values []string
			for i := 1; i <= accounts; i++ {
				values = append(values, fmt.Sprintf("('org%d', %d, 1000)", k, i))
			}
			if err := exec("INSERT INTO accounts VALUES " + strings.Join(values, ", ")); err != nil {
				return nil, err
			}
		}
		return func(rng *rand.Rand) [2]fedBenchLeg {
			a := 1 + rng.IntN(orgs)
			b := 1 + rng.IntN(orgs-1)
			if b >= a {
				b++
			}
			return [2]fedBenchLeg{{"org" + strconv.Itoa(a), 1 + rng.IntN(accounts)}, {"org" + strconv.Itoa(b), 1 + rng.IntN(accounts)}}
		}, nil
	}
	if err := exec(`CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)`); err != nil {
		return nil, err
	}
	if err := exec(`SELECT create_distributed_table('accounts', 'id', shard_count => 2)`); err != nil {
		return nil, err
	}
	var values []string
	for i := 1; i <= 2*accounts; i++ {
		values = append(values, fmt.Sprintf("(%d, 1000)", i))
	}
	if err := exec("INSERT INTO accounts VALUES " + strings.Join(values, ", ")); err != nil {
		return nil, err
	}
	// Which worker holds which account: ask the workers.
	b, err := os.ReadFile(filepath.Join(dir, clusterFile))
	if err != nil {
		return nil, err
	}
	var info ClusterInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, err
	}
	var groups [][]int
	for _, p := range info.Processes {
		if p.Role != "worker" {
			continue
		}
		ids, err := fedBenchWorkerIDs(ctx, p.Port)
		if err != nil {
			return nil, fmt.Errorf("worker %s: %w", p.Name, err)
		}
		if len(ids) > 0 {
			groups = append(groups, ids)
		}
	}
	if len(groups) != 2 {
		return nil, fmt.Errorf("the accounts are on %d workers, want 2", len(groups))
	}
	return func(rng *rand.Rand) [2]fedBenchLeg {
		return [2]fedBenchLeg{{"", groups[0][rng.IntN(len(groups[0]))]}, {"", groups[1][rng.IntN(len(groups[1]))]}}
	}, nil
}

// fedBenchWorkerIDs lists the account ids in the shards of a worker.
func fedBenchWorkerIDs(ctx context.Context, port int) ([]int, error) {
	c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port))
	if err != nil {
		return nil, err
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT tablename FROM pg_tables WHERE tablename ~ '^accounts_[0-9]+$'`)
	if err != nil {
		return nil, err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, t := range tables {
		rows, err := c.Query(ctx, "SELECT id FROM "+pgx.Identifier{t}.Sanitize())
		if err != nil {
			return nil, err
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			return nil, err
		}
		ids = append(ids, got...)
	}
	return ids, nil
}

// runFedBenchLoad runs o.clients clients doing transfers for the warmup,
// then measures for o.duration.
func runFedBenchLoad(ctx context.Context, url string, o fedBenchOptions, pick func(*rand.Rand) [2]fedBenchLeg, res *fedBenchResult) {
	var mu sync.Mutex
	var commits, txns []time.Duration
	var failed int64
	var firstErr string
	start := time.Now()
	measureFrom := start.Add(o.warmup)
	end := measureFrom.Add(o.duration)
	var wg sync.WaitGroup
	for c := range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(c)))
			var conn *pgx.Conn
			defer func() {
				if conn != nil {
					conn.Close(context.Background())
				}
			}()
			for time.Now().Before(end) && ctx.Err() == nil {
				if conn == nil {
					var err error
					if conn, err = pgx.Connect(ctx, url); err != nil {
						time.Sleep(100 * time.Millisecond)
						continue
					}
				}
				legs := pick(rng)
				began := time.Now()
				commitTook, err := fedBenchTransfer(ctx, conn, legs, int64(1+rng.IntN(50)))
				took := time.Since(began)
				measured := began.After(measureFrom) && time.Now().Before(end)
				mu.Lock()
				switch {
				case err != nil && measured:
					failed++
					if firstErr == "" {
						firstErr = err.Error()
					}
				case err == nil && measured:
					commits = append(commits, commitTook)
					txns = append(txns, took)
				}
				mu.Unlock()
				if err != nil {
					conn.Close(context.Background())
					conn = nil
				}
			}
		}()
	}
	wg.Wait()
	res.Seconds = o.duration.Seconds()
	res.Transfers, res.Failed, res.FirstError = int64(len(commits)), failed, firstErr
	res.TPS = float64(len(commits)) / o.duration.Seconds()
	res.CommitP50Ms, res.CommitP99Ms = fedBenchPercentile(commits, 50), fedBenchPercentile(commits, 99)
	res.TxnP50Ms, res.TxnP99Ms = fedBenchPercentile(txns, 50), fedBenchPercentile(txns, 99)
	if len(commits) == 0 && res.Error == "" {
		res.Error = "no transfer committed: " + firstErr
	}
}

// fedBenchTransfer moves amount from the first account to the second in
// one transaction, locking them in a fixed order, and returns how long the
// COMMIT took.
func fedBenchTransfer(ctx context.Context, conn *pgx.Conn, legs [2]fedBenchLeg, amount int64) (time.Duration, error) {
	deltas := [2]int64{-amount, amount}
	order := [2]int{0, 1}
	if legs[1].bank < legs[0].bank || legs[1].bank == legs[0].bank && legs[1].id < legs[0].id {
		order = [2]int{1, 0}
	}
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	tx, err := conn.Begin(tctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.Background())
	for _, i := range order {
		l := legs[i]
		if l.bank != "" {
			_, err = tx.Exec(tctx, "UPDATE accounts SET balance = balance + $1 WHERE bank = $2 AND id = $3", deltas[i], l.bank, l.id)
		} else {
			_, err = tx.Exec(tctx, "UPDATE accounts SET balance = balance + $1 WHERE id = $2", deltas[i], l.id)
		}
		if err != nil {
			return 0, err
		}
	}
	began := time.Now()
	err = tx.Commit(tctx)
	return time.Since(began), err
}

// fedBenchPercentile is the p-th percentile of ds in milliseconds (nearest
// rank), 0 for none.
func fedBenchPercentile(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s))*p/100+0.999999) - 1
	i = max(0, min(i, len(s)-1))
	return float64(s[i]) / float64(time.Millisecond)
}

// writeFedBenchTable prints the results as a table.
func writeFedBenchTable(w io.Writer, results []fedBenchResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\ttransfers/s\tCOMMIT p50 ms\tCOMMIT p99 ms\ttxn p50 ms\ttxn p99 ms\ttransfers\tfailed\t")
	for _, r := range results {
		if r.Error != "" && r.Transfers == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t  %s\n", r.Name, r.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.1f\t%.1f\t%.1f\t%.1f\t%d\t%d\t\n", r.Name, r.TPS, r.CommitP50Ms, r.CommitP99Ms, r.TxnP50Ms, r.TxnP99Ms, r.Transfers, r.Failed)
	}
	tw.Flush()
}
