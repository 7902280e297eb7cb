package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestStatements: the schema script splits into its six statements.
func TestStatements(t *testing.T) {
	got := statements(schemaSQL)
	if len(got) != 6 {
		t.Fatalf("%d statements: %q", len(got), got)
	}
	for _, s := range got {
		if !strings.HasSuffix(s, ";") || strings.Contains(s, "--") {
			t.Fatalf("statement %q", s)
		}
	}
}

// TestPercentiles: p50 and p99 of 1..100 ms.
func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	l := percentiles(d)
	if l.N != 100 || l.P50 != 51*time.Millisecond || l.P99 != 100*time.Millisecond {
		t.Fatalf("percentiles %+v", l)
	}
	if (percentiles(nil) != latency{}) {
		t.Fatal("percentiles of nothing")
	}
}

// TestPaymentsOnDevCluster runs the example for a few seconds against a
// `pgfed dev --orgs 3` federation (three banks, each with its worker and
// validator: the validators decide the cross-bank transfers) when the
// binary has --orgs; otherwise against a plain `pgfed dev` cluster of
// three workers, each registered as one organization (cross-bank
// transfers then commit by the coordinator's two-phase commit). The books
// must balance and every committed transfer must be at both banks; on a
// federation the banks' ledgers must be identical and hold the cross-bank
// COMMITs.
func TestPaymentsOnDevCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a pgfed dev cluster; skipped under -short")
	}
	bin := filepath.Join(t.TempDir(), "pgfed")
	build := exec.Command("go", "build", "-o", bin, "github.com/pgfed/pgfed/cmd/pgfed")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	help, _ := exec.Command(bin, "dev", "-h").CombinedOutput()
	federated := bytes.Contains(help, []byte("-orgs"))
	port := freePort(t)
	dir := filepath.Join(t.TempDir(), "cluster")
	args := []string{"dev", "--dir", dir, "--port", fmt.Sprint(port)}
	if federated {
		args = append(args, "--orgs", "3")
	} else {
		args = append(args, "--workers", "3")
	}
	t.Logf("pgfed %s", strings.Join(args, " "))
	dev := startDev(t, bin, args)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if !federated {
		registerOrganizations(ctx, t, dsn)
	}
	var out bytes.Buffer
	cfg := config{dsn: dsn, clients: 4, duration: 5 * time.Second, crossBank: 0.5, accounts: 50, balance: 1000, maxAmount: 100}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	rep, err := run(ctx, cfg, &out)
	if err != nil {
		t.Fatalf("payments: %v\n%s\npgfed dev output:\n%s", err, out.String(), dev.output())
	}
	rep.print(&out)
	t.Logf("federated %v:\n%s", federated, out.String())
	if !rep.Consistent || rep.Committed == 0 || rep.CrossCommitted == 0 || rep.Committed == rep.CrossCommitted {
		t.Fatalf("want consistent books and both kinds of transfers committed:\n%s", out.String())
	}
	if rep.FirstError != "" {
		t.Errorf("unexpected error: %s", rep.FirstError)
	}
	// A second run reuses the accounts: the books balance across runs.
	cfg.duration = time.Second
	rep, err = run(ctx, cfg, &out)
	if err != nil || !rep.Consistent || rep.Before.total != 3*50*1000 {
		t.Fatalf("second run: %v, %+v", err, rep)
	}
	if federated {
		checkLedgers(ctx, t, bin, dir, dsn)
	}
}

// checkLedgers: the banks' validators hold identical ledgers with the
// cross-bank transfers' COMMITs, as pgfed_ledger_status, pgfed_ledger and
// `pgfed ledger` tell.
func checkLedgers(ctx context.Context, t *testing.T, bin, dir, dsn string) {
	t.Helper()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var orgs, slots, digests int
	var ok bool
	for i := 0; ; i++ {
		err := c.QueryRow(ctx, `SELECT count(*), count(DISTINCT last_slot), count(DISTINCT digest), bool_and(error IS NULL)
			FROM pgfed_ledger_status()`).Scan(&orgs, &slots, &digests, &ok)
		if err != nil {
			t.Fatal(err)
		}
		if orgs == 3 && slots == 1 && digests == 1 && ok {
			break
		}
		if i == 50 {
			t.Fatalf("pgfed_ledger_status: %d organizations at %d slots with %d digests (all read: %v)", orgs, slots, digests, ok)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var commits, multi int
	if err := c.QueryRow(ctx, `SELECT count(*) FILTER (WHERE decision = 'COMMIT'), count(*) FILTER (WHERE cardinality(participants) > 1)
		FROM pgfed_ledger(1000) WHERE organization = 'org1'`).Scan(&commits, &multi); err != nil {
		t.Fatal(err)
	}
	if commits == 0 || multi == 0 {
		t.Fatalf("org1's ledger lists %d COMMITs, %d decisions of several banks", commits, multi)
	}
	out, err := exec.Command(bin, "ledger", "--federation", filepath.Join(dir, "federation", "coordinator.json"), "--limit", "3").CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("the 3 ledgers are identical")) || !bytes.Contains(out, []byte("COMMIT")) {
		t.Fatalf("pgfed ledger: %v\n%s", err, out)
	}
	t.Logf("pgfed ledger:\n%s", out)
}

// registerOrganizations makes each worker of a plain dev cluster its own
// organization, org1..orgN.
func registerOrganizations(ctx context.Context, t *testing.T, dsn string) {
	t.Helper()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, "SELECT node_name, node_port FROM citus_get_active_worker_nodes() ORDER BY 1, 2")
	if err != nil {
		t.Fatal(err)
	}
	type node struct {
		host string
		port int64
	}
	var nodes []node
	var n node
	if _, err := pgx.ForEachRow(rows, []any{&n.host, &n.port}, func() error {
		nodes = append(nodes, n)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes {
		org := fmt.Sprintf("org%d", i+1)
		for _, q := range []string{
			fmt.Sprintf("SELECT pgfed_add_organization('%s')", org),
			fmt.Sprintf("SELECT pgfed_set_node_organization('%s', %d, '%s')", n.host, n.port, org),
		} {
			if _, err := c.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
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

// devProcess is a `pgfed dev` child process.
type devProcess struct {
	cmd *exec.Cmd
	mu  sync.Mutex
	out bytes.Buffer
}

func (d *devProcess) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.Write(p)
}

func (d *devProcess) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.String()
}

// startDev starts `pgfed args...`, waits for its ready line and stops it
// (SIGINT, then a bounded wait) when the test ends.
func startDev(t *testing.T, bin string, args []string) *devProcess {
	t.Helper()
	d := &devProcess{cmd: exec.Command(bin, args...)}
	d.cmd.Stderr = d
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			fmt.Fprintln(d, sc.Text())
			if strings.Contains(sc.Text(), "ready") {
				once.Do(func() { close(ready) })
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	t.Cleanup(func() {
		_ = d.cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- d.cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			_ = d.cmd.Process.Kill()
			<-done
			t.Errorf("pgfed dev did not stop within 2 minutes of SIGINT")
		}
	})
	select {
	case <-ready:
	case <-time.After(3 * time.Minute):
		t.Fatalf("pgfed dev not ready within 3 minutes:\n%s", d.output())
	}
	if os.Getenv("PAYMENTS_TEST_VERBOSE") != "" {
		t.Log(d.output())
	}
	return d
}
