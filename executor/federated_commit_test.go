package executor

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
	"github.com/pgfed/pgfed/consensus/validator"
	"github.com/pgfed/pgfed/executor/dtx"
	"github.com/pgfed/pgfed/executor/failpoint"
	"github.com/pgfed/pgfed/executor/federation"
	"github.com/pgfed/pgfed/executor/pgcluster"
)

// A federated cluster: a metadata server, three organizations org1..org3
// with one worker each (reached directly, no gateway) and one validator
// each (SCP host and federation App, in this process over loopback), a
// fourth worker of no organization, and a coordinator configured with the
// federation: its transactions that write on several organization
// workers are decided by the validators.
const (
	fedTestNetwork = "pgfed-fedcommit-test"
	fedTestTick    = 50 * time.Millisecond
	fedTestTimeout = 20 // ticks: the validators' commit timeout, 1s
)

type fedOrg struct {
	name   string
	key    ed25519.PrivateKey
	server *pgcluster.Server
	scpLn  net.Listener
	gosLn  net.Listener
	cliLn  net.Listener
}

type fedCluster struct {
	cluster
	orgs  []*fedOrg
	plain *pgcluster.Server // the worker of no organization
}

// newFedCluster starts everything; it all stops at the end of the test.
func newFedCluster(t *testing.T) *fedCluster {
	t.Helper()
	specs := []pgcluster.ServerSpec{{Name: "metadata", Settings: pgcluster.WorkerSettings()}}
	// The workers log every statement with its client's application_name,
	// to check who finalized the prepared parts (finalizers).
	logged := pgcluster.WorkerSettings()
	logged["log_statement"] = "all"
	logged["log_line_prefix"] = "%m [%p] app=%a "
	for i := 1; i <= 3; i++ {
		specs = append(specs, pgcluster.ServerSpec{Name: fmt.Sprintf("org%d", i), Settings: logged})
	}
	specs = append(specs, pgcluster.ServerSpec{Name: "plain", Settings: logged})
	servers := pgcluster.StartForTest(t, specs...)
	log := testLogger(t)
	f := &fedCluster{plain: servers[4]}
	var qorgs []quorum.Org
	var corgs []commit.Org
	for i, s := range servers[1:4] {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		o := &fedOrg{name: fmt.Sprintf("org%d", i+1), key: key, server: s, scpLn: fedListen(t), gosLn: fedListen(t), cliLn: fedListen(t)}
		f.orgs = append(f.orgs, o)
		id := transport.NodeID(key)
		qorgs = append(qorgs, quorum.Org{Name: o.name, Validators: []quorum.NodeID{id}})
		corgs = append(corgs, commit.Org{Name: o.name, Validators: []quorum.NodeID{id}})
	}
	qset, err := quorum.OrgQSet(qorgs)
	if err != nil {
		t.Fatal(err)
	}
	m, err := commit.NewMembership(commit.Config{Network: validator.NetworkID(fedTestNetwork), Orgs: corgs})
	if err != nil {
		t.Fatal(err)
	}
	peers := func(self *fedOrg, ln func(*fedOrg) net.Listener) []transport.Peer {
		var out []transport.Peer
		for _, o := range f.orgs {
			if o != self {
				out = append(out, transport.Peer{ID: transport.NodeID(o.key), Addr: ln(o).Addr().String()})
			}
		}
		return out
	}
	var vals []dtx.FederationValidator
	for _, o := range f.orgs {
		// The validator knows its workers by the name the coordinator's
		// catalog gives them: host:port. org3's validator also has the
		// plain worker, which joins org3 late in the test.
		var ws []federation.Worker
		for _, s := range []*pgcluster.Server{o.server, f.plain} {
			if s == f.plain && o.name != "org3" {
				continue
			}
			ws = append(ws, federation.Worker{Name: fmt.Sprintf("%s:%d", s.Host, s.Port), Host: s.Host, Port: s.Port, User: "postgres", Database: "postgres"})
		}
		app, err := federation.New(federation.Config{Membership: m, Key: o.key, Workers: ws, DataDir: t.TempDir(),
			Timeout:        fedTestTimeout,
			GossipListener: o.gosLn, GossipListen: o.gosLn.Addr().String(), GossipPeers: peers(o, func(o *fedOrg) net.Listener { return o.gosLn }),
			ClientListener: o.cliLn, ClientListen: o.cliLn.Addr().String(),
			TickInterval: fedTestTick, RebroadcastInterval: 300 * time.Millisecond, SweepInterval: 300 * time.Millisecond,
			QueryTimeout: 5 * time.Second, Logger: log.Named(o.name)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		v, err := validator.Start(ctx, validator.Config{Key: o.key, Network: fedTestNetwork, QSet: qset,
			Peers: peers(o, func(o *fedOrg) net.Listener { return o.scpLn }), Listener: o.scpLn, ListenAddr: o.scpLn.Addr().String(),
			DataDir: filepath.Join(t.TempDir(), "scp"), NoSync: true, Driver: app.Driver(), Propose: app.Propose, OnDecision: app.OnDecision,
			TickInterval: fedTestTick, CloseDelay: 10 * time.Millisecond, RebroadcastInterval: 500 * time.Millisecond,
			Logger: log.Named(o.name)})
		if err != nil {
			cancel()
			t.Fatalf("%s: %v", o.name, err)
		}
		if err := app.Start(ctx, v); err != nil {
			v.Close()
			cancel()
			t.Fatalf("%s: %v", o.name, err)
		}
		t.Cleanup(func() {
			if err := app.Close(); err != nil {
				t.Logf("%s: app close: %v", o.name, err)
			}
			if err := v.Close(); err != nil {
				t.Logf("%s: validator close: %v", o.name, err)
			}
			cancel()
		})
		vals = append(vals, dtx.FederationValidator{Org: o.name, Endpoint: federation.Endpoint{Addr: o.cliLn.Addr().String(), Key: transport.NodeID(o.key)}})
	}
	_, coordKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h := startHandler(t, Config{
		Metadata:         fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", servers[0].Host, servers[0].Port),
		Logger:           log,
		RecoveryInterval: time.Second,
		Federation:       &dtx.Federation{Key: coordKey, Membership: m, Validators: vals, Wait: 15 * time.Second, Retry: 100 * time.Millisecond},
	})
	host, port := serve(t, h, log)
	f.cluster = cluster{env: env{pg: servers[0], handler: h, host: host, port: port}, workers: servers[1:]}
	return f
}

func fedListen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// fedExec runs statements through the coordinator, failing the test on
// error.
func fedExec(t *testing.T, c *pgx.Conn, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := c.Exec(testCtx(t), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// balances returns the balance of account 1 at each organization, read
// on the workers themselves.
func (f *fedCluster) balances(t *testing.T) []int64 {
	t.Helper()
	var out []int64
	for _, o := range f.orgs {
		c, err := o.server.Connect(testCtx(t), "postgres")
		if err != nil {
			t.Fatal(err)
		}
		var shard string
		if err := c.QueryRow(testCtx(t), `SELECT relname FROM pg_class WHERE relname LIKE 'accounts\_%' AND relkind = 'r'`).Scan(&shard); err != nil {
			t.Fatalf("%s: the accounts shard: %v", o.name, err)
		}
		var b int64
		if err := c.QueryRow(testCtx(t), "SELECT balance FROM "+shard+" WHERE id = 1").Scan(&b); err != nil {
			t.Fatalf("%s: %v", o.name, err)
		}
		c.Close(context.Background())
		out = append(out, b)
	}
	return out
}

// prepared lists the prepared transactions of every worker.
func (f *fedCluster) prepared(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, s := range f.workers {
		c, err := s.Connect(testCtx(t), "postgres")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := c.Query(testCtx(t), "SELECT gid FROM pg_prepared_xacts")
		if err != nil {
			t.Fatal(err)
		}
		gids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		c.Close(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gids {
			out = append(out, s.Name+":"+g)
		}
	}
	return out
}

// settle waits until no worker holds a prepared transaction and the
// balances are want.
func (f *fedCluster) settle(t *testing.T, want []int64) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		p, b := f.prepared(t), f.balances(t)
		if len(p) == 0 && fmt.Sprint(b) == fmt.Sprint(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not settled: prepared %v, balances %v, want %v", p, b, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// transfer moves amount from account 1 at org from to account 1 at org
// to in one transaction block.
func transfer(ctx context.Context, c *pgx.Conn, from, to string, amount int) error {
	_, err := c.Exec(ctx, fmt.Sprintf(`BEGIN;
		UPDATE accounts SET balance = balance - %[3]d WHERE bank = '%[1]s' AND id = 1;
		UPDATE accounts SET balance = balance + %[3]d WHERE bank = '%[2]s' AND id = 1;
		COMMIT`, from, to, amount))
	if err != nil {
		c.Exec(context.Background(), "ROLLBACK")
	}
	return err
}

// wantFedError checks a failed COMMIT's SQLSTATE and that its message
// names a federated gid and says what.
func wantFedError(t *testing.T, err error, code string, says string) {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Fatalf("want SQLSTATE %s, got %v", code, err)
	}
	if pe.Code != code || !strings.Contains(pe.Message, "gid "+federation.GIDPrefix) || !strings.Contains(pe.Message, says) {
		t.Fatalf("want SQLSTATE %s naming the gid and saying %q, got %s: %s", code, says, pe.Code, pe.Message)
	}
}

// TestFederatedCommit drives cross-organization transfers through the
// coordinator's SQL sessions and checks each outcome at the banks
// themselves: a transfer commits at both banks; a transfer whose PREPARE
// fails at one bank is aborted by the validators (40001 naming the gid)
// and applied nowhere; a coordinator that stops after submitting, or
// after preparing, leaves the decision to the validators (ABORT when
// parts are missing, COMMIT when all are prepared); a transaction mixing
// an organization's worker with a worker of none is refused (0A000); and
// no prepared transaction is ever left behind.
func TestFederatedCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five PostgreSQL servers and three validators")
	}
	f := newFedCluster(t)
	c := f.connect(t)
	for _, s := range f.workers {
		fedExec(t, c, fmt.Sprintf("SELECT citus_add_node('%s', %d)", s.Host, s.Port))
	}
	for _, o := range f.orgs {
		fedExec(t, c, "SELECT pgfed_add_organization('"+o.name+"')",
			fmt.Sprintf("SELECT pgfed_set_node_organization('%s', %d, '%s')", o.server.Host, o.server.Port, o.name))
	}
	fedExec(t, c, `CREATE TABLE accounts (bank text NOT NULL, id int NOT NULL, balance bigint NOT NULL, PRIMARY KEY (bank, id))`,
		`INSERT INTO accounts SELECT 'org' || b, i, 1000 FROM generate_series(1, 3) b, generate_series(1, 5) i`,
		`SELECT create_distributed_table('accounts', 'bank', 'org')`,
		`CREATE TABLE notes (id int PRIMARY KEY, note text)`,
		`SELECT create_reference_table('notes')`)
	// A deferred check on every bank: a negative balance fails PREPARE.
	for _, o := range f.orgs {
		runOn(t, o.server, `CREATE FUNCTION no_overdraft() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF NEW.balance < 0 THEN RAISE EXCEPTION 'account % would be overdrawn', NEW.id; END IF;
				RETURN NEW;
			END $$`,
			`DO $$ DECLARE r regclass; BEGIN
				FOR r IN SELECT oid::regclass FROM pg_class WHERE relname LIKE 'accounts\_%' AND relkind = 'r' LOOP
					EXECUTE format('CREATE CONSTRAINT TRIGGER no_overdraft AFTER UPDATE ON %s DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION no_overdraft()', r);
				END LOOP;
			END $$`)
	}
	f.settle(t, []int64{1000, 1000, 1000})

	t.Run("cross-org transfer commits at both banks", func(t *testing.T) {
		if err := transfer(testCtx(t), c, "org1", "org2", 100); err != nil {
			t.Fatal(err)
		}
		// Applied everywhere when COMMIT returns: read at once.
		if b, p := f.balances(t), f.prepared(t); fmt.Sprint(b) != "[900 1100 1000]" || len(p) != 0 {
			t.Fatalf("balances %v, prepared %v", b, p)
		}
		// Through the coordinator too, in one statement over both.
		var sum int64
		if err := c.QueryRow(testCtx(t), "SELECT sum(balance) FROM accounts WHERE id = 1").Scan(&sum); err != nil || sum != 3000 {
			t.Fatalf("sum %d, %v", sum, err)
		}
	})

	t.Run("a failed PREPARE at one bank aborts at all", func(t *testing.T) {
		start := time.Now()
		err := transfer(testCtx(t), c, "org3", "org1", 2000) // org3 would be overdrawn
		wantFedError(t, err, pgerrcode.SerializationFailure, "validators decided ABORT")
		if !strings.Contains(err.Error(), "org3") || !strings.Contains(err.Error(), "overdrawn") {
			t.Errorf("the error does not say which part failed and why: %v", err)
		}
		t.Logf("aborted in %s: %v", time.Since(start).Round(time.Millisecond), err)
		f.settle(t, []int64{900, 1100, 1000})
	})

	t.Run("a three-bank transaction", func(t *testing.T) {
		_, err := c.Exec(testCtx(t), `BEGIN;
			UPDATE accounts SET balance = balance - 30 WHERE bank = 'org2' AND id = 1;
			UPDATE accounts SET balance = balance + 10 WHERE bank = 'org1' AND id = 1;
			UPDATE accounts SET balance = balance + 20 WHERE bank = 'org3' AND id = 1;
			COMMIT`)
		if err != nil {
			t.Fatal(err)
		}
		if b := f.balances(t); fmt.Sprint(b) != "[910 1070 1020]" {
			t.Fatalf("balances %v", b)
		}
	})

	t.Run("a coordinator failing after submit: the validators abort", func(t *testing.T) {
		setFailpoints(t, string(failpoint.FedAfterSubmit)+"=error")
		err := transfer(testCtx(t), c, "org1", "org2", 5)
		wantFedError(t, err, pgerrcode.SerializationFailure, "validators decided ABORT")
		f.settle(t, []int64{910, 1070, 1020})
	})

	t.Run("a coordinator failing after prepare: the validators commit", func(t *testing.T) {
		setFailpoints(t, string(failpoint.FedAfterPrepare)+"=error")
		err := transfer(testCtx(t), c, "org1", "org2", 7)
		wantFedError(t, err, pgerrcode.StatementCompletionUnknown, "the validators will decide it")
		f.settle(t, []int64{903, 1077, 1020})
	})

	t.Run("an organization's worker with a worker of none is refused", func(t *testing.T) {
		_, err := c.Exec(testCtx(t), `BEGIN;
			UPDATE accounts SET balance = balance - 1 WHERE bank = 'org1' AND id = 1;
			INSERT INTO notes VALUES (1, 'mixed');
			COMMIT`)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != pgerrcode.FeatureNotSupported || !strings.Contains(pe.Message, "no organization") {
			t.Fatalf("want 0A000, got %v", err)
		}
		c.Exec(context.Background(), "ROLLBACK")
		f.settle(t, []int64{903, 1077, 1020})
		var n int
		if err := c.QueryRow(testCtx(t), "SELECT count(*) FROM notes").Scan(&n); err != nil || n != 0 {
			t.Fatalf("notes: %d rows, %v", n, err)
		}
	})

	t.Run("the session goes on", func(t *testing.T) {
		if err := transfer(testCtx(t), c, "org2", "org3", 77); err != nil {
			t.Fatal(err)
		}
		f.settle(t, []int64{903, 1000, 1097})
	})

	// The plain worker joins org3: a write on both of org3's workers is
	// decided by org3's validator alone (a request of one participant),
	// and one on every worker by all three organizations.
	fedExec(t, c, fmt.Sprintf("SELECT pgfed_set_node_organization('%s', %d, 'org3')", f.plain.Host, f.plain.Port),
		`CREATE TABLE wallets (bank text NOT NULL, id int NOT NULL, n int NOT NULL DEFAULT 0, PRIMARY KEY (bank, id))`,
		`INSERT INTO wallets SELECT 'org' || b, i FROM generate_series(1, 3) b, generate_series(1, 20) i`,
		`SELECT create_distributed_table('wallets', 'bank, id', 'org', shard_count => 2)`)
	t.Run("two workers of one organization", func(t *testing.T) {
		for _, s := range []*pgcluster.Server{f.orgs[2].server, f.plain} {
			if n := countShards(t, s, "wallets"); n != 1 {
				t.Fatalf("%s holds %d wallets shards, want 1", s.Name, n)
			}
		}
		// Stopping after prepare shows the path taken: the gid is a
		// federated one, and the validators commit without us.
		setFailpoints(t, string(failpoint.FedAfterPrepare)+"=error")
		_, err := c.Exec(testCtx(t), `UPDATE wallets SET n = n + 1 WHERE bank = 'org3'`)
		wantFedError(t, err, pgerrcode.StatementCompletionUnknown, "the validators will decide it")
		failpoint.Set("")
		deadline := time.Now().Add(15 * time.Second)
		for {
			var n int
			if err := c.QueryRow(testCtx(t), "SELECT sum(n) FROM wallets").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 20 && len(f.prepared(t)) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d wallets, prepared %v", n, f.prepared(t))
			}
			time.Sleep(100 * time.Millisecond)
		}
		if _, err := c.Exec(testCtx(t), `UPDATE wallets SET n = n + 1 WHERE bank = 'org3'`); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := c.QueryRow(testCtx(t), "SELECT sum(n) FROM wallets").Scan(&n); err != nil || n != 40 {
			t.Fatalf("sum %d, %v", n, err)
		}
	})
	t.Run("every worker, all organizations", func(t *testing.T) {
		if _, err := c.Exec(testCtx(t), `INSERT INTO notes VALUES (2, 'everywhere')`); err != nil {
			t.Fatal(err)
		}
		for _, s := range f.workers {
			var n int
			conn, err := s.Connect(testCtx(t), "postgres")
			if err != nil {
				t.Fatal(err)
			}
			err = conn.QueryRow(testCtx(t), `SELECT count(*) FROM pg_class WHERE relname LIKE 'notes\_%' AND relkind = 'r'`).Scan(&n)
			conn.Close(context.Background())
			if err != nil || n != 1 {
				t.Fatalf("%s: %d notes shards, %v", s.Name, n, err)
			}
		}
		if got := f.prepared(t); len(got) != 0 {
			t.Fatalf("prepared: %v", got)
		}
	})

	t.Run("only the validators finalize federated parts", func(t *testing.T) {
		byApp := f.finalizers(t)
		t.Logf("federated parts finalized, by application: %v", byApp)
		if len(byApp) == 0 {
			t.Fatal("no COMMIT PREPARED or ROLLBACK PREPARED of a federated part in the workers' logs")
		}
		for app, n := range byApp {
			if app != "pgfed-validator" {
				t.Errorf("%d federated parts finalized by application %q", n, app)
			}
		}
	})
}

// finalizers counts, by application_name, the COMMIT PREPARED and
// ROLLBACK PREPARED statements of federated parts in the workers' logs.
func (f *fedCluster) finalizers(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, s := range f.workers {
		data, err := os.ReadFile(s.LogPath())
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.Contains(line, "statement: COMMIT PREPARED '"+federation.GIDPrefix) &&
				!strings.Contains(line, "statement: ROLLBACK PREPARED '"+federation.GIDPrefix) {
				continue
			}
			app := "?"
			if _, rest, ok := strings.Cut(line, " app="); ok {
				app, _, _ = strings.Cut(rest, " ")
			}
			out[app]++
		}
	}
	return out
}

// countShards counts the shards of a table on a worker.
func countShards(t *testing.T, s *pgcluster.Server, table string) int {
	t.Helper()
	conn, err := s.Connect(testCtx(t), "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(testCtx(t), `SELECT count(*) FROM pg_class WHERE relname LIKE $1 AND relkind = 'r'`, table+`\_%`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// setFailpoints enables failpoints in this process until the end of the
// test.
func setFailpoints(t *testing.T, spec string) {
	t.Helper()
	if err := failpoint.Set(spec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { failpoint.Set("") })
}
