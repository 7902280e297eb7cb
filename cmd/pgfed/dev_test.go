package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// devCluster is a `pgfed dev` process started by a test.
type devCluster struct {
	t    *testing.T
	dir  string
	port int
	cmd  *exec.Cmd
	out  *lockedBuffer
}

// buildPgfed compiles the pgfed binary once per test binary.
func buildPgfed(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pgfed")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startDev runs `pgfed dev` with extra flags and waits for its ready line.
func startDev(t *testing.T, bin, dir string, extra ...string) *devCluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts PostgreSQL servers; skipped under -short")
	}
	port := freePort(t)
	args := []string{"dev", "--dir", dir, "--port", fmt.Sprint(port)}
	if !slices.Contains(extra, "--orgs") {
		args = append(args, "--workers", "2")
	}
	args = append(args, extra...)
	cmd := exec.Command(bin, args...)
	out := &lockedBuffer{}
	cmd.Stderr = out
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &devCluster{t: t, dir: dir, port: port, cmd: cmd, out: out}
	t.Cleanup(func() { d.stop() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		closed := false
		for sc.Scan() {
			line := sc.Text()
			out.Write([]byte(line + "\n"))
			if !closed && strings.Contains(line, "ready") {
				close(ready)
				closed = true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(3 * time.Minute):
		t.Fatalf("pgfed dev did not print ready within 3 minutes; output:\n%s", out.String())
	}
	return d
}

// stop sends SIGINT and waits for the process to exit.
func (d *devCluster) stop() {
	if d.cmd.ProcessState != nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			d.t.Errorf("pgfed dev exited with %v; output:\n%s", err, d.out.String())
		}
	case <-time.After(2 * time.Minute):
		_ = d.cmd.Process.Kill()
		<-done
		d.t.Errorf("pgfed dev did not stop within 2 minutes of SIGINT; output:\n%s", d.out.String())
	}
}

// psql runs psql against the coordinator and returns its output.
func (d *devCluster) psql(env []string, args ...string) (string, error) {
	base := []string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", fmt.Sprint(d.port), "-U", "postgres", "-d", "postgres"}
	cmd := exec.Command("psql", append(base, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (d *devCluster) mustPsql(args ...string) string {
	d.t.Helper()
	out, err := d.psql(nil, args...)
	if err != nil {
		d.t.Fatalf("psql %q: %v\n%s", args, err, out)
	}
	return out
}

func (d *devCluster) pgbench(args ...string) string {
	d.t.Helper()
	base := []string{"-h", "127.0.0.1", "-p", fmt.Sprint(d.port), "-U", "postgres"}
	cmd := exec.Command("pgbench", append(base, append(args, "postgres")...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		d.t.Fatalf("pgbench %q: %v\n%s", args, err, out)
	}
	return string(out)
}

func readClusterInfo(t *testing.T, dir string) ClusterInfo {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, clusterFile))
	if err != nil {
		t.Fatal(err)
	}
	var info ClusterInfo
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatalf("cluster.json: %v\n%s", err, b)
	}
	return info
}

// processAlive reports whether pid runs and is not a zombie waiting for its
// parent (here often PID 1, which reaps in its own time).
func processAlive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

func TestDevClusterPsqlAndPgbench(t *testing.T) {
	bin := buildPgfed(t)
	dir := filepath.Join(t.TempDir(), "cluster")
	d := startDev(t, bin, dir)

	info := readClusterInfo(t, dir)
	roles := map[string]int{}
	for _, p := range info.Processes {
		roles[p.Role]++
		if !processAlive(p.PID) {
			t.Errorf("cluster.json names %s %s with pid %d, which is not running", p.Role, p.Name, p.PID)
		}
	}
	if roles["metadata"] != 1 || roles["worker"] != 2 || roles["coordinator"] != 1 {
		t.Fatalf("cluster.json roles = %v, want 1 metadata, 2 workers, 1 coordinator", roles)
	}

	// A psql session: DDL, DML, a rolled-back transaction, \copy both ways, \d.
	d.mustPsql("-c", "CREATE TABLE pets (id int PRIMARY KEY, name text)")
	d.mustPsql("-c", "INSERT INTO pets VALUES (1, 'rex'), (2, 'tom')")
	d.mustPsql("-c", "BEGIN", "-c", "INSERT INTO pets VALUES (3, 'gone')", "-c", "ROLLBACK")
	csv := filepath.Join(t.TempDir(), "pets.csv")
	if err := os.WriteFile(csv, []byte("4,ana\n5,bo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.mustPsql("-c", fmt.Sprintf(`\copy pets FROM '%s' WITH (FORMAT csv)`, csv))
	got := d.mustPsql("-At", "-c", "SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM pets")
	if strings.TrimSpace(got) != "1:rex,2:tom,4:ana,5:bo" {
		t.Errorf("pets = %q, want 1:rex,2:tom,4:ana,5:bo", got)
	}
	outCSV := filepath.Join(t.TempDir(), "out.csv")
	d.mustPsql("-c", fmt.Sprintf(`\copy (SELECT * FROM pets ORDER BY id) TO '%s' WITH (FORMAT csv)`, outCSV))
	if b, _ := os.ReadFile(outCSV); string(b) != "1,rex\n2,tom\n4,ana\n5,bo\n" {
		t.Errorf("\\copy to = %q", b)
	}
	desc := d.mustPsql("-c", `\d pets`)
	if !strings.Contains(desc, "pets_pkey") || !strings.Contains(desc, "name") {
		t.Errorf(`\d pets does not describe the table:\n%s`, desc)
	}
	// An error leaves the session usable, and psql reports the SQLSTATE.
	out, err := d.psql(nil, "-v", "VERBOSITY=verbose", "-c", "SELECT * FROM no_such_table")
	if err == nil || !strings.Contains(out, "42P01") {
		t.Errorf("a missing table: err=%v, output %q; want SQLSTATE 42P01", err, out)
	}

	// pgbench through the coordinator, in every query mode: no failures.
	d.pgbench("-i", "-s", "1", "-q")
	failed := regexp.MustCompile(`number of failed transactions: (\d+)`)
	for _, mode := range []string{"simple", "extended", "prepared"} {
		res := d.pgbench("-S", "-M", mode, "-c", "4", "-j", "2", "-T", "3")
		m := failed.FindStringSubmatch(res)
		if m == nil || m[1] != "0" {
			t.Errorf("pgbench -S -M %s: failed transactions not 0:\n%s", mode, res)
		}
		if !strings.Contains(res, "number of transactions actually processed") {
			t.Errorf("pgbench -S -M %s processed nothing:\n%s", mode, res)
		}
	}

	// pgbench's TPC-B-like script with the accounts and history
	// distributed and the branches and tellers as reference tables: every
	// transaction writes several workers (two-phase commit) and every
	// copy of a reference table. No failure, no aborted client (pgbench
	// exits non-zero then), and the money adds up afterwards.
	d.mustPsql("-c", "SELECT create_distributed_table('pgbench_accounts', 'aid')",
		"-c", "SELECT create_distributed_table('pgbench_history', 'aid')",
		"-c", "SELECT create_reference_table('pgbench_branches')",
		"-c", "SELECT create_reference_table('pgbench_tellers')")
	res := d.pgbench("-c", "8", "-j", "2", "-T", "30")
	if m := failed.FindStringSubmatch(res); m == nil || m[1] != "0" {
		t.Errorf("pgbench TPC-B: failed transactions not 0:\n%s", res)
	}
	if m := regexp.MustCompile(`actually processed: (\d+)`).FindStringSubmatch(res); m == nil || m[1] == "0" {
		t.Errorf("pgbench TPC-B processed nothing:\n%s", res)
	} else {
		t.Logf("pgbench TPC-B through pgfed: %s transactions in 30 s", m[1])
	}
	sums := d.mustPsql("-At", "-c", `SELECT (SELECT sum(abalance) FROM pgbench_accounts) || ',' ||
		(SELECT sum(tbalance) FROM pgbench_tellers) || ',' || (SELECT sum(bbalance) FROM pgbench_branches) || ',' ||
		(SELECT sum(delta) FROM pgbench_history) || ',' || (SELECT count(*) FROM pgbench_history)`)
	parts := strings.Split(strings.TrimSpace(sums), ",")
	if len(parts) != 5 || parts[0] != parts[1] || parts[1] != parts[2] || parts[2] != parts[3] || parts[4] == "0" {
		t.Errorf("after TPC-B, accounts, tellers, branches and history must hold the same sum (and history rows): %q\n%s", sums, res)
	}

	// SIGINT stops every process the cluster ran.
	d.stop()
	for _, p := range info.Processes {
		if p.Role != "coordinator" && processAlive(p.PID) {
			t.Errorf("%s %s (pid %d) still runs after pgfed dev stopped; output:\n%s", p.Role, p.Name, p.PID, d.out.String())
		}
	}

	// The same folder is reused: the data is still there.
	d2 := startDev(t, bin, dir)
	got = d2.mustPsql("-At", "-c", "SELECT count(*) FROM pets")
	if strings.TrimSpace(got) != "4" {
		t.Errorf("after a restart, pets has %q rows, want 4", got)
	}
}

func TestDevClusterSCRAMAndTLS(t *testing.T) {
	bin := buildPgfed(t)
	dir := filepath.Join(t.TempDir(), "cluster")
	d := startDev(t, bin, dir, "--auth", "scram", "--password", "s3cret")

	out, err := d.psql([]string{"PGPASSWORD=wrong", "PGSSLMODE=disable"}, "-c", "SELECT 1")
	if err == nil || !strings.Contains(out, "password authentication failed") {
		t.Errorf("wrong password: err=%v output %q; want a password authentication failure", err, out)
	}
	out, err = d.psql([]string{"PGPASSWORD=s3cret", "PGSSLMODE=require"}, "-c", `\conninfo`)
	if err != nil || !strings.Contains(out, "SSL connection") {
		t.Errorf(`\conninfo over sslmode=require: err=%v output %q; want an SSL connection`, err, out)
	}
	out, err = d.psql([]string{"PGPASSWORD=s3cret", "PGSSLMODE=disable"}, "-At", "-c", "SELECT 40 + 2")
	if err != nil || strings.TrimSpace(out) != "42" {
		t.Errorf("right password without TLS: err=%v output %q; want 42", err, out)
	}
}

// lockedBuffer collects a process's output from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
