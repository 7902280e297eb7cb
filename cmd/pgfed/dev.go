package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
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
	Role         string `json:"role"` // metadata, worker, coordinator
	Name         string `json:"name"`
	Organization string `json:"organization,omitempty"`
	Host         string `json:"host"`
	Port         int    `json:"port"`
	PID          int    `json:"pid"`
	DataDir      string `json:"data_dir,omitempty"`
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
	workers := fs.Int("workers", 2, "number of worker servers")
	logLevel := fs.String("log-level", "info", "log level: trace, debug, info, warn, error")
	var o coordinatorOptions
	o.register(fs, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *workers < 1 || *workers > 64 {
		fmt.Fprintln(stderr, "pgfed dev: --workers must be between 1 and 64")
		return 2
	}
	log := newLogger(stderr, *logLevel)
	if err := runDev(ctx, devConfig{dir: *dir, port: *port, workers: *workers, coord: o}, stdout, log); err != nil {
		fmt.Fprintln(stderr, "pgfed dev:", err)
		return 1
	}
	return 0
}

type devConfig struct {
	dir     string
	port    int
	workers int
	coord   coordinatorOptions
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

	info := ClusterInfo{Dir: dir, Started: time.Now().UTC()}
	meta, err := root.Server(ctx, pgcluster.ServerSpec{Name: "metadata", Settings: pgcluster.WorkerSettings()})
	if err != nil {
		return fmt.Errorf("metadata database: %w", err)
	}
	info.Processes = append(info.Processes, serverProcess("metadata", meta))
	var workers []*pgcluster.Server
	for i := 1; i <= cfg.workers; i++ {
		w, err := root.Server(ctx, pgcluster.ServerSpec{Name: "worker" + strconv.Itoa(i), Settings: pgcluster.WorkerSettings()})
		if err != nil {
			return fmt.Errorf("worker %d: %w", i, err)
		}
		info.Processes = append(info.Processes, serverProcess("worker", w))
		workers = append(workers, w)
	}
	if err := registerWorkers(ctx, meta.ConnString("postgres"), workers, log); err != nil {
		return err
	}

	o := cfg.coord
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
	info.Processes = append(info.Processes, Process{Role: "coordinator", Name: "coordinator", Host: tcp.IP.String(), Port: tcp.Port, PID: os.Getpid()})
	if err := writeClusterInfo(filepath.Join(dir, clusterFile), info); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pgfed dev: metadata database on 127.0.0.1:%d, %d workers, data in %s\n", meta.Port, cfg.workers, dir)
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

func writeClusterInfo(path string, info ClusterInfo) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
