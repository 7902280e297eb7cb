package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pgfed/pgfed/catalog/store"
	"github.com/pgfed/pgfed/executor/pgcluster"
	"github.com/pgfed/pgfed/wire"
)

// clusterFile is the name of the file, in the dev folder, that describes
// every process a dev cluster runs.
const clusterFile = "cluster.json"

// Process is one entry of cluster.json.
type Process struct {
	Role         string `json:"role"` // metadata, worker, gateway, validator, coordinator
	Name         string `json:"name"`
	Organization string `json:"organization,omitempty"`
	Host         string `json:"host"`
	Port         int    `json:"port"`
	PID          int    `json:"pid"`
	DataDir      string `json:"data_dir,omitempty"`
	// Worker is the address of the worker a gateway fronts.
	Worker string `json:"worker,omitempty"`
	// A validator's addresses (Host:Port is its SCP address), public key,
	// configuration file and log.
	FederationAddr string `json:"federation_addr,omitempty"`
	ClientAddr     string `json:"client_addr,omitempty"`
	Key            string `json:"key,omitempty"`
	Config         string `json:"config,omitempty"`
	Log            string `json:"log,omitempty"`
}

// ClusterInfo is the content of cluster.json.
type ClusterInfo struct {
	Dir       string    `json:"dir"`
	Started   time.Time `json:"started"`
	Processes []Process `json:"processes"`
}

func devMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pgfed dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".pgfed", "folder holding the cluster's data (created on first use, reused after)")
	port := fs.Int("port", 6432, "port of the coordinator on 127.0.0.1")
	workers := fs.Int("workers", 2, "number of worker servers (without --orgs)")
	orgs := fs.Int("orgs", 0, "run a federation of N organizations org1..orgN, each with its own workers and validator process (and gateways, see --gateways); N >= 3 survives a crashed organization, N >= 4 a lying one")
	perOrg := fs.Int("workers-per-org", 1, "workers of each organization, with --orgs")
	gateways := fs.Bool("gateways", devGateways, "with --orgs, put each organization's gateway in front of its workers and register the gateways as the nodes (the coordinator then reaches each worker only through its organization's gateway); false registers the workers themselves")
	logLevel := fs.String("log-level", "info", "log level: trace, debug, info, warn, error")
	var o coordinatorOptions
	o.register(fs, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case *workers < 1 || *workers > 64:
		fmt.Fprintln(stderr, "pgfed dev: --workers must be between 1 and 64")
		return 2
	case *orgs < 0 || *orgs > 64:
		fmt.Fprintln(stderr, "pgfed dev: --orgs must be between 1 and 64")
		return 2
	case *orgs > 0 && set["workers"]:
		fmt.Fprintln(stderr, "pgfed dev: with --orgs, give the workers of each organization with --workers-per-org")
		return 2
	case *orgs > 0 && o.federation != "":
		fmt.Fprintln(stderr, "pgfed dev: --orgs writes the coordinator's federation file itself; drop --federation")
		return 2
	case *orgs == 0 && (set["workers-per-org"] || set["gateways"]):
		fmt.Fprintln(stderr, "pgfed dev: --workers-per-org and --gateways need --orgs")
		return 2
	case *perOrg < 1 || *perOrg > maxWorkersPerOrg:
		fmt.Fprintf(stderr, "pgfed dev: --workers-per-org must be between 1 and %d\n", maxWorkersPerOrg)
		return 2
	}
	log := newLogger(stderr, *logLevel)
	cfg := devConfig{dir: *dir, port: *port, workers: *workers, orgs: *orgs, workersPerOrg: *perOrg, noGateways: !*gateways, logLevel: *logLevel, coord: o}
	if err := runDev(ctx, cfg, stdout, log); err != nil {
		fmt.Fprintln(stderr, "pgfed dev:", err)
		return 1
	}
	return 0
}

// devGateways is the default of `pgfed dev --orgs N --gateways`: each
// organization's gateway stands in front of its workers and the catalog
// knows the workers by their gateways' addresses, the layout of a real
// federation. The gateways let the coordinator's own two-phase commit
// through for schema changes only (executor/gateway, catalog2pc.go), so
// create_distributed_table and DDL on distributed tables work, while rows
// written on several workers are committed by the validators alone.
// --gateways=false registers the workers themselves (the validators still
// finalize the federated transactions).
const devGateways = true

type devConfig struct {
	dir     string
	port    int
	workers int
	// orgs > 0 runs a federation instead of plain workers.
	orgs          int
	workersPerOrg int
	noGateways    bool // the workers without gateways (--gateways=false)
	logLevel      string
	coord         coordinatorOptions
}

// runDev starts (or reuses) the metadata database and the workers, starts
// the coordinator, writes cluster.json, and runs until ctx ends; then it
// stops everything it runs.
func runDev(ctx context.Context, cfg devConfig, stdout io.Writer, log hclog.Logger) (err error) {
	dir, err := filepath.Abs(cfg.dir)
	if err != nil {
		return err
	}
	root, err := pgcluster.Open(dir, pgcluster.Options{Logger: log.Named("pg")})
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if serr := root.StopAll(stopCtx); serr != nil && err == nil {
			err = fmt.Errorf("stopping the servers: %w", serr)
		}
		fmt.Fprintln(stdout, "pgfed dev: stopped")
	}()

	rec := &clusterRecord{path: filepath.Join(dir, clusterFile), info: ClusterInfo{Dir: dir, Started: time.Now().UTC()}}
	meta, err := root.Server(ctx, pgcluster.ServerSpec{Name: "metadata", Settings: pgcluster.WorkerSettings()})
	if err != nil {
		return fmt.Errorf("metadata database: %w", err)
	}
	rec.add(serverProcess("metadata", meta))
	o := cfg.coord
	var fed *devFederation
	if cfg.orgs == 0 {
		var workers []*pgcluster.Server
		for i := 1; i <= cfg.workers; i++ {
			w, err := root.Server(ctx, pgcluster.ServerSpec{Name: "worker" + strconv.Itoa(i), Settings: pgcluster.WorkerSettings()})
			if err != nil {
				return fmt.Errorf("worker %d: %w", i, err)
			}
			rec.add(serverProcess("worker", w))
			workers = append(workers, w)
		}
		if err := registerWorkers(ctx, meta.ConnString("postgres"), workers, log); err != nil {
			return err
		}
	} else {
		fed, err = startFederation(ctx, cfg, root, dir, meta.ConnString("postgres"), rec, log)
		if err != nil {
			return err
		}
		defer fed.stop()
		o.federation = fed.files.CoordinatorConfig
	}

	o.listen = net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.port))
	o.metadata = meta.ConnString("postgres")
	if o.certFile, o.keyFile, err = devCertificate(dir); err != nil {
		return err
	}
	if o.auth == "" || o.auth == "trust" {
		log.Warn("clients on 127.0.0.1 are trusted without a password; use --auth scram --password P to require one")
	}
	coordCtx, stopCoord := context.WithCancel(ctx)
	defer stopCoord()
	addr, done, err := startCoordinator(coordCtx, o, log)
	if err != nil {
		return err
	}
	tcp := addr.(*net.TCPAddr)
	rec.add(Process{Role: "coordinator", Name: "coordinator", Host: tcp.IP.String(), Port: tcp.Port, PID: os.Getpid()})
	if err := rec.write(); err != nil {
		return err
	}
	if fed == nil {
		fmt.Fprintf(stdout, "pgfed dev: metadata database on 127.0.0.1:%d, %d workers, data in %s\n", meta.Port, cfg.workers, dir)
	} else {
		fmt.Fprintf(stdout, "pgfed dev: metadata database on 127.0.0.1:%d, %d organizations, data in %s\n", meta.Port, cfg.orgs, dir)
		fed.print(stdout)
	}
	fmt.Fprintf(stdout, "pgfed dev: connect with\n\n    psql -h 127.0.0.1 -p %d -U postgres\n\n", tcp.Port)
	fmt.Fprintf(stdout, "pgfed dev: ready, coordinator on %s (Ctrl-C stops the cluster)\n", addr)

	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("coordinator: %w", err)
		}
	case <-ctx.Done():
		stopCoord()
		<-done
	}
	return nil
}

// registerWorkers creates the catalog in the metadata database if needed
// and adds the workers as nodes (idempotent: a restarted dev cluster finds
// them there), so that create_distributed_table works at once.
func registerWorkers(ctx context.Context, metadata string, workers []*pgcluster.Server, log hclog.Logger) error {
	st, err := store.Open(ctx, metadata, log.Named("catalog"))
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	defer st.Close()
	if err := st.Init(ctx); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	for _, w := range workers {
		id, err := st.AddNode(ctx, w.Host, w.Port, "")
		if err != nil {
			return fmt.Errorf("register worker %s: %w", w.Name, err)
		}
		log.Debug("worker registered", "worker", w.Name, "node", id)
	}
	return nil
}

func serverProcess(role string, s *pgcluster.Server) Process {
	return Process{Role: role, Name: s.Name, Host: s.Host, Port: s.Port, PID: s.PID(), DataDir: s.DataDir}
}

// devCertificate returns the dev cluster's TLS certificate files, creating a
// self-signed certificate for localhost on first use.
func devCertificate(dir string) (certFile, keyFile string, err error) {
	certFile, keyFile = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	if _, err := os.Stat(certFile); err == nil {
		return certFile, keyFile, nil
	}
	cert, err := wire.SelfSignedCert("localhost", "127.0.0.1", "::1")
	if err != nil {
		return "", "", err
	}
	if err := wire.WriteCertFiles(cert, certFile, keyFile); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// clusterRecord is cluster.json's content, rewritten whenever a process
// changes (a restarted validator has a new pid).
type clusterRecord struct {
	mu   sync.Mutex
	path string
	info ClusterInfo
}

func (r *clusterRecord) add(p ...Process) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.info.Processes = append(r.info.Processes, p...)
}

// setValidatorPID records the new pid of organization org's validator
// (and of its gateways, which run in the same process) and rewrites the
// file.
func (r *clusterRecord) setValidatorPID(org string, pid int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.info.Processes {
		if p := &r.info.Processes[i]; p.Organization == org && (p.Role == "validator" || p.Role == "gateway") {
			p.PID = pid
		}
	}
	return r.writeLocked()
}

func (r *clusterRecord) write() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writeLocked()
}

func (r *clusterRecord) writeLocked() error {
	return writeJSONFile(r.path, r.info, 0o644)
}
