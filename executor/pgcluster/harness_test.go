package pgcluster

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// testRoot opens a fresh test root, stopped and removed at cleanup.
func testRoot(t *testing.T) *Root {
	t.Helper()
	r, err := openTestRoot(hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := closeTestRoot(r, false); err != nil {
			t.Error(err)
		}
	})
	return r
}

// TestReapDeadOwner leaves a running server in a root whose owner process
// has exited, as a killed `go test` would, and checks the reaper stops it
// and removes the root, while a root of a live owner is left alone.
func TestReapDeadOwner(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	ctx := testCtx(t)
	dead := testRoot(t)
	live := testRoot(t)

	// A process that has exited: its pid is dead.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	deadPID := cmd.Process.Pid
	if err := os.WriteFile(filepath.Join(dead.Dir(), ownerFile), []byte(strconv.Itoa(deadPID)+" 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	leftover, err := dead.Server(ctx, ServerSpec{Name: "w"})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := live.Server(ctx, ServerSpec{Name: "w"})
	if err != nil {
		t.Fatal(err)
	}
	pid := leftover.PID()

	reapDeadRoots(testBase(), dead.binDir, dead.acct, dead.log)

	if processAlive(pid) && looksLikePostgres(pid) {
		t.Fatalf("postmaster %d of a dead owner still runs", pid)
	}
	if _, err := os.Stat(dead.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("root of a dead owner not removed: %v", err)
	}
	if !kept.Running() {
		t.Fatal("server of a live owner was stopped")
	}
}

// TestPortTakenBeforeBind occupies the port a new server picked, as another
// process could between the pick and the bind: the server must move on to a
// fresh port.
func TestPortTakenBeforeBind(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	ctx := testCtx(t)
	r := testRoot(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port

	s := r.newServer("w")
	if err := r.ensureDataDir(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.settings = nil
	s.Port, s.portAuto = taken, true
	s.mu.Lock()
	err = s.start(ctx)
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	r.publish(s)
	if s.Port == taken || !s.Running() {
		t.Fatalf("port %d (taken %d), running %v", s.Port, taken, s.Running())
	}
	if got := queryInt(t, s, "SELECT 1"); got != 1 {
		t.Fatal(got)
	}

	// An explicit port that is taken is an error carrying the log tail.
	_, err = r.Server(ctx, ServerSpec{Name: "fixed", Port: taken})
	var se *ServerError
	if !errors.As(err, &se) || !strings.Contains(se.LogTail, "could not") {
		t.Fatalf("explicit taken port: %v", err)
	}
}

// TestStartErrorCarriesLog starts a server with a bad setting: the error
// must say what PostgreSQL said.
func TestStartErrorCarriesLog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	ctx := testCtx(t)
	r := testRoot(t)
	_, err := r.Server(ctx, ServerSpec{Name: "bad", Settings: map[string]string{"shared_buffers": "lots"}})
	var se *ServerError
	if !errors.As(err, &se) {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), `invalid value for parameter "shared_buffers"`) {
		t.Fatalf("error lacks the log tail:\n%v", err)
	}
	if len(r.Servers()) != 0 {
		t.Fatal("failed server listed")
	}
	// Fixing the setting makes the same folder start.
	s, err := r.Server(ctx, ServerSpec{Name: "bad", Settings: map[string]string{"shared_buffers": "16MB"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, s, "SELECT setting::int FROM pg_settings WHERE name = 'shared_buffers'"); got != 2048 {
		t.Fatalf("shared_buffers = %d pages", got)
	}
}

func TestContextHonoured(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	r := testRoot(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Server(ctx, ServerSpec{Name: "w"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestSpecValidation(t *testing.T) {
	r := &Root{}
	ctx := context.Background()
	for _, name := range []string{"", ".hidden", "a/b", "..", "x y", strings.Repeat("x", 64)} {
		if _, err := r.Server(ctx, ServerSpec{Name: name}); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	if _, err := r.Server(ctx, ServerSpec{Name: "w", Settings: map[string]string{"port": "5432"}}); err == nil {
		t.Error("port in Settings accepted")
	}
}

func TestRenderConf(t *testing.T) {
	b, err := renderConf(map[string]string{"b": "it's", "a": `C:\x`, "port": "5"})
	if err != nil {
		t.Fatal(err)
	}
	want := "a = 'C:\\\\x'\nb = 'it''s'\nport = '5'\n"
	if !strings.HasSuffix(string(b), want) {
		t.Fatalf("got\n%s", b)
	}
	if _, err := renderConf(map[string]string{"a = 1\nb": "x"}); err == nil {
		t.Fatal("bad name accepted")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, confFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := confPort(dir); got != 5 {
		t.Fatalf("confPort = %d", got)
	}
}

func TestConnString(t *testing.T) {
	s := &Server{Host: "127.0.0.1", Port: 5433}
	if got, want := s.ConnString("db1"), "host=127.0.0.1 port=5433 user=postgres dbname=db1 sslmode=disable"; got != want {
		t.Fatalf("got %q", got)
	}
	if got, want := s.ConnString(""), "host=127.0.0.1 port=5433 user=postgres dbname=postgres sslmode=disable"; got != want {
		t.Fatalf("got %q", got)
	}
	if got, want := s.ConnString("my db's"), `host=127.0.0.1 port=5433 user=postgres dbname='my db\'s' sslmode=disable`; got != want {
		t.Fatalf("got %q", got)
	}
}

func TestStartForMain(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	servers, stop, err := StartForMain(ServerSpec{Name: "metadata"}, ServerSpec{Name: "worker1", Settings: WorkerSettings()})
	if err != nil {
		t.Fatal(err)
	}
	dir := servers[0].root.Dir()
	if got := queryString(t, servers[1], "SHOW max_prepared_transactions"); got != "200" {
		t.Fatalf("max_prepared_transactions = %s", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if servers[0].Running() || servers[1].Running() {
		t.Fatal("running after stop")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("folder not removed: %v", err)
	}
}
