package executor

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"

	"github.com/pgfed/pgfed/executor/pgcluster"
	"github.com/pgfed/pgfed/wire"
)

// env is a metadata PostgreSQL server with a pgfed coordinator (the real
// wire server and this package's Handler) in front of it.
type env struct {
	pg      *pgcluster.Server
	handler *Handler
	host    string // the coordinator's address
	port    int
}

// newEnv starts PostgreSQL and a coordinator on a loopback port; both stop
// at the end of the test.
func newEnv(t testing.TB) *env {
	t.Helper()
	pg := pgcluster.StartForTest(t, pgcluster.ServerSpec{Name: "metadata"})[0]
	log := testLogger(t)
	h := startHandler(t, Config{
		Metadata: fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", pg.Host, pg.Port),
		Logger:   log,
	})
	host, port := serve(t, h, log)
	return &env{pg: pg, handler: h, host: host, port: port}
}

// startHandler opens a Handler and runs its loops until the end of the
// test.
func startHandler(t testing.TB, cfg Config) *Handler {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := NewHandler(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- h.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-ran; err != nil {
			t.Errorf("handler loops: %v", err)
		}
		h.Close()
	})
	return h
}

// serve runs the wire server with h on a loopback port until the end of
// the test and returns its address.
func serve(t testing.TB, h *Handler, log hclog.Logger) (string, int) {
	t.Helper()
	srv, err := wire.NewServer(wire.Config{Handler: h, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("wire server: %v", err)
		}
	})
	addr := ln.Addr().(*net.TCPAddr)
	return "127.0.0.1", addr.Port
}

// connString is a keyword/value connection string to the coordinator.
func (e *env) connString(extra ...string) string {
	s := fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", e.host, e.port)
	for _, x := range extra {
		s += " " + x
	}
	return s
}

// connect opens a pgx connection through the coordinator.
func (e *env) connect(t testing.TB, extra ...string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, e.connString(extra...))
	if err != nil {
		t.Fatalf("connect through pgfed: %v", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// direct opens a pgx connection straight to the metadata server.
func (e *env) direct(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := e.pg.Connect(ctx, "postgres")
	if err != nil {
		t.Fatalf("connect to postgres: %v", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// testCtx is a context bounding one test step.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestMetadataPassthrough runs every passthrough test against one
// PostgreSQL server and one coordinator, to keep the run short.
func TestMetadataPassthrough(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *env)
	}{
		{"pgx/cache-statement", testPgxCacheStatement},
		{"pgx/simple-protocol", testPgxSimpleProtocol},
		{"pgx/session-state", testPgxSessionState},
		{"pgx/parameter-status", testPgxParameterStatus},
		{"pgx/batch", testPgxBatch},
		{"pgx/copy-from", testPgxCopyFrom},
		{"pgx/copy-to", testPgxCopyTo},
		{"pgx/prepared-reuse", testPgxPreparedReuse},
		{"pgx/redeclare-prepared", testPgxRedeclarePrepared},
		{"pgx/tx-error", testPgxTxError},
		{"pgx/errors", testPgxErrorFields},
		{"pgx/bind-error", testPgxBindError},
		{"pgx/listen-notify", testPgxListenNotify},
		{"pgx/cancel", testPgxCancel},
		{"pgx/backend-terminated", testPgxBackendTerminated},
		{"pgx/backend-terminated-idle", testPgxBackendTerminatedIdle},
		{"pgx/unknown-database", testPgxUnknownDatabase},
		{"raw/extended-copy", testRawExtendedCopy},
		{"pq", testPQ},
		{"psql", testPsql},
		{"session/portal-suspended", testSessionPortalSuspended},
		{"session/context-cancel", testSessionContextCancel},
		{"session/close-statement", testSessionCloseStatement},
		{"session/copy-in", testSessionCopyIn},
		{"session/no-goroutine-leak", testSessionNoLeak},
		{"session/client-gone", testSessionClientGone},
		{"session/notify-idle", testSessionNotifyIdle},
		{"session/backend-hung", testSessionBackendHung},
		{"session/abort", testSessionAbort},
		{"session/deallocate-then-prepare", testSessionDeallocateThenPrepare},
		// Last: it restarts the metadata server.
		{"pgx/server-restart", testPgxServerRestart},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, e) })
	}
}

// testLogger logs warnings and errors to the test log.
func testLogger(t testing.TB) hclog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return hclog.New(&hclog.LoggerOptions{Name: "pgfed", Level: hclog.Warn, Output: w})
}

// testWriter writes to t.Log until the test ends.
type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}
