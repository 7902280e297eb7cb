package dtx

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/executor/failpoint"
)

// Environment of the helper process: the test binary re-executed as a
// coordinator that runs 2PC transactions.
const (
	helperEnv     = "PGFED_DTX_HELPER"  // coordinator id; set = helper mode
	helperPorts   = "PGFED_DTX_PORTS"   // metadata,worker1,worker2
	helperCount   = "PGFED_DTX_COUNT"   // transactions to run (0: no limit)
	helperSeconds = "PGFED_DTX_SECONDS" // stop after this long (0: no limit)
	helperRecover = "PGFED_DTX_RECOVER" // set: also run a recovery loop
	helperTable   = "crash_t"           // table on both workers
	helperCreate  = "CREATE TABLE crash_t (id text PRIMARY KEY)"
	crashTimeout  = 30 * time.Second // bound of one helper run
	ackPrefix     = "COMMITTED "     // printed after Commit returned nil
)

// runHelper is the helper process: it runs transactions inserting the same
// id on both workers, printing "COMMITTED <id>" after each Commit that
// returned nil. It returns the exit status.
func runHelper() int {
	id := os.Getenv(helperEnv)
	ports := strings.Split(os.Getenv(helperPorts), ",")
	if len(ports) != 3 {
		fmt.Fprintln(os.Stderr, "helper: bad", helperPorts)
		return 2
	}
	port := func(i int) int { p, _ := strconv.Atoi(ports[i]); return p }
	nodes := []catalog.Node{
		{ID: 1, Host: "127.0.0.1", Port: port(1), Active: true},
		{ID: 2, Host: "127.0.0.1", Port: port(2), Active: true},
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "helper-" + id, Level: hclog.Warn, Output: os.Stderr})
	coord, err := newCoordinatorFor(port(0), nodes, id, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 2
	}
	count, seconds := envInt(helperCount), envInt(helperSeconds)
	ctx, cancel := context.WithTimeout(context.Background(), crashTimeout)
	defer cancel()
	if os.Getenv(helperRecover) != "" {
		rctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			coord.RunRecovery(rctx, 30*time.Millisecond)
		}()
		defer func() { stop(); wg.Wait() }()
	}
	end := time.Now().Add(time.Duration(seconds) * time.Second)
	out := bufio.NewWriter(os.Stdout)
	for i := 1; count == 0 || i <= count; i++ {
		if seconds > 0 && time.Now().After(end) || ctx.Err() != nil {
			break
		}
		row := fmt.Sprintf("%s-%d", id, i)
		tx := coord.Begin(coord.cfg.Workers.NewSession(), TxnOptions{})
		err := func() error {
			for _, n := range []int32{1, 2} {
				if _, err := tx.Exec(ctx, n, fmt.Sprintf("INSERT INTO %s VALUES ('%s')", helperTable, row)); err != nil {
					return err
				}
				tx.MarkWrite(n)
			}
			return tx.Commit(ctx)
		}()
		if err != nil {
			tx.Rollback(ctx)
			fmt.Fprintln(os.Stderr, "helper: transaction", row, "failed:", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		fmt.Fprintln(out, ackPrefix+row)
		out.Flush()
	}
	return 0
}

// helper is a running helper process.
type helper struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	acked  []string
	done   chan struct{} // closed when stdout is drained
	stderr strings.Builder
}

// startHelper starts the test binary as a helper coordinator.
func (c *cluster) startHelper(t *testing.T, id, failpoints string, count, seconds int, recovery bool) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	rec := ""
	if recovery {
		rec = "1"
	}
	cmd.Env = append(os.Environ(),
		helperRecover+"="+rec,
		helperEnv+"="+id,
		helperPorts+"="+fmt.Sprintf("%d,%d,%d", c.meta.Port, c.workers[0].Port, c.workers[1].Port),
		helperCount+"="+strconv.Itoa(count),
		helperSeconds+"="+strconv.Itoa(seconds),
		failpoint.Env+"="+failpoints,
	)
	h := &helper{cmd: cmd, done: make(chan struct{})}
	cmd.Stderr = &h.stderr
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // owned by the helper: wait ends it (the pipe closes)
		defer close(h.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if row, ok := strings.CutPrefix(sc.Text(), ackPrefix); ok {
				h.mu.Lock()
				h.acked = append(h.acked, row)
				h.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill(); h.wait() })
	return h
}

// wait waits for the helper to exit and returns its exit status.
func (h *helper) wait() int {
	<-h.done
	err := h.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// ackedCount returns how many commits the helper acknowledged so far.
func (h *helper) ackedCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.acked)
}

// checkAtomic fails unless both workers hold the same rows of crash_t and
// every acknowledged row is there; it returns the rows.
func (c *cluster) checkAtomic(t *testing.T, acked []string) []string {
	t.Helper()
	r1 := c.strs(t, c.workers[0], "SELECT id FROM "+helperTable)
	r2 := c.strs(t, c.workers[1], "SELECT id FROM "+helperTable)
	if strings.Join(r1, ",") != strings.Join(r2, ",") {
		t.Fatalf("not all-or-nothing:\nworker 1: %v\nworker 2: %v", r1, r2)
	}
	have := make(map[string]bool, len(r1))
	for _, r := range r1 {
		have[r] = true
	}
	for _, a := range acked {
		if !have[a] {
			t.Fatalf("acknowledged commit %s lost", a)
		}
	}
	return r1
}

// TestCrashAtFailpoint crashes a coordinator process at each step of 2PC
// and checks that recovery makes every transaction all-or-nothing.
func TestCrashAtFailpoint(t *testing.T) {
	c := startCluster(t)
	c.onWorkers(t, helperCreate)
	coord := c.newCoordinator(t, "recoverer", testLogger(t, hclog.Warn))
	cases := []struct {
		point      failpoint.Name
		prepared   int  // prepared transactions left by the crash
		committed  bool // the row survives recovery
		decisionOK bool // a decision row exists after the crash
	}{
		{failpoint.BeforePrepare, 0, false, false},
		{failpoint.AfterPrepare, 2, false, false},
		{failpoint.AfterDecision, 2, true, true},
		{failpoint.MidCommit, 1, true, true},
	}
	for _, tc := range cases {
		t.Run(string(tc.point), func(t *testing.T) {
			c.onWorkers(t, "TRUNCATE "+helperTable)
			id := "fp-" + strings.ReplaceAll(string(tc.point), "2pc-", "")
			h := c.startHelper(t, id, string(tc.point)+"=exit", 3, 0, false)
			if code := h.wait(); code != failpoint.ExitCode {
				t.Fatalf("helper exited with %d, want %d; stderr:\n%s", code, failpoint.ExitCode, h.stderr.String())
			}
			if n := h.ackedCount(); n != 0 {
				t.Fatalf("helper acknowledged %d commits before crashing", n)
			}
			if n := c.preparedCount(t); n != tc.prepared {
				t.Fatalf("%d prepared transactions after the crash, want %d", n, tc.prepared)
			}
			decided := c.int64Of(t, c.meta, "SELECT count(*) FROM pgfed.transaction WHERE gid LIKE 'pgfed\\_"+id+"\\_%'") > 0
			if decided != tc.decisionOK {
				t.Fatalf("decision rows present: %v, want %v", decided, tc.decisionOK)
			}
			res := c.recoverAll(t, coord, 20*time.Second)
			t.Logf("recovery: %+v", res)
			rows := c.checkAtomic(t, nil)
			if got := len(rows) == 1; got != tc.committed {
				t.Fatalf("rows after recovery %v; want committed=%v", rows, tc.committed)
			}
			if n := c.int64Of(t, c.meta, "SELECT count(*) FROM pgfed.transaction"); n != 0 {
				t.Fatalf("%d decision rows left", n)
			}
		})
	}
}

// TestKillCoordinators runs two coordinator processes committing 2PC
// transactions, each with its own recovery loop, while a third loop runs
// in this process, kills one with
// SIGKILL mid-run, and checks that every transaction is all-or-nothing and
// every acknowledged commit survived: recovery never rolled back a
// transaction whose coordinator was still deciding.
func TestKillCoordinators(t *testing.T) {
	c := startCluster(t)
	c.onWorkers(t, helperCreate)
	coord := c.newCoordinator(t, "recoverer", testLogger(t, hclog.Warn))

	ctx, cancel := context.WithCancel(testCtx(t, time.Minute))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		coord.RunRecovery(ctx, 20*time.Millisecond)
	}()
	defer func() { cancel(); wg.Wait() }()

	victim := c.startHelper(t, "k9", "", 0, 20, true)
	survivor := c.startHelper(t, "k8", "", 0, 4, true)
	deadline := time.Now().Add(15 * time.Second)
	for victim.ackedCount() < 300 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := victim.wait(); code != -1 {
		t.Fatalf("killed helper exited with %d; stderr:\n%s", code, victim.stderr.String())
	}
	if code := survivor.wait(); code != 0 {
		t.Fatalf("survivor exited with %d; stderr:\n%s", code, survivor.stderr.String())
	}
	cancel()
	wg.Wait()
	c.recoverAll(t, coord, 20*time.Second)
	acked := append(append([]string(nil), victim.acked...), survivor.acked...)
	rows := c.checkAtomic(t, acked)
	t.Logf("acknowledged %d (killed %d, survivor %d), present %d", len(acked), len(victim.acked), len(survivor.acked), len(rows))
	if len(survivor.acked) == 0 || len(victim.acked) < 30 {
		t.Fatalf("too few commits to mean anything: %d, %d; stderr:\n%s", len(victim.acked), len(survivor.acked), survivor.stderr.String())
	}
	if n := c.int64Of(t, c.meta, "SELECT count(*) FROM pgfed.transaction"); n != 0 {
		t.Fatalf("%d decision rows left", n)
	}
}
