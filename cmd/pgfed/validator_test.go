package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
)

func keygen(t *testing.T, path string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := validatorMain(context.Background(), []string{"keygen", "--out", path}, &out, &errb); code != 0 {
		t.Fatalf("keygen: %d %s", code, errb.String())
	}
	var hexKey, strkey string
	for _, line := range strings.Split(out.String(), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "public" {
			hexKey = f[2]
		}
		if len(f) == 2 && f[0] == "strkey:" {
			strkey = f[1]
		}
	}
	id, err := quorum.ParseNodeID(strkey)
	if err != nil || len(hexKey) != 64 {
		t.Fatalf("keygen output %q: %v", out.String(), err)
	}
	k, err := transport.ReadKeyFile(path)
	if err != nil || transport.NodeID(k) != id {
		t.Fatalf("key file does not match the printed key: %v", err)
	}
	return strkey
}

func TestValidatorKeygen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.key")
	keygen(t, path)
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st.Mode(), err)
	}
	var out, errb bytes.Buffer
	if code := validatorMain(context.Background(), []string{"keygen", "--out", path}, &out, &errb); code == 0 {
		t.Fatal("keygen overwrote an existing key")
	}
}

func writeConfig(t *testing.T, dir string, cfg map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(cfg)
	path := filepath.Join(dir, "validator.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestValidatorRefusesSplitNetwork(t *testing.T) {
	dir := t.TempDir()
	self := keygen(t, filepath.Join(dir, "self.key"))
	var others []string
	for _, n := range []string{"a", "b", "c"} {
		others = append(others, keygen(t, filepath.Join(dir, n+".key")))
	}
	all := append([]string{self}, others...)
	var peers []map[string]any
	for i, k := range others {
		peers = append(peers, map[string]any{"key": k, "addr": "127.0.0.1:1" + string(rune('0'+i))})
	}
	cfg := map[string]any{"network": "test", "key_file": "self.key", "listen": "127.0.0.1:0", "data_dir": "data",
		"quorum_set": map[string]any{"threshold": 2, "validators": all}, "peers": peers}
	path := writeConfig(t, dir, cfg)
	var out, errb bytes.Buffer
	code := validatorMain(context.Background(), []string{"--config", path}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "disjoint quorums") {
		t.Fatalf("2 of 4: exit %d, %s", code, errb.String())
	}
	// --force starts it anyway (and it stops with the context).
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	errb.Reset()
	if code := validatorMain(ctx, []string{"--config", path, "--force", "--log-level", "error"}, &out, &errb); code != 0 {
		t.Fatalf("--force: exit %d, %s", code, errb.String())
	}
}

func TestValidatorRunsAlone(t *testing.T) {
	dir := t.TempDir()
	self := keygen(t, filepath.Join(dir, "self.key"))
	path := writeConfig(t, dir, map[string]any{"network": "test", "key_file": "self.key", "listen": "127.0.0.1:0", "data_dir": "data",
		"quorum_set": map[string]any{"threshold": 1, "validators": []string{self}}})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var out, errb bytes.Buffer
	if code := validatorMain(ctx, []string{"--config", path}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "validator ready") {
		t.Fatalf("no ready line: %s", errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "ledger.log")); err != nil {
		t.Fatalf("data folder not created relative to the config: %v", err)
	}
}

func TestValidatorBadConfig(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	path := writeConfig(t, dir, map[string]any{"network": "test", "unknown_field": 1})
	if code := validatorMain(context.Background(), []string{"--config", path}, &out, &errb); code != 2 {
		t.Fatalf("unknown field: exit %d", code)
	}
	if code := validatorMain(context.Background(), nil, &out, &errb); code != 2 {
		t.Fatalf("no --config: exit %d", code)
	}
}

func TestValidatorFederationRunsAlone(t *testing.T) {
	dir := t.TempDir()
	self := keygen(t, filepath.Join(dir, "self.key"))
	fed := map[string]any{"organization": "bank1", "commit_timeout_ticks": 20, "listen": "127.0.0.1:0", "client_listen": "127.0.0.1:0",
		"membership": []map[string]any{{"name": "bank1", "validators": []string{self}}}}
	path := writeConfig(t, dir, map[string]any{"network": "test", "key_file": "self.key", "listen": "127.0.0.1:0", "data_dir": "data",
		"quorum_set": map[string]any{"threshold": 1, "validators": []string{self}}, "federation": fed})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var out, errb bytes.Buffer
	if code := validatorMain(ctx, []string{"--config", path}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "federated commit running") || !strings.Contains(errb.String(), "org=bank1") {
		t.Fatalf("no federation line: %s", errb.String())
	}
}

func TestValidatorFederationBadConfig(t *testing.T) {
	dir := t.TempDir()
	self := keygen(t, filepath.Join(dir, "self.key"))
	other := keygen(t, filepath.Join(dir, "other.key"))
	base := func(fed map[string]any) string {
		return writeConfig(t, dir, map[string]any{"network": "test", "key_file": "self.key", "listen": "127.0.0.1:0", "data_dir": "data",
			"quorum_set": map[string]any{"threshold": 1, "validators": []string{self}}, "federation": fed})
	}
	members := []map[string]any{{"name": "bank1", "validators": []string{self}}, {"name": "bank2", "validators": []string{other}}}
	for name, fed := range map[string]map[string]any{
		"other organization": {"organization": "bank2", "commit_timeout_ticks": 20, "listen": "127.0.0.1:0", "membership": members},
		"no timeout":         {"organization": "bank1", "listen": "127.0.0.1:0", "membership": members},
		"no membership":      {"organization": "bank1", "commit_timeout_ticks": 20, "listen": "127.0.0.1:0"},
		"bad worker": {"organization": "bank1", "commit_timeout_ticks": 20, "listen": "127.0.0.1:0", "membership": members,
			"workers": []map[string]any{{"name": "w1", "host": "127.0.0.1"}}},
	} {
		var out, errb bytes.Buffer
		if code := validatorMain(context.Background(), []string{"--config", base(fed)}, &out, &errb); code != 2 {
			t.Errorf("%s: exit %d, want 2: %s", name, code, errb.String())
		}
	}
}
