package federation

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
	"github.com/pgfed/pgfed/executor/pgcluster"
)

// The harness runs n organizations ("bank1".."bankN"), each with one real
// PostgreSQL worker (pgcluster) and one validator (SCP host plus App) in
// this process over loopback TCP, with quorum sets from quorum.OrgQSet.
// A test plays the coordinator: it prepares parts on the workers itself and
// submits the signed request through a Client.

const (
	testNetwork  = "pgfed-federation-test"
	testTick     = 50 * time.Millisecond
	testTimeout  = 20 // ticks: 1s
	testOrphan   = 40 // ticks: 2s
	testAccounts = 20
	testBalance  = 1000
)

type testBank struct {
	org     string
	key     ed25519.PrivateKey
	server  *pgcluster.Server
	worker  Worker
	dir     string
	scpAddr string
	gosAddr string
	cliAddr string
	scpLn   net.Listener // first start only
	gosLn   net.Listener
	cliLn   net.Listener

	v      *validator.Validator
	app    *App
	cancel context.CancelFunc
}

type testFed struct {
	t      *testing.T
	banks  []*testBank
	m      *commit.Membership
	qset   quorum.QSet
	coord  ed25519.PrivateKey
	client *Client
	log    hclog.Logger
	txid   int
	mu     sync.Mutex
	// appTick is the Apps' TickInterval (testTick unless newFedTick).
	appTick time.Duration
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

func (w *testLogWriter) stop() { w.mu.Lock(); w.on = false; w.mu.Unlock() }

func listen(t *testing.T) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// newFed starts n banks and their validators.
func newFed(t *testing.T, n int) *testFed {
	t.Helper()
	return newFedTick(t, n, testTick)
}

// newFedTick is newFed with the Apps ticking every appTick.
func newFedTick(t *testing.T, n int, appTick time.Duration) *testFed {
	t.Helper()
	specs := make([]pgcluster.ServerSpec, n)
	for i := range specs {
		specs[i] = pgcluster.ServerSpec{Name: fmt.Sprintf("bank%d", i+1), Settings: pgcluster.WorkerSettings()}
	}
	servers := pgcluster.StartForTest(t, specs...)
	lw := &testLogWriter{t: t, on: true}
	t.Cleanup(lw.stop)
	level := hclog.Warn
	if os.Getenv("PGFED_FEDERATION_DEBUG") != "" {
		level = hclog.Debug
	}
	f := &testFed{t: t, log: hclog.New(&hclog.LoggerOptions{Name: "test", Level: level, Output: lw}), appTick: appTick}
	var orgs []quorum.Org
	var corgs []commit.Org
	for i := 0; i < n; i++ {
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		b := &testBank{org: fmt.Sprintf("bank%d", i+1), key: key, server: servers[i], dir: t.TempDir()}
		b.worker = Worker{Name: b.org + "-w1", Host: servers[i].Host, Port: servers[i].Port, User: "postgres", Database: "postgres"}
		b.scpLn, b.gosLn, b.cliLn = listen(t), listen(t), listen(t)
		b.scpAddr, b.gosAddr, b.cliAddr = b.scpLn.Addr().String(), b.gosLn.Addr().String(), b.cliLn.Addr().String()
		f.banks = append(f.banks, b)
		id := transport.NodeID(key)
		orgs = append(orgs, quorum.Org{Name: b.org, Validators: []quorum.NodeID{id}})
		corgs = append(corgs, commit.Org{Name: b.org, Validators: []quorum.NodeID{id}})
	}
	var err error
	if f.qset, err = quorum.OrgQSet(orgs); err != nil {
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
	for _, b := range f.banks {
		f.start(b)
	}
	var eps []Endpoint
	for _, b := range f.banks {
		eps = append(eps, Endpoint{Addr: b.cliAddr, Key: transport.NodeID(b.key)})
	}
	if f.client, err = NewClient(ClientConfig{Membership: f.m, Validators: eps, Retry: 100 * time.Millisecond, Logger: f.log}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, b := range f.banks {
			f.stop(b)
		}
	})
	return f
}

func (f *testFed) setupWorker(ctx context.Context, b *testBank) {
	f.t.Helper()
	c := f.connect(ctx, b)
	defer c.Close(ctx)
	_, err := c.Exec(ctx, fmt.Sprintf(`
		CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL);
		INSERT INTO accounts SELECT g, %d FROM generate_series(1, %d) g;
		CREATE TABLE transfers (gid text PRIMARY KEY, account int NOT NULL, delta bigint NOT NULL)`, testBalance, testAccounts))
	if err != nil {
		f.t.Fatalf("%s: %v", b.org, err)
	}
}

func (f *testFed) connect(ctx context.Context, b *testBank) *pgx.Conn {
	f.t.Helper()
	c, err := b.server.Connect(ctx, "postgres")
	if err != nil {
		f.t.Fatalf("%s: %v", b.org, err)
	}
	return c
}

// start starts (or restarts) a bank's validator and App.
func (f *testFed) start(b *testBank) {
	f.t.Helper()
	app, err := New(Config{Membership: f.m, Key: b.key, Workers: []Worker{b.worker}, DataDir: b.dir,
		Timeout: testTimeout, OrphanTimeout: testOrphan,
		GossipListener: b.gosLn, GossipListen: b.gosAddr, GossipPeers: f.peers(b, func(o *testBank) string { return o.gosAddr }),
		ClientListener: b.cliLn, ClientListen: b.cliAddr,
		TickInterval: f.appTick, RebroadcastInterval: 300 * time.Millisecond, SweepInterval: 300 * time.Millisecond,
		QueryTimeout: 5 * time.Second, Logger: f.log.Named(b.org)})
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	v, err := validator.Start(ctx, validator.Config{Key: b.key, Network: testNetwork, QSet: f.qset,
		Peers: f.peers(b, func(o *testBank) string { return o.scpAddr }), Listener: b.scpLn, ListenAddr: b.scpAddr,
		DataDir: filepath.Join(b.dir, "scp"), NoSync: true, Driver: app.Driver(), Propose: app.Propose, OnDecision: app.OnDecision,
		TickInterval: testTick, CloseDelay: 10 * time.Millisecond, RebroadcastInterval: 500 * time.Millisecond,
		Logger: f.log.Named(b.org)})
	if err != nil {
		cancel()
		f.t.Fatalf("%s: %v", b.org, err)
	}
	if err := app.Start(ctx, v); err != nil {
		v.Close()
		cancel()
		f.t.Fatalf("%s: %v", b.org, err)
	}
	b.scpLn, b.gosLn, b.cliLn = nil, nil, nil
	b.v, b.app, b.cancel = v, app, cancel
}

func (f *testFed) stop(b *testBank) {
	if b.app == nil {
		return
	}
	if err := b.app.Close(); err != nil {
		f.t.Logf("%s: app close: %v", b.org, err)
	}
	if err := b.v.Close(); err != nil {
		f.t.Logf("%s: validator close: %v", b.org, err)
	}
	b.cancel()
	b.app, b.v = nil, nil
}

func (f *testFed) peers(self *testBank, addr func(*testBank) string) []transport.Peer {
	var out []transport.Peer
	for _, o := range f.banks {
		if o != self {
			out = append(out, transport.Peer{ID: transport.NodeID(o.key), Addr: addr(o)})
		}
	}
	return out
}

// newGID returns a fresh global gid of the test coordinator: it names the
// coordinator's key (commit.KeyTag), as commit.Request requires.
func (f *testFed) newGID() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.txid++
	return fmt.Sprintf("%s%s_testc%d-%d", GIDPrefix, commit.KeyTag(transport.NodeID(f.coord)), time.Now().UnixNano()%1e9, f.txid)
}

// leg is one bank's side of a transfer: an account and a delta.
type leg struct {
	bank    *testBank
	account int
	delta   int64
}

// part names the leg's part of gid.
func (l leg) part(gid string) commit.Part {
	return commit.Part{Worker: l.bank.worker.Name, GID: gid + "_" + l.bank.org}
}

// prepare runs the leg on its worker and prepares it; an error leaves
// nothing prepared.
func (f *testFed) prepare(ctx context.Context, gid string, l leg) error {
	c, err := l.bank.server.Connect(ctx, "postgres")
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, "SET lock_timeout = '300ms'"); err != nil {
		return err
	}
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

// request signs the request of a transfer over legs.
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

// prepared lists the prepared gids of a bank's worker.
func (f *testFed) prepared(ctx context.Context, b *testBank) []string {
	f.t.Helper()
	c := f.connect(ctx, b)
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

// balance returns an account's balance and whether the transfer gid left
// its row in the bank's transfers table.
func (f *testFed) balance(ctx context.Context, b *testBank, account int, gid string) (int64, bool) {
	f.t.Helper()
	c := f.connect(ctx, b)
	defer c.Close(ctx)
	var bal int64
	if err := c.QueryRow(ctx, "SELECT balance FROM accounts WHERE id = $1", account).Scan(&bal); err != nil {
		f.t.Fatal(err)
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM transfers WHERE gid = $1", gid).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return bal, n == 1
}

// eventually polls cond until it holds or the deadline passes.
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

// settled waits until no bank's worker holds a prepared transaction, and
// every running App has applied its ledger.
func (f *testFed) settled(ctx context.Context) {
	f.t.Helper()
	f.eventually(ctx, "no prepared transaction left and every ledger applied", func() bool {
		for _, b := range f.banks {
			if len(f.prepared(ctx, b)) > 0 {
				return false
			}
			if b.app != nil && b.app.Applied() < b.v.Last() {
				return false
			}
		}
		return true
	})
}

// transferRow is one transfer leg as a bank's transfers table holds it.
type transferRow struct {
	account int
	delta   int64
}

// readBank reads bank b's transfer legs (by gid), checks every account's
// balance against them (seed names the run in the errors), and returns the
// legs and the bank's total balance.
func (f *testFed) readBank(ctx context.Context, t *testing.T, b *testBank, seed int64) (map[string]transferRow, int64) {
	t.Helper()
	c := f.connect(ctx, b)
	defer c.Close(ctx)
	rs, err := c.Query(ctx, "SELECT gid, account, delta FROM transfers")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]transferRow{}
	want := map[int]int64{}
	for rs.Next() {
		var gid string
		var r transferRow
		if err := rs.Scan(&gid, &r.account, &r.delta); err != nil {
			t.Fatal(err)
		}
		rows[gid] = r
		want[r.account] += r.delta
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	rs, err = c.Query(ctx, "SELECT id, balance FROM accounts")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for rs.Next() {
		var id int
		var bal int64
		if err := rs.Scan(&id, &bal); err != nil {
			t.Fatal(err)
		}
		total += bal
		if bal != testBalance+want[id] {
			t.Errorf("seed %d: %s account %d: balance %d, its transfer rows say %d", seed, b.org, id, bal, testBalance+want[id])
		}
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return rows, total
}
