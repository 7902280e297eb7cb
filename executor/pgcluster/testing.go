package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// KeepEnv, when set to a non-empty value, makes StartForTest keep the
// folders of failed tests (the servers are still stopped) for inspection.
const KeepEnv = "PGFED_KEEP_TEST_CLUSTERS"

// ownerFile, in a test root, names the process that owns it: "pid starttime".
const ownerFile = "pgcluster-owner"

// testRootPrefix starts the names of test roots under the test base.
const testRootPrefix = "run-"

// orphanGrace is how old a test root without an owner file must be before
// it is taken for debris rather than a root being set up right now.
const orphanGrace = 10 * time.Minute

var reapOnce sync.Once

// TestTmpDirEnv, when set, names the folder under which StartForTest makes
// its roots, instead of /dev/shm or $TMPDIR.
const TestTmpDirEnv = "PGFED_TEST_TMPDIR"

// tmpfsMagic is the statfs f_type of tmpfs.
const tmpfsMagic = 0x01021994

// minShmFree is the free space /dev/shm needs to hold test servers (each
// takes about 40 MiB).
const minShmFree = 2 << 30

// testBase is the folder holding the test roots and the template cache that
// every Root of this user shares,
// <tmp>/pgfed-pgcluster-<uid> with mode 0755 (so the postgres user can reach
// it when tests run as root). <tmp> is $PGFED_TEST_TMPDIR if set, else
// /dev/shm when it is a tmpfs with room, else $TMPDIR. Test servers run with
// fsync off anyway, and on a disk file creation dominates: copying the
// template (about 1,000 files) takes ~50 ms on tmpfs and ~300 ms on ext4.
func testBase() string {
	tmp := os.Getenv(TestTmpDirEnv)
	if tmp == "" {
		tmp = os.TempDir()
		var st syscall.Statfs_t
		if err := syscall.Statfs("/dev/shm", &st); err == nil && st.Type == tmpfsMagic &&
			uint64(st.Bavail)*uint64(st.Bsize) >= minShmFree && syscall.Access("/dev/shm", 0o2|0o1) == nil {
			tmp = "/dev/shm"
		}
	}
	return filepath.Join(tmp, "pgfed-pgcluster-"+strconv.Itoa(os.Geteuid()))
}

// StartForTest starts PostgreSQL servers for a test, like httptest.NewServer
// does for HTTP: a Root in a fresh folder under <tmp>/pgfed-pgcluster-<uid>
// (<tmp> is $PGFED_TEST_TMPDIR, else /dev/shm if it is a roomy tmpfs, else
// $TMPDIR) with Fast settings, the given servers started in parallel and
// returned in the order of specs, and everything stopped and removed at
// t.Cleanup (a failed test prints each server's log tail; with
// $PGFED_KEEP_TEST_CLUSTERS set its folder is kept).
//
// When PostgreSQL cannot be found or a server cannot start, the test fails
// with t.Fatalf, printing what was tried or the server log tail. Under
// `go test -short` the test is skipped instead: these are integration tests.
//
// Test roots record their owner process. The first call in a process stops
// the servers of roots whose owner is dead (a `go test` killed by a timeout
// or a signal never runs its cleanups) and removes those roots.
func StartForTest(t testing.TB, specs ...ServerSpec) []*Server {
	t.Helper()
	if testing.Short() {
		t.Skip("pgcluster: starts PostgreSQL servers; skipped under -short")
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "test", Level: hclog.Warn, Output: testWriter{t}})
	r, err := openTestRoot(log)
	if err != nil {
		t.Fatalf("pgcluster: cannot run PostgreSQL for this test: %v", err)
	}
	t.Cleanup(func() {
		failed := t.Failed()
		if failed {
			for _, s := range r.Servers() {
				t.Logf("pgcluster: server %s (port %d) log tail:\n%s", s.Name, s.Port, s.LogTail(20))
			}
		}
		if err := closeTestRoot(r, failed); err != nil {
			t.Errorf("pgcluster: %v", err)
		}
	})
	servers, err := startAll(r, specs)
	if err != nil {
		t.Fatalf("pgcluster: cannot start PostgreSQL for this test (bin %s, user %s):\n%v", r.binDir, r.acct.name, err)
	}
	return servers
}

// StartForMain is StartForTest for a TestMain that shares servers among the
// tests of a package: it returns the started servers and a stop function to
// call after m.Run (it stops the servers and removes their folder). It
// returns an error instead of failing a test; the caller decides (print it
// and exit 1). Servers of a TestMain killed before calling stop are reaped
// like those of StartForTest.
func StartForMain(specs ...ServerSpec) (servers []*Server, stop func() error, err error) {
	r, err := openTestRoot(hclog.NewNullLogger())
	if err != nil {
		return nil, nil, err
	}
	stop = func() error { return closeTestRoot(r, false) }
	servers, err = startAll(r, specs)
	if err != nil {
		stopErr := stop()
		return nil, nil, errors.Join(err, stopErr)
	}
	return servers, stop, nil
}

// openTestRoot makes a fresh test root, owned by this process, after
// reaping the roots of dead owners once per process.
func openTestRoot(log hclog.Logger) (*Root, error) {
	binDir, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	base := testBase()
	if err := mkdirReachable(base); err != nil {
		return nil, fmt.Errorf("test folder: %w", err)
	}
	if err := acct.makeTraversable(base, log.Info); err != nil {
		return nil, err
	}
	reapOnce.Do(func() { reapDeadRoots(base, binDir, acct, log.Named("pgcluster")) })

	dir, err := os.MkdirTemp(base, testRootPrefix)
	if err != nil {
		return nil, fmt.Errorf("test folder: %w", err)
	}
	err = os.Chmod(dir, 0o755)
	if err == nil {
		err = writeOwner(dir)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("test folder: %w", err)
	}
	r, err := Open(dir, Options{BinDir: binDir, Logger: log, Fast: true})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return r, nil
}

// closeTestRoot stops a test root's servers at once (their data is about to
// go) and removes the folder, unless failed and $PGFED_KEEP_TEST_CLUSTERS
// asks to keep it.
func closeTestRoot(r *Root, failed bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.stopAll(ctx, "immediate"); err != nil {
		return fmt.Errorf("stop test servers (folder %s kept): %w", r.dir, err)
	}
	if failed && os.Getenv(KeepEnv) != "" {
		r.log.Warn("kept the folder of a failed test", "path", r.dir, "env", KeepEnv)
		return nil
	}
	if err := os.RemoveAll(r.dir); err != nil {
		return fmt.Errorf("remove test folder: %w", err)
	}
	return nil
}

// startAll starts the servers of specs in parallel, returned in order.
func startAll(r *Root, specs []ServerSpec) ([]*Server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	servers := make([]*Server, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, spec := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers[i], errs[i] = r.Server(ctx, spec)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return servers, nil
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// writeOwner records this process as the owner of a test root.
func writeOwner(dir string) error {
	pid := os.Getpid()
	return os.WriteFile(filepath.Join(dir, ownerFile), []byte(fmt.Sprintf("%d %s\n", pid, processStartTime(pid))), 0o644)
}

// ownerAlive reports whether the process recorded in a test root still runs.
// A root without an owner file is alive while young (being set up).
func ownerAlive(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		fi, serr := os.Stat(dir)
		return serr == nil && time.Since(fi.ModTime()) < orphanGrace
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return false
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil || pid <= 0 || !processAlive(pid) {
		return false
	}
	if len(fields) > 1 && fields[1] != "" {
		if st := processStartTime(pid); st != "" && st != fields[1] {
			return false // the pid was reused by another process
		}
	}
	return true
}

// reapDeadRoots stops the servers of test roots under base whose owner
// process is dead, removes those roots, and removes template scratch
// folders of dead processes.
func reapDeadRoots(base, binDir string, acct account, log hclog.Logger) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(base, name)
		switch {
		case e.IsDir() && strings.HasPrefix(name, testRootPrefix):
			if ownerAlive(path) {
				continue
			}
			reapRoot(path, binDir, acct, log)
		case e.IsDir() && strings.HasPrefix(name, ".pgcluster-template-") && strings.Contains(name, ".tmp-"):
			pid, err := strconv.Atoi(name[strings.LastIndex(name, ".tmp-")+len(".tmp-"):])
			if err == nil && !processAlive(pid) {
				os.RemoveAll(path)
			}
		}
	}
}

// reapRoot stops every live postmaster in a dead test root and removes it.
func reapRoot(dir, binDir string, acct account, log hclog.Logger) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		dataDir := filepath.Join(dir, e.Name())
		p, ok := livePostmaster(dataDir)
		if !ok {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := stopDataDir(ctx, binDir, acct, dataDir, "immediate")
		cancel()
		if err != nil {
			log.Warn("could not stop server left by a dead test process", "path", dataDir, "pid", p.pid, "error", err)
			return // keep the folder of a server we could not stop
		}
		log.Info("stopped server left by a dead test process", "path", dataDir, "pid", p.pid)
	}
	if err := os.RemoveAll(dir); err != nil {
		log.Warn("could not remove folder left by a dead test process", "path", dir, "error", err)
	}
}
