package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pgfed/pgfed/executor"
	"github.com/pgfed/pgfed/wire"
)

// coordinatorOptions configure the wire-protocol endpoint.
type coordinatorOptions struct {
	listen   string // host:port
	metadata string // connection string of the metadata database
	certFile string // TLS certificate (PEM); "" = no TLS
	keyFile  string
	auth     string        // trust | scram
	password string        // the password of user postgres with scram
	id       string        // coordinator id in 2PC gids
	recovery time.Duration // interval of the recovery of prepared transactions
	// federation is the federation file (coordinatorFederationFile); ""
	// for none.
	federation string
}

func (o *coordinatorOptions) register(fs *flag.FlagSet, defaultListen string) {
	fs.StringVar(&o.listen, "listen", defaultListen, "address to serve PostgreSQL clients on")
	fs.StringVar(&o.auth, "auth", "trust", "client authentication: trust or scram (SCRAM-SHA-256)")
	fs.StringVar(&o.password, "password", "", "password of user postgres, with --auth scram")
	fs.StringVar(&o.id, "coordinator-id", executor.DefaultCoordinatorID, "name of this coordinator in two-phase commit ids (letters, digits, hyphens)")
	fs.DurationVar(&o.recovery, "recovery-interval", executor.DefaultRecoveryInterval, "how often prepared transactions left in doubt are settled")
	fs.StringVar(&o.federation, "federation", "", "federation file (JSON): the validators that decide transactions writing on several workers of organizations")
}

// serverConfig turns the options into the wire server's configuration.
func (o *coordinatorOptions) serverConfig(h wire.Handler, log hclog.Logger) (wire.Config, error) {
	cfg := wire.Config{Handler: h, Logger: log}
	switch strings.ToLower(o.auth) {
	case "trust", "":
		cfg.Auth = wire.AuthTrust
	case "scram", "scram-sha-256":
		if o.password == "" {
			return cfg, errors.New("--auth scram needs --password")
		}
		creds, err := wire.StaticPasswords(map[string]string{"postgres": o.password})
		if err != nil {
			return cfg, err
		}
		cfg.Auth, cfg.Credentials = wire.AuthSCRAM, creds
	default:
		return cfg, fmt.Errorf("unknown --auth %q (want trust or scram)", o.auth)
	}
	if o.certFile != "" {
		cert, err := wire.LoadCertFiles(o.certFile, o.keyFile)
		if err != nil {
			return cfg, err
		}
		cfg.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return cfg, nil
}

// startCoordinator opens the executor's Handler (catalog, worker pools,
// transaction coordinator), listens on o.listen and serves clients until
// ctx ends. It returns once the listener is open; the returned channel
// yields Serve's result when the server and the handler's loops have
// stopped and the handler is closed.
func startCoordinator(ctx context.Context, o coordinatorOptions, log hclog.Logger) (net.Addr, <-chan error, error) {
	fed, err := loadCoordinatorFederation(o.federation)
	if err != nil {
		return nil, nil, fmt.Errorf("--federation: %w", err)
	}
	h, err := executor.NewHandler(ctx, executor.Config{
		Metadata:         o.metadata,
		CoordinatorID:    o.id,
		RecoveryInterval: o.recovery,
		Federation:       fed,
		Logger:           log,
	})
	if err != nil {
		return nil, nil, err
	}
	cfg, err := o.serverConfig(h, log)
	if err != nil {
		h.Close()
		return nil, nil, err
	}
	srv, err := wire.NewServer(cfg)
	if err != nil {
		h.Close()
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		h.Close()
		return nil, nil, fmt.Errorf("listen on %s: %w", o.listen, err)
	}
	runCtx, stopRun := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() {
		err := h.Run(runCtx)
		if err != nil {
			log.Error("the coordinator's background loops stopped", "error", err)
		}
		ran <- err
	}()
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(ctx, ln)
		stopRun()
		if rerr := <-ran; rerr != nil && err == nil {
			err = rerr
		}
		h.Close()
		done <- err
	}()
	return ln.Addr(), done, nil
}

func coordinatorMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pgfed coordinator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o coordinatorOptions
	o.register(fs, "127.0.0.1:6432")
	fs.StringVar(&o.metadata, "metadata", "host=127.0.0.1 port=5432 user=postgres", "connection string of the metadata database")
	fs.StringVar(&o.certFile, "tls-cert", "", "TLS certificate file (PEM); enables TLS")
	fs.StringVar(&o.keyFile, "tls-key", "", "TLS private key file (PEM)")
	logLevel := fs.String("log-level", "info", "log level: trace, debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := newLogger(stderr, *logLevel)
	addr, done, err := startCoordinator(ctx, o, log)
	if err != nil {
		fmt.Fprintln(stderr, "pgfed coordinator:", err)
		return 1
	}
	log.Info("coordinator ready", "addr", addr.String())
	if err := <-done; err != nil {
		fmt.Fprintln(stderr, "pgfed coordinator:", err)
		return 1
	}
	return 0
}

// newLogger is the one root logger of the process.
func newLogger(w io.Writer, level string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "pgfed", Output: w, Level: hclog.LevelFromString(level)})
}
