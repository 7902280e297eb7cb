package pgcluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func queryInt(t *testing.T, s *Server, sql string) int64 {
	t.Helper()
	ctx := testCtx(t)
	conn, err := s.Connect(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func queryString(t *testing.T, s *Server, sql string) string {
	t.Helper()
	ctx := testCtx(t)
	conn, err := s.Connect(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, sql).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func execSQL(t *testing.T, s *Server, sql string) {
	t.Helper()
	ctx := testCtx(t)
	conn, err := s.Connect(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestStartConnectQuery(t *testing.T) {
	servers := StartForTest(t, ServerSpec{Name: "metadata"}, ServerSpec{Name: "worker1", Settings: WorkerSettings()})
	if len(servers) != 2 || servers[0].Name != "metadata" || servers[1].Name != "worker1" {
		t.Fatalf("servers = %v", servers)
	}
	for _, s := range servers {
		if s.Host != "127.0.0.1" || s.Port == 0 || s.PID() == 0 || !s.Running() {
			t.Fatalf("server %s: host %s port %d pid %d", s.Name, s.Host, s.Port, s.PID())
		}
		if got := queryInt(t, s, "SELECT 40 + 2"); got != 42 {
			t.Fatalf("got %d", got)
		}
	}
	if servers[0].Port == servers[1].Port {
		t.Fatalf("same port %d", servers[0].Port)
	}
	for name, want := range WorkerSettings() {
		if got := queryString(t, servers[1], "SHOW "+name); got != want {
			t.Fatalf("worker: SHOW %s = %s, want %s", name, got, want)
		}
	}
	if got := queryInt(t, servers[1], "SELECT current_setting('max_connections')::int"); got != 200 {
		t.Fatalf("worker max_connections = %d", got)
	}
	if got := queryInt(t, servers[0], "SELECT current_setting('max_prepared_transactions')::int"); got != 0 {
		t.Fatalf("metadata max_prepared_transactions = %d", got)
	}
	ctx := testCtx(t)
	conn, err := servers[0].Connect(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var user, enc, fsync string
	if err := conn.QueryRow(ctx, "SELECT current_user, current_setting('server_encoding'), current_setting('fsync')").Scan(&user, &enc, &fsync); err != nil {
		t.Fatal(err)
	}
	if user != "postgres" || enc != "UTF8" || fsync != "off" {
		t.Fatalf("user %s encoding %s fsync %s", user, enc, fsync)
	}
	for name, want := range map[string]string{"full_page_writes": "off", "synchronous_commit": "on", "listen_addresses": "127.0.0.1", "lc_collate": "C.UTF-8"} {
		if got := queryString(t, servers[0], "SHOW "+name); got != want && !(name == "lc_collate" && got == "C") {
			t.Errorf("SHOW %s = %s, want %s", name, got, want)
		}
	}
	if _, err := os.Stat(servers[0].LogPath()); err != nil {
		t.Fatalf("no server log: %v", err)
	}
}

func TestStopStartKeepsPortAndData(t *testing.T) {
	s := StartForTest(t, ServerSpec{Name: "w"})[0]
	ctx := testCtx(t)
	execSQL(t, s, "CREATE TABLE t(x int); INSERT INTO t SELECT generate_series(1, 100)")
	port := s.Port
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Running() || s.PID() != 0 {
		t.Fatal("still running after Stop")
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Port != port {
		t.Fatalf("port changed %d -> %d", port, s.Port)
	}
	if got := queryInt(t, s, "SELECT count(*) FROM t"); got != 100 {
		t.Fatalf("rows = %d", got)
	}
	pid := s.PID()
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if s.PID() == pid || s.PID() == 0 {
		t.Fatalf("Restart: pid %d -> %d", pid, s.PID())
	}
	if got := queryInt(t, s, "SELECT count(*) FROM t"); got != 100 {
		t.Fatalf("rows after restart = %d", got)
	}
}

func TestStopImmediateRecovers(t *testing.T) {
	s := StartForTest(t, ServerSpec{Name: "w", Settings: WorkerSettings()})[0]
	ctx := testCtx(t)
	execSQL(t, s, "CREATE TABLE t(x int)")
	execSQL(t, s, "INSERT INTO t SELECT generate_series(1, 1000)")
	execSQL(t, s, "BEGIN; INSERT INTO t VALUES (-1); PREPARE TRANSACTION 'gid1'")
	if err := s.StopImmediate(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Running() {
		t.Fatal("still running after StopImmediate")
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, s, "SELECT count(*) FROM t"); got != 1000 {
		t.Fatalf("rows after crash = %d", got)
	}
	if got := queryInt(t, s, "SELECT count(*) FROM pg_prepared_xacts WHERE gid = 'gid1'"); got != 1 {
		t.Fatalf("prepared transactions after crash = %d", got)
	}
	execSQL(t, s, "COMMIT PREPARED 'gid1'")
	if got := queryInt(t, s, "SELECT count(*) FROM t"); got != 1001 {
		t.Fatalf("rows after COMMIT PREPARED = %d", got)
	}
}

// TestServerReusesRunning opens a second Root on the folder of a running
// server, as `pgfed dev` does after a crash: it must adopt the postmaster.
func TestServerReusesRunning(t *testing.T) {
	s := StartForTest(t, ServerSpec{Name: "w"})[0]
	ctx := testCtx(t)
	pid := s.PID()

	again, err := s.root.Server(ctx, ServerSpec{Name: "w"})
	if err != nil {
		t.Fatal(err)
	}
	if again != s {
		t.Fatal("same root returned a different *Server")
	}

	r2, err := Open(s.root.Dir(), Options{BinDir: s.root.BinDir(), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	r2.templateBase = s.root.templateBase
	s2, err := r2.Server(ctx, ServerSpec{Name: "w"})
	if err != nil {
		t.Fatal(err)
	}
	if s2.PID() != pid || s2.Port != s.Port {
		t.Fatalf("second root: pid %d port %d, want pid %d port %d", s2.PID(), s2.Port, pid, s.Port)
	}
	if got := queryInt(t, s2, "SELECT 1"); got != 1 {
		t.Fatal(got)
	}
	// A spec asking for another port must not silently get this server.
	if _, err := r2.Server(ctx, ServerSpec{Name: "w", Port: s.Port + 1}); err == nil {
		t.Fatal("no error for a port mismatch")
	}
	// StopAll of the second root reaches it too.
	if err := r2.StopAll(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Running() {
		t.Fatal("running after StopAll")
	}
	// Server starts a stopped one again, on its recorded port.
	s3, err := r2.Server(ctx, ServerSpec{Name: "w"})
	if err != nil {
		t.Fatal(err)
	}
	if s3.Port != s.Port || !s.Running() {
		t.Fatalf("restart via Server: port %d want %d", s3.Port, s.Port)
	}
}

// TestTwoRootsConcurrently creates two roots at once, from two goroutines,
// each with two servers: distinct folders, distinct ports, all reachable.
// Each root lives in t.TempDir(), whose 0700 parents the server user must be
// let through when the test runs as root.
func TestTwoRootsConcurrently(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	ctx := testCtx(t)
	type result struct {
		root    *Root
		servers []*Server
		err     error
	}
	results := make(chan result, 2)
	for i := 0; i < 2; i++ {
		dir := filepath.Join(t.TempDir(), "cluster")
		fast := i == 0
		go func() {
			r, err := Open(dir, Options{Fast: fast})
			if err != nil {
				results <- result{err: err}
				return
			}
			var out []*Server
			for _, name := range []string{"metadata", "worker1"} {
				s, err := r.Server(ctx, ServerSpec{Name: name})
				if err != nil {
					results <- result{root: r, err: err}
					return
				}
				out = append(out, s)
			}
			results <- result{root: r, servers: out}
		}()
	}
	var all []*Server
	for i := 0; i < 2; i++ {
		res := <-results
		if res.root != nil {
			t.Cleanup(func() {
				if err := res.root.StopAll(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		if res.err != nil {
			t.Fatal(res.err)
		}
		all = append(all, res.servers...)
	}
	seen := map[int]bool{}
	for _, s := range all {
		if seen[s.Port] {
			t.Fatalf("port %d used twice", s.Port)
		}
		seen[s.Port] = true
		want := "on"
		if s.root.opts.Fast {
			want = "off"
		}
		if got := queryString(t, s, "SHOW fsync"); got != want {
			t.Fatalf("server %s of root %s: fsync = %s, want %s", s.Name, s.root.Dir(), got, want)
		}
	}
}

func TestFindBinDir(t *testing.T) {
	dir, err := FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range requiredBinaries {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}

	t.Setenv(BinDirEnv, dir)
	if got, err := FindBinDir(); err != nil || got != dir {
		t.Fatalf("with $%s: %q, %v", BinDirEnv, got, err)
	}
	t.Setenv(BinDirEnv, t.TempDir())
	_, err = FindBinDir()
	var be *BinDirError
	if !errors.Is(err, ErrNoPostgres) || !errors.As(err, &be) || len(be.Tried) == 0 {
		t.Fatalf("bad $%s: %v", BinDirEnv, err)
	}
	t.Logf("error reads: %v", err)
}

func TestSortNewestFirst(t *testing.T) {
	dirs := []string{"/usr/lib/postgresql/9.6/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/x/bin", "/usr/lib/postgresql/15/bin"}
	sortNewestFirst(dirs)
	want := []string{"/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/9.6/bin", "/usr/lib/postgresql/x/bin"}
	for i := range want {
		if dirs[i] != want[i] {
			t.Fatalf("got %v", dirs)
		}
	}
}
