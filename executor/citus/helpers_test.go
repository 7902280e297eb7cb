package citus_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/catalog/store"
	"github.com/pgfed/pgfed/executor/citus"
	"github.com/pgfed/pgfed/executor/dtx"
	"github.com/pgfed/pgfed/executor/pgcluster"
)

// servers are the metadata server and two workers shared by the tests;
// each test works in databases of its own.
var servers []*pgcluster.Server

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	var stop func() error
	var err error
	servers, stop, err = pgcluster.StartForMain(
		pgcluster.ServerSpec{Name: "metadata", Settings: pgcluster.WorkerSettings()},
		pgcluster.ServerSpec{Name: "worker1", Settings: pgcluster.WorkerSettings()},
		pgcluster.ServerSpec{Name: "worker2", Settings: pgcluster.WorkerSettings()},
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// dbCounter names each test's databases.
var dbCounter atomic.Int32

// cluster is one test's view: a metadata database and a database on each
// worker, the store, a coordinator and a session's Env.
type cluster struct {
	t     *testing.T
	ctx   context.Context
	db    string
	store *store.Store
	meta  *pgx.Conn // the session's metadata connection
	env   *citus.Env
	nodes []int32
}

// newCluster creates fresh databases, the catalog schema, and registers
// both workers.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	return newClusterWith(t, 2)
}

// newClusterWith is newCluster registering only the first n workers
// (both have a database).
func newClusterWith(t *testing.T, n int) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts PostgreSQL servers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	db := fmt.Sprintf("citus_%d", dbCounter.Add(1))
	for _, s := range servers {
		c, err := s.Connect(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, "CREATE DATABASE "+db); err != nil {
			t.Fatal(err)
		}
		c.Close(ctx)
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "test", Level: hclog.Warn, Output: testWriter{t}})
	st, err := store.Open(ctx, servers[0].ConnString(db), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Init(ctx); err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, ctx: ctx, db: db, store: st}
	for _, w := range servers[1 : 1+n] {
		id, err := st.AddNode(ctx, w.Host, w.Port, "")
		if err != nil {
			t.Fatal(err)
		}
		c.nodes = append(c.nodes, id)
	}
	snap, err := st.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := pgconn.ParseConfig(servers[1].ConnString(db) + " connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	pools, err := dtx.NewPools(dtx.PoolConfig{ConnConfig: cc, Logger: log}, snap.Nodes())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pools.Close)
	mc, err := pgconn.ParseConfig(servers[0].ConnString(db))
	if err != nil {
		t.Fatal(err)
	}
	metaPool, err := dtx.NewPool(dtx.PoolConfig{ConnConfig: mc, Logger: log}, catalog.Node{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(metaPool.Close)
	coord, err := dtx.New(dtx.Config{ID: "test", Workers: pools, Metadata: metaPool, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	c.meta, err = servers[0].Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.meta.Close(context.Background()) })
	c.env = &citus.Env{Store: st, Coord: coord, Pools: pools, Session: pools.NewSession(),
		Meta: pgxMeta{c.meta}, Log: log}
	return c
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// pgxMeta is the Metadata of the tests: a pgx connection, simple
// protocol.
type pgxMeta struct{ c *pgx.Conn }

func (m pgxMeta) Query(ctx context.Context, sql string) (*citus.Rows, error) {
	res, err := m.c.PgConn().Exec(ctx, sql).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return &citus.Rows{}, nil
	}
	last := res[len(res)-1]
	var fields []pgproto3.FieldDescription
	for _, f := range last.FieldDescriptions {
		fields = append(fields, pgproto3.FieldDescription{Name: []byte(f.Name), TableOID: f.TableOID,
			TableAttributeNumber: f.TableAttributeNumber, DataTypeOID: f.DataTypeOID, DataTypeSize: f.DataTypeSize,
			TypeModifier: f.TypeModifier, Format: f.Format})
	}
	return &citus.Rows{Fields: fields, Values: last.Rows, Tag: last.CommandTag.String()}, nil
}

// result is what Run sent.
type result struct {
	columns []string
	rows    [][]string // NULL as "<null>"
	tag     string
	notices []string
}

// recorder is a wire.Results that records messages.
type recorder struct{ res result }

func (r *recorder) Send(msg pgproto3.BackendMessage) error {
	switch m := msg.(type) {
	case *pgproto3.RowDescription:
		for _, f := range m.Fields {
			r.res.columns = append(r.res.columns, string(f.Name))
		}
	case *pgproto3.DataRow:
		row := make([]string, len(m.Values))
		for i, v := range m.Values {
			if v == nil {
				row[i] = "<null>"
			} else {
				row[i] = string(v)
			}
		}
		r.res.rows = append(r.res.rows, row)
	case *pgproto3.CommandComplete:
		r.res.tag = string(m.CommandTag)
	case *pgproto3.NoticeResponse:
		r.res.notices = append(r.res.notices, m.Message)
	}
	return nil
}

func (r *recorder) ReceiveCopy() (pgproto3.FrontendMessage, error) {
	return nil, errors.New("no COPY in these tests")
}

// run runs one statement through Match and Run, as the session does; a
// statement Match refuses runs on the metadata connection.
func (c *cluster) run(sql string) (*result, error) {
	c.t.Helper()
	tree, err := pg.Parse(sql)
	if err != nil {
		c.t.Fatalf("parse %s: %v", sql, err)
	}
	snap, err := c.store.Snapshot(c.ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	stmt := tree.Stmts[0]
	if !citus.Match(snap, stmt) {
		rows, err := pgxMeta{c.meta}.Query(c.ctx, sql)
		if err != nil {
			return nil, err
		}
		return &result{tag: rows.Tag}, nil
	}
	rec := &recorder{}
	err = citus.Run(c.ctx, c.env, sql, stmt, rec)
	return &rec.res, err
}

// must runs a statement that must succeed.
func (c *cluster) must(sql string) *result {
	c.t.Helper()
	res, err := c.run(sql)
	if err != nil {
		c.t.Fatalf("%s: %v", sql, err)
	}
	return res
}

// mustFail runs a statement that must fail with code, and checks the
// catalog version did not change.
func (c *cluster) mustFail(sql, code string) error {
	c.t.Helper()
	before, _ := c.store.Version(c.ctx)
	_, err := c.run(sql)
	if err == nil {
		c.t.Fatalf("%s: succeeded, want SQLSTATE %s", sql, code)
	}
	var s interface{ SQLState() string }
	if !errors.As(err, &s) || s.SQLState() != code {
		c.t.Fatalf("%s: error %v (%T), want SQLSTATE %s", sql, err, err, code)
	}
	if after, _ := c.store.Version(c.ctx); after != before {
		c.t.Errorf("%s: failed but changed the catalog version %d -> %d", sql, before, after)
	}
	return err
}

// exec runs SQL directly on a server's test database.
func (c *cluster) exec(s *pgcluster.Server, sql string) {
	c.t.Helper()
	if _, err := c.query(s, sql); err != nil {
		c.t.Fatalf("%s on %s: %v", sql, s.Name, err)
	}
}

// query runs SQL on a server's test database and returns its rows as
// text (NULL as "<null>").
func (c *cluster) query(s *pgcluster.Server, sql string) ([][]string, error) {
	conn, err := s.Connect(c.ctx, c.db)
	if err != nil {
		return nil, err
	}
	defer conn.Close(c.ctx)
	res, err := conn.PgConn().Exec(c.ctx, sql).ReadAll()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for _, r := range res {
		for _, row := range r.Rows {
			vals := make([]string, len(row))
			for i, v := range row {
				if v == nil {
					vals[i] = "<null>"
				} else {
					vals[i] = string(v)
				}
			}
			out = append(out, vals)
		}
	}
	return out, nil
}

// one returns the single value of a query on a server.
func (c *cluster) one(s *pgcluster.Server, sql string) string {
	c.t.Helper()
	rows, err := c.query(s, sql)
	if err != nil {
		c.t.Fatalf("%s on %s: %v", sql, s.Name, err)
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		c.t.Fatalf("%s on %s: %v, want one value", sql, s.Name, rows)
	}
	return rows[0][0]
}

// workerTables lists the tables of the public schema on each worker
// whose names start with prefix, sorted.
func (c *cluster) workerTables(prefix string) [][]string {
	c.t.Helper()
	var out [][]string
	for _, w := range servers[1:] {
		rows, err := c.query(w, "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace AND relname LIKE '"+prefix+"%' ORDER BY 1")
		if err != nil {
			c.t.Fatal(err)
		}
		var names []string
		for _, r := range rows {
			names = append(names, r[0])
		}
		out = append(out, names)
	}
	return out
}

// worker returns the server of a node id.
func (c *cluster) worker(id int32) *pgcluster.Server {
	return servers[1+slices.Index(c.nodes, id)]
}
