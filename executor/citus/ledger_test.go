package citus_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"strings"
	"testing"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
	"github.com/pgfed/pgfed/consensus/validator"
	"github.com/pgfed/pgfed/executor/citus"
	"github.com/pgfed/pgfed/executor/dtx"
	"github.com/pgfed/pgfed/executor/federation"
)

// TestLedgerWithoutFederation: a coordinator without a federation cannot
// answer pgfed_ledger or pgfed_ledger_status (55000), and a bad limit is
// 22023. (Validators that answer: cmd/pgfed's federation dev test.)
func TestLedgerWithoutFederation(t *testing.T) {
	c := newCluster(t)
	c.mustFail("SELECT * FROM pgfed_ledger()", pgerrcode.ObjectNotInPrerequisiteState)
	c.mustFail("SELECT * FROM pgfed_ledger_status()", pgerrcode.ObjectNotInPrerequisiteState)
	c.mustFail("SELECT * FROM pgfed_ledger(0)", pgerrcode.InvalidParameterValue)
	c.mustFail("SELECT * FROM pgfed_ledger(NULL)", pgerrcode.InvalidParameterValue)
}

// TestLedgerValidatorsUnreachable: with a federation whose validators do
// not answer, pgfed_ledger fails with 08001 after a NOTICE per
// organization, and pgfed_ledger_status lists every organization with the
// reason.
func TestLedgerValidatorsUnreachable(t *testing.T) {
	c := newCluster(t)
	var orgs []commit.Org
	var vals []dtx.FederationValidator
	for _, name := range []string{"bank1", "bank2"} {
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		id := transport.NodeID(key)
		orgs = append(orgs, commit.Org{Name: name, Validators: []quorum.NodeID{id}})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nobody listens there any more
		vals = append(vals, dtx.FederationValidator{Org: name, Endpoint: federation.Endpoint{Addr: addr, Key: id}})
	}
	m, err := commit.NewMembership(commit.Config{Network: validator.NetworkID("ledger-test"), Orgs: orgs})
	if err != nil {
		t.Fatal(err)
	}
	_, coordKey, _ := ed25519.GenerateKey(rand.Reader)
	env := *c.env
	env.Coord, err = dtx.New(dtx.Config{ID: "ledger", Workers: c.env.Pools, Metadata: metaPoolOf(t, c),
		Federation: &dtx.Federation{Key: coordKey, Membership: m, Validators: vals}})
	if err != nil {
		t.Fatal(err)
	}
	c.env = &env
	c.mustFail("SELECT * FROM pgfed_ledger(5)", pgerrcode.SQLClientUnableToEstablishSQLConnection)
	res := c.must("SELECT organization, validator IS NOT NULL, last_slot, error IS NOT NULL FROM pgfed_ledger_status() ORDER BY 1")
	got := make([]string, len(res.rows))
	for i, r := range res.rows {
		got[i] = strings.Join(r, " ")
	}
	if want := "bank1 t <null> t|bank2 t <null> t"; strings.Join(got, "|") != want {
		t.Fatalf("pgfed_ledger_status: %q, want %q", strings.Join(got, "|"), want)
	}
}

// metaPoolOf opens a pool on the test's metadata database.
func metaPoolOf(t *testing.T, c *cluster) *dtx.Pool {
	t.Helper()
	mc, err := pgconn.ParseConfig(servers[0].ConnString(c.db))
	if err != nil {
		t.Fatal(err)
	}
	p, err := dtx.NewPool(dtx.PoolConfig{ConnConfig: mc}, catalog.Node{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// TestLedgerDescribe: the extended protocol's Describe of pgfed_ledger
// and pgfed_ledger_status gives their columns (participants is text[]).
func TestLedgerDescribe(t *testing.T) {
	c := newCluster(t)
	for sql, want := range map[string]string{
		"SELECT * FROM pgfed_ledger($1)":      "organization:text,slot:int8,gid:text,decision:text,participants:_text",
		"SELECT * FROM pgfed_ledger_status()": "organization:text,validator:text,last_slot:int8,applied_slot:int8,digest:text,error:text",
	} {
		tree, err := pg.Parse(sql)
		if err != nil {
			t.Fatal(err)
		}
		text, err := citus.Describe(c.ctx, c.env, tree.Stmts[0])
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		sd, err := c.meta.PgConn().Prepare(c.ctx, "", text, nil)
		if err != nil {
			t.Fatalf("%s: prepare %s: %v", sql, text, err)
		}
		var cols []string
		for _, f := range sd.Fields {
			dt, _ := c.meta.TypeMap().TypeForOID(f.DataTypeOID)
			cols = append(cols, f.Name+":"+dt.Name)
		}
		if got := strings.Join(cols, ","); got != want {
			t.Errorf("%s: columns %s, want %s", sql, got, want)
		}
	}
}
