package gateway

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"

	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
	"github.com/pgfed/pgfed/consensus/validator"
	"github.com/pgfed/pgfed/executor/federation"
	"github.com/pgfed/pgfed/executor/pgcluster"
)

// The harness runs n organizations ("bank1".."bankN"), each with one real
// PostgreSQL worker (pgcluster), its validator (SCP host plus
// federation.App) and its gateway in this process over loopback TCP. The
// worker is named, in requests, by its gateway's listen address. A test
// plays the coordinator: it submits signed requests with a
// federation.Client and reaches the workers only through the gateways.

const (
	testNetwork = "pgfed-gateway-test"
	testTick    = 50 * time.Millisecond
	testTimeout = 40 // ticks: 2s
	testWait    = 500 * time.Millisecond
	testBalance = 1000
)

var testTables = []string{"accounts", "transfers"}

type testBank struct {
	org    string
	key    ed25519.PrivateKey
	server *pgcluster.Server
	gwAddr string // the gateway's address: the worker's name in requests
	v      *validator.Validator
	app    *federation.App
	gw     *Gateway
}

type testFed struct {
	t      *testing.T
	banks  []*testBank
	m      *commit.Membership
	coord  ed25519.PrivateKey
	client *federation.Client
	eps    []federation.Endpoint // the validators' client endpoints, by bank
	log    hclog.Logger
	mu     sync.Mutex
	txid   int
}

type testLogWriter struct {
	t  *testing.T
	mu sync.Mutex
	on bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.on {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// newFed starts n banks, their validators and their gateways (allowing
// testTables only).
func newFed(t *testing.T, n int) *testFed {
	t.Helper()
	specs := make([]pgcluster.ServerSpec, n)
	for i := range specs {
		specs[i] = pgcluster.ServerSpec{Name: fmt.Sprintf("gwbank%d", i+1), Settings: pgcluster.WorkerSettings()}
	}
	servers := pgcluster.StartForTest(t, specs...)
	lw := &testLogWriter{t: t, on: true}
	t.Cleanup(func() { lw.mu.Lock(); lw.on = false; lw.mu.Unlock() })
	level := hclog.Warn
	if os.Getenv("PGFED_GATEWAY_DEBUG") != "" {
		level = hclog.Debug
	}
	f := &testFed{t: t, log: hclog.New(&hclog.LoggerOptions{Name: "test", Level: level, Output: lw})}
	type lns struct{ scp, gos, cli, gw net.Listener }
	var ls []lns
	var orgs []quorum.Org
	var corgs []commit.Org
	for i := 0; i < n; i++ {
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		l := lns{listen(t), listen(t), listen(t), listen(t)}
		ls = append(ls, l)
		b := &testBank{org: fmt.Sprintf("bank%d", i+1), key: key, server: servers[i], gwAddr: l.gw.Addr().String()}
		f.banks = append(f.banks, b)
		id := transport.NodeID(key)
		orgs = append(orgs, quorum.Org{Name: b.org, Validators: []quorum.NodeID{id}})
		corgs = append(corgs, commit.Org{Name: b.org, Validators: []quorum.NodeID{id}})
	}
	qset, err := quorum.OrgQSet(orgs)
	if err != nil {
		t.Fatal(err)
	}
	if f.m, err = commit.NewMembership(commit.Config{Network: validator.NetworkID(testNetwork), Orgs: corgs}); err != nil {
		t.Fatal(err)
	}
	_, f.coord, _ = ed25519.GenerateKey(rand.Reader)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, b := range f.banks {
		f.setupWorker(ctx, b)
	}
	peers := func(self int, addr func(lns) net.Listener) []transport.Peer {
		var out []transport.Peer
		for j, o := range f.banks {
			if j != self {
				out = append(out, transport.Peer{ID: transport.NodeID(o.key), Addr: addr(ls[j]).Addr().String()})
			}
		}
		return out
	}
	runCtx, stop := context.WithCancel(context.Background())
	var eps []federation.Endpoint
	for i, b := range f.banks {
		l := ls[i]
		w := federation.Worker{Name: b.gwAddr, Host: b.server.Host, Port: b.server.Port, User: "postgres", Database: "postgres"}
		app, err := federation.New(federation.Config{Membership: f.m, Key: b.key, Workers: []federation.Worker{w},
			DataDir: t.TempDir(), Timeout: testTimeout,
			GossipListener: l.gos, GossipListen: l.gos.Addr().String(), GossipPeers: peers(i, func(x lns) net.Listener { return x.gos }),
			ClientListener: l.cli, ClientListen: l.cli.Addr().String(),
			TickInterval: testTick, RebroadcastInterval: 300 * time.Millisecond, SweepInterval: 300 * time.Millisecond,
			QueryTimeout: 5 * time.Second, Logger: f.log.Named(b.org)})
		if err != nil {
			t.Fatal(err)
		}
		v, err := validator.Start(runCtx, validator.Config{Key: b.key, Network: testNetwork, QSet: qset,
			Peers: peers(i, func(x lns) net.Listener { return x.scp }), Listener: l.scp, ListenAddr: l.scp.Addr().String(),
			DataDir: filepath.Join(t.TempDir(), "scp"), NoSync: true, Driver: app.Driver(), Propose: app.Propose, OnDecision: app.OnDecision,
			TickInterval: testTick, CloseDelay: 10 * time.Millisecond, RebroadcastInterval: 500 * time.Millisecond,
			Logger: f.log.Named(b.org)})
		if err != nil {
			t.Fatalf("%s: %v", b.org, err)
		}
		b.v, b.app = v, app
		if err := app.Start(runCtx, v); err != nil {
			t.Fatalf("%s: %v", b.org, err)
		}
		b.gw, err = Start(runCtx, Config{Routes: []Route{{Listener: l.gw, Worker: b.gwAddr, Addr: net.JoinHostPort(b.server.Host, fmt.Sprint(b.server.Port))}},
			Keeper: app, AllowedTables: testTables, PrepareWait: testWait, Logger: f.log.Named(b.org)})
		if err != nil {
			t.Fatalf("%s: %v", b.org, err)
		}
		eps = append(eps, federation.Endpoint{Addr: l.cli.Addr().String(), Key: transport.NodeID(b.key)})
	}
	f.eps = eps
	if f.client, err = federation.NewClient(federation.ClientConfig{Membership: f.m, Validators: eps, Retry: 100 * time.Millisecond, Logger: f.log}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, b := range f.banks {
			b.gw.Close()
			b.app.Close()
			b.v.Close()
		}
		stop()
	})
	return f
}

func (f *testFed) setupWorker(ctx context.Context, b *testBank) {
	f.t.Helper()
	c, err := b.server.Connect(ctx, "postgres")
	if err != nil {
		f.t.Fatal(err)
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, fmt.Sprintf(`
		CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL);
		INSERT INTO accounts SELECT g, %d FROM generate_series(1, 20) g;
		CREATE TABLE transfers (gid text PRIMARY KEY, account int NOT NULL, delta bigint NOT NULL);
		CREATE TABLE secrets (id int);`, testBalance))
	if err != nil {
		f.t.Fatalf("%s: %v", b.org, err)
	}
}

// direct connects to a bank's worker itself (the test's own view).
func (f *testFed) direct(ctx context.Context, b *testBank) *pgx.Conn {
	f.t.Helper()
	c, err := b.server.Connect(ctx, "postgres")
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// through connects to a bank's worker through its gateway.
func (f *testFed) through(ctx context.Context, b *testBank) *pgx.Conn {
	f.t.Helper()
	c, err := pgx.Connect(ctx, "postgres://postgres@"+b.gwAddr+"/postgres?sslmode=disable")
	if err != nil {
		f.t.Fatalf("%s: connect through the gateway: %v", b.org, err)
	}
	f.t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// newGID returns a fresh global gid of the test coordinator: it names the
// coordinator's key (commit.KeyTag), as commit.Request requires.
func (f *testFed) newGID() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.txid++
	return fmt.Sprintf("%s%s_gwtest%d-%d", federation.GIDPrefix, commit.KeyTag(transport.NodeID(f.coord)), time.Now().UnixNano()%1e9, f.txid)
}

// leg is one bank's side of a transfer.
type leg struct {
	bank    *testBank
	account int
	delta   int64
}

func (l leg) part(gid string) commit.Part {
	return commit.Part{Worker: l.bank.gwAddr, GID: gid + "_" + l.bank.org}
}

// request signs the request of a transfer over two legs.
func (f *testFed) request(gid string, legs ...leg) commit.Request {
	f.t.Helper()
	r := commit.Request{GID: gid, Created: time.Now().UnixNano()}
	for _, l := range legs {
		r.Participants = append(r.Participants, commit.OrgParts{Org: l.bank.org, Parts: []commit.Part{l.part(gid)}})
	}
	if len(r.Participants) == 2 && r.Participants[0].Org > r.Participants[1].Org {
		r.Participants[0], r.Participants[1] = r.Participants[1], r.Participants[0]
	}
	sr, err := commit.SignRequest(f.m.Network(), f.coord, r)
	if err != nil {
		f.t.Fatal(err)
	}
	return sr
}

// prepare runs the leg on c (a connection through the leg's gateway) and
// prepares its part.
func (f *testFed) prepare(ctx context.Context, c *pgx.Conn, gid string, l leg) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "UPDATE accounts SET balance = balance + $1 WHERE id = $2", l.delta, l.account); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO transfers VALUES ($1, $2, $3)", gid, l.account, l.delta); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "PREPARE TRANSACTION '"+l.part(gid).GID+"'")
	return err
}

// prepared lists a bank's prepared gids (seen directly).
func (f *testFed) prepared(ctx context.Context, b *testBank) []string {
	f.t.Helper()
	c := f.direct(ctx, b)
	defer c.Close(ctx)
	rows, err := c.Query(ctx, "SELECT gid FROM pg_prepared_xacts ORDER BY gid")
	if err != nil {
		f.t.Fatal(err)
	}
	gids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		f.t.Fatal(err)
	}
	return gids
}

// balance returns an account's balance and whether gid's transfer row is
// there (seen directly).
func (f *testFed) balance(ctx context.Context, b *testBank, account int, gid string) (int64, bool) {
	f.t.Helper()
	c := f.direct(ctx, b)
	defer c.Close(ctx)
	var bal int64
	var n int
	if err := c.QueryRow(ctx, "SELECT (SELECT balance FROM accounts WHERE id = $1), (SELECT count(*) FROM transfers WHERE gid = $2)", account, gid).Scan(&bal, &n); err != nil {
		f.t.Fatal(err)
	}
	return bal, n == 1
}

// eventually polls cond until it holds or ctx ends.
func (f *testFed) eventually(ctx context.Context, what string, cond func() bool) {
	f.t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			f.t.Fatalf("timed out waiting: %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
