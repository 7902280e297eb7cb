package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
// runs the gateway, which answers a client (an SSLRequest is declined).
func TestValidatorRunsGateway(t *testing.T) {
	dir := t.TempDir()
	self := keygen(t, filepath.Join(dir, "self.key"))
	gw := freeAddr(t)
	fed := map[string]any{"organization": "bank1", "commit_timeout_ticks": 20, "listen": "127.0.0.1:0",
		"membership": []map[string]any{{"name": "bank1", "validators": []string{self}}},
		"workers":    []map[string]any{{"name": gw, "host": "127.0.0.1", "port": 1, "user": "postgres", "database": "postgres"}}}
	path := writeConfig(t, dir, map[string]any{"network": "test", "key_file": "self.key", "listen": "127.0.0.1:0", "data_dir": "data",
		"quorum_set": map[string]any{"threshold": 1, "validators": []string{self}}, "federation": fed,
		"gateway": map[string]any{"workers": []map[string]any{{"listen": gw, "worker": gw}}, "allowed_tables": []string{"accounts"}, "prepare_wait_ms": 100}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- validatorMain(ctx, []string{"--config", path}, &out, &errb) }()
	var c net.Conn
	var err error
	for c == nil {
		if c, err = net.Dial("tcp", gw); err != nil {
			select {
			case code := <-done:
				t.Fatalf("validator exited %d: %s", code, errb.String())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	_, _ = c.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}) // SSLRequest
	b := make([]byte, 1)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(b); err != nil || b[0] != 'N' {
		t.Fatalf("SSLRequest answered %q, %v; want N", b, err)
	}
	c.Close()
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "gateway running") {
		t.Fatalf("no gateway line: %s", errb.String())
	}
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
