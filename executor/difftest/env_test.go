package difftest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"

	"github.com/pgfed/pgfed/catalog/store"
	"github.com/pgfed/pgfed/executor"
	"github.com/pgfed/pgfed/executor/pgcluster"
	"github.com/pgfed/pgfed/wire"
)

// dataSeed is the seed of the generated rows (both sides get the same).
const dataSeed = 20260101

// testdataDir is testdata/difftest at the module's root.
func testdataDir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "difftest")
}

// serverSettings are the settings of every server: the workers' settings,
// and UTC so that timestamptz values print alike on every server.
func serverSettings() map[string]string {
	s := pgcluster.WorkerSettings()
	s["timezone"] = "UTC"
	s["datestyle"] = "ISO, MDY"
	s["lc_messages"] = "C"
	return s
}

// readFile reads a file of testdata/difftest.
func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir(t), name))
	if err != nil {
		t.Fatalf("difftest: %v", err)
	}
	return string(b)
}

// connect opens a connection with a connection string.
func connect(ctx context.Context, t testing.TB, connString string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatalf("difftest: connect %s: %v", connString, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// loadOracle creates the schema and loads the rows on a plain server.
func loadOracle(ctx context.Context, t testing.TB, conn *pgx.Conn, tables []Table) {
	t.Helper()
	for _, f := range []string{"schema.sql", "views_before.sql", "views.sql"} {
		if err := ExecScript(ctx, conn, f, readFile(t, f)); err != nil {
			t.Fatalf("difftest: oracle %s: %v", f, err)
		}
	}
	if err := LoadData(ctx, conn, tables); err != nil {
		t.Fatalf("difftest: oracle data: %v", err)
	}
}

// cluster is the system under test: a metadata server, workers and a
// coordinator (this process's executor behind the real wire server).
type cluster struct {
	meta    *pgcluster.Server
	workers []*pgcluster.Server
	addr    *net.TCPAddr
}

// connString is a connection string to the coordinator.
func (c *cluster) connString() string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", c.addr.IP, c.addr.Port)
}

// startCoordinator registers the workers in the catalog and starts a
// coordinator in front of meta; it stops at the end of the test.
func startCoordinator(ctx context.Context, t testing.TB, meta *pgcluster.Server, workers []*pgcluster.Server) *cluster {
	t.Helper()
	log := hclog.New(&hclog.LoggerOptions{Name: "difftest", Level: hclog.Error, Output: logWriter{t}})
	st, err := store.Open(ctx, meta.ConnString("postgres"), log.Named("catalog"))
	if err != nil {
		t.Fatalf("difftest: catalog: %v", err)
	}
	if err := st.Init(ctx); err != nil {
		st.Close()
		t.Fatalf("difftest: catalog init: %v", err)
	}
	for _, w := range workers {
		if _, err := st.AddNode(ctx, w.Host, w.Port, ""); err != nil {
			st.Close()
			t.Fatalf("difftest: add worker %s (port %d): %v", w.Name, w.Port, err)
		}
	}
	st.Close()

	h, err := executor.NewHandler(ctx, executor.Config{
		Metadata: fmt.Sprintf("host=%s port=%d user=postgres sslmode=disable", meta.Host, meta.Port),
		Logger:   log.Named("executor"),
	})
	if err != nil {
		t.Fatalf("difftest: executor: %v", err)
	}
	srv, err := wire.NewServer(wire.Config{Handler: h, Logger: log.Named("wire")})
	if err != nil {
		h.Close()
		t.Fatalf("difftest: wire server: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.Close()
		t.Fatalf("difftest: listen: %v", err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	served, ran := make(chan error, 1), make(chan error, 1)
	go func() { ran <- h.Run(sctx) }()
	go func() { served <- srv.Serve(sctx, ln) }()
	t.Cleanup(func() {
		cancel()
		for name, ch := range map[string]chan error{"wire server": served, "executor": ran} {
			select {
			case err := <-ch:
				if err != nil {
					t.Logf("difftest: %s: %v", name, err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("difftest: the %s did not stop within 30s", name)
			}
		}
		h.Close()
	})
	return &cluster{meta: meta, workers: workers, addr: ln.Addr().(*net.TCPAddr)}
}

// logWriter sends log lines to t.Log.
type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
