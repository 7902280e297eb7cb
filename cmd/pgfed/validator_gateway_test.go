package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/executor/pgcluster"
)

// freeAddr returns a loopback address nobody listens on (for a moment).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestValidatorRunsGateway: with a "gateway" section `pgfed validator`
// runs the gateway in front of the worker federation.workers names: a
// client reaches the worker through it, and cannot finalize a prepared
// transaction.
func TestValidatorRunsGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	srv := pgcluster.StartForTest(t, pgcluster.ServerSpec{Name: "valgw", Settings: pgcluster.WorkerSettings()})[0]
	dir := t.TempDir()
	self := keygen(t, filepath.Join(dir, "self.key"))
	gw := freeAddr(t)
	fed := map[string]any{"organization": "bank1", "commit_timeout_ticks": 20, "listen": "127.0.0.1:0",
		"membership": []map[string]any{{"name": "bank1", "validators": []string{self}}},
		"workers":    []map[string]any{{"name": gw, "host": srv.Host, "port": srv.Port, "user": "postgres", "database": "postgres"}}}
	path := writeConfig(t, dir, map[string]any{"network": "test", "key_file": "self.key", "listen": "127.0.0.1:0", "data_dir": "data",
		"quorum_set": map[string]any{"threshold": 1, "validators": []string{self}}, "federation": fed,
		"gateway": map[string]any{"workers": []map[string]any{{"listen": gw, "worker": gw}}, "allowed_tables": []string{"accounts"}, "prepare_wait_ms": 100}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errb gatewayLogBuffer
	done := make(chan int, 1)
	go func() { done <- validatorMain(ctx, []string{"--config", path}, &out, &errb) }()
	var c *pgx.Conn
	for c == nil {
		var err error
		if c, err = pgx.Connect(ctx, "postgres://postgres@"+gw+"/postgres?sslmode=disable"); err != nil {
			select {
			case code := <-done:
				t.Fatalf("validator exited %d: %s", code, errb.String())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	var port int
	if err := c.QueryRow(ctx, "SELECT current_setting('port')::int").Scan(&port); err != nil || port != srv.Port {
		t.Fatalf("through the gateway: port %d, %v; want the worker's %d", port, err, srv.Port)
	}
	_, err := c.Exec(ctx, "COMMIT PREPARED 'pgfedx_a_1_b'")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42501" || !strings.Contains(pe.Message, "organization bank1") {
		t.Fatalf("COMMIT PREPARED through the gateway: %v; want 42501", err)
	}
	c.Close(ctx)
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "gateway running") || !strings.Contains(errb.String(), "statement refused") {
		t.Fatalf("no gateway lines: %s", errb.String())
	}
}

// gatewayLogBuffer is a bytes.Buffer safe for the validator's logger and the
// test to share.
type gatewayLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *gatewayLogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *gatewayLogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestValidatorGatewayBadConfig(t *testing.T) {
	dir := t.TempDir()
	self := keygen(t, filepath.Join(dir, "self.key"))
	fed := map[string]any{"organization": "bank1", "commit_timeout_ticks": 20, "listen": "127.0.0.1:0",
		"membership": []map[string]any{{"name": "bank1", "validators": []string{self}}},
		"workers":    []map[string]any{{"name": "w1", "host": "127.0.0.1", "port": 1, "user": "postgres", "database": "postgres"}}}
	for name, c := range map[string]struct {
		fed bool
		gw  map[string]any
	}{
		"no federation":  {false, map[string]any{"workers": []map[string]any{{"listen": "127.0.0.1:0", "worker": "w1"}}}},
		"no workers":     {true, map[string]any{"allowed_tables": []string{"t"}}},
		"unknown worker": {true, map[string]any{"workers": []map[string]any{{"listen": "127.0.0.1:0", "worker": "w2"}}}},
		"no listen":      {true, map[string]any{"workers": []map[string]any{{"worker": "w1"}}}},
		"twice": {true, map[string]any{"workers": []map[string]any{{"listen": "127.0.0.1:0", "worker": "w1"},
			{"listen": "127.0.0.1:0", "worker": "w1"}}}},
		"negative wait": {true, map[string]any{"workers": []map[string]any{{"listen": "127.0.0.1:0", "worker": "w1"}}, "prepare_wait_ms": -1}},
		"unknown field": {true, map[string]any{"workers": []map[string]any{{"listen": "127.0.0.1:0", "worker": "w1"}}, "allow": []string{"t"}}},
	} {
		cfg := map[string]any{"network": "test", "key_file": "self.key", "listen": "127.0.0.1:0", "data_dir": "data",
			"quorum_set": map[string]any{"threshold": 1, "validators": []string{self}}, "gateway": c.gw}
		if c.fed {
			cfg["federation"] = fed
		}
		var out, errb bytes.Buffer
		if code := validatorMain(context.Background(), []string{"--config", writeConfig(t, dir, cfg)}, &out, &errb); code != 2 {
			t.Errorf("%s: exit %d, want 2: %s", name, code, errb.String())
		}
	}
}
