package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/errgroup"

	"github.com/pgfed/pgfed/executor/pgcluster"
)

// benchWorkers is the number of workers of the benchmarked cluster.
const benchWorkers = 2

// benchSystem is one of the two systems a benchmark compares: the plain
// PostgreSQL baseline, or pgfed's coordinator in front of its cluster.
type benchSystem struct {
	Name string // "plain" or "pgfed"
	Host string
	Port int // where clients connect
	// Direct are the servers holding the system's data, for maintenance
	// done behind the coordinator's back (VACUUM ANALYZE after a load).
	Direct []*pgcluster.Server
	// Distribute is false for plain PostgreSQL, and for pgfed under
	// --no-distribute: then tables stay in the metadata database.
	Distribute bool
	// setupErr is the failure of a dataset's setup, by dataset name; the
	// workloads on that dataset report it instead of running.
	setupErr map[string]error
}

// connString returns a keyword/value connection string to the system as
// the superuser, without TLS (plain PostgreSQL has none either).
func (s *benchSystem) connString() string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable application_name=pgfed-bench", s.Host, s.Port)
}

// benchCluster is every process a benchmark runs: the baseline server and
// pgfed's metadata database, workers and in-process coordinator.
type benchCluster struct {
	root      *pgcluster.Root
	plain     *pgcluster.Server
	meta      *pgcluster.Server
	workers   []*pgcluster.Server
	coordAddr *net.TCPAddr
	stopCoord context.CancelFunc
	coordDone <-chan error
	// registerErr is why the workers could not be entered in the catalog,
	// which dooms distribution; nil when they were.
	registerErr error
}

// startBenchCluster creates the servers under dir and starts them in
// parallel, all with the workers' settings, registers the workers in the
// catalog, and starts a coordinator on a free loopback port. On error,
// whatever was started is stopped.
func startBenchCluster(ctx context.Context, dir string, fast bool, log hclog.Logger) (c *benchCluster, err error) {
	root, err := pgcluster.Open(dir, pgcluster.Options{Logger: log.Named("pg"), Fast: fast})
	if err != nil {
		return nil, err
	}
	c = &benchCluster{root: root}
	defer func() {
		if err != nil {
			err = errors.Join(err, c.stop())
			c = nil
		}
	}()
	names := []string{"plain", "metadata"}
	for i := 1; i <= benchWorkers; i++ {
		names = append(names, "worker"+strconv.Itoa(i))
	}
	servers := make([]*pgcluster.Server, len(names))
	g, gctx := errgroup.WithContext(ctx)
	for i, name := range names {
		g.Go(func() error {
			s, err := root.Server(gctx, pgcluster.ServerSpec{Name: name, Settings: pgcluster.WorkerSettings()})
			if err != nil {
				return fmt.Errorf("start server %s: %w", name, err)
			}
			servers[i] = s
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return c, err
	}
	c.plain, c.meta, c.workers = servers[0], servers[1], servers[2:]
	// Before the coordinator starts: its Handler makes worker pools for
	// the nodes in the catalog when it opens.
	c.registerErr = registerWorkers(ctx, c.meta.ConnString("postgres"), c.workers, log)

	coordCtx, stopCoord := context.WithCancel(ctx)
	o := coordinatorOptions{listen: "127.0.0.1:0", metadata: c.meta.ConnString("postgres"), auth: "trust"}
	addr, done, err := startCoordinator(coordCtx, o, log.Named("coordinator"))
	if err != nil {
		stopCoord()
		return c, fmt.Errorf("start the coordinator: %w", err)
	}
	c.coordAddr, c.stopCoord, c.coordDone = addr.(*net.TCPAddr), stopCoord, done
	return c, nil
}

// systems returns the two systems compared: plain first, then pgfed.
func (c *benchCluster) systems(distribute bool) [2]*benchSystem {
	direct := append([]*pgcluster.Server{c.meta}, c.workers...)
	return [2]*benchSystem{
		{Name: "plain", Host: c.plain.Host, Port: c.plain.Port, Direct: []*pgcluster.Server{c.plain}, setupErr: map[string]error{}},
		{Name: "pgfed", Host: c.coordAddr.IP.String(), Port: c.coordAddr.Port, Direct: direct, Distribute: distribute, setupErr: map[string]error{}},
	}
}

// stop stops the coordinator, then every server of the root. It does not
// depend on the caller's context, which may be the one an interrupt ended.
func (c *benchCluster) stop() error {
	var errs []error
	if c.stopCoord != nil {
		c.stopCoord()
		select {
		case err := <-c.coordDone:
			if err != nil && !errors.Is(err, context.Canceled) {
				errs = append(errs, fmt.Errorf("coordinator: %w", err))
			}
		case <-time.After(30 * time.Second):
			errs = append(errs, errors.New("coordinator: still serving 30s after it was told to stop"))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.root.StopAll(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stop servers: %w", err))
	}
	return errors.Join(errs...)
}
