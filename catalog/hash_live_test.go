package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/executor/pgcluster"
)

// liveValues is the number of random values generated per type (edge values
// come on top). PGFED_HASH_LIVE_VALUES overrides it.
const liveValues = 3000

// liveCase describes how the server hashes one type.
type liveCase struct {
	typ catalog.Type
	// proc is the type's default hash opclass support function in PostgreSQL
	// 15 (pg_amproc), which the test binds as pg_temp.h_<typname>.
	proc string
	// send is the type's binary send function.
	send string
	// gen returns random literals, valid and invalid.
	gen func(r *rand.Rand, n int) []string
}

var liveCases = []liveCase{
	{catalog.TypeInt2, "hashint2", "int2send", genInt(16)},
	{catalog.TypeInt4, "hashint4", "int4send", genInt(32)},
	{catalog.TypeInt8, "hashint8", "int8send", genInt(64)},
	{catalog.TypeOID, "hashoid", "oidsend", genOID},
	{catalog.TypeBool, "hashchar", "boolsend", genBool},
	{catalog.TypeText, "hashtext", "textsend", genText},
	{catalog.TypeVarchar, "hashtext", "varcharsend", genText},
	{catalog.TypeBpchar, "hashbpchar", "bpcharsend", genText},
	{catalog.TypeName, "hashname", "namesend", genText},
	{catalog.TypeBytea, "hashvarlena", "byteasend", genBytea},
	{catalog.TypeUUID, "uuid_hash", "uuid_send", genUUID},
	{catalog.TypeFloat4, "hashfloat4", "float4send", genFloat},
	{catalog.TypeFloat8, "hashfloat8", "float8send", genFloat},
	{catalog.TypeNumeric, "hash_numeric", "numeric_send", genNumeric},
	{catalog.TypeDate, "hashint4", "date_send", genDate},
	{catalog.TypeTimestamp, "timestamp_hash", "timestamp_send", genTimestamp},
	{catalog.TypeTimestamptz, "timestamp_hash", "timestamptz_send", genTimestamp},
}

// liveSeed returns the seed of the random values: PGFED_HASH_SEED if set.
func liveSeed(t *testing.T) uint64 {
	if s := os.Getenv("PGFED_HASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("PGFED_HASH_SEED: %v", err)
		}
		return v
	}
	return rand.Uint64()
}

// TestLiveHash compares every hash function with a PostgreSQL 15 server on
// thousands of seeded random literals per type, valid and invalid: equal
// hashes for what both accept (also through HashBinary of the server's
// send output), the same SQLSTATE for what we reject.
func TestLiveHash(t *testing.T) {
	srv := pgcluster.StartForTest(t, pgcluster.ServerSpec{Name: "hash"})[0]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	admin, err := srv.Connect(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	// A UTF8 database with the C collation, whatever initdb chose.
	if _, err := admin.Exec(ctx, `CREATE DATABASE hashtest ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`); err != nil {
		t.Fatal(err)
	}
	admin.Close(ctx)
	conn, err := srv.Connect(ctx, "hashtest")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	seed := liveSeed(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d (rerun with PGFED_HASH_SEED=%d)", seed, seed)
		}
	})
	n := liveValues
	if s := os.Getenv("PGFED_HASH_LIVE_VALUES"); s != "" {
		n, _ = strconv.Atoi(s)
	}

	checkOpclasses(ctx, t, conn)
	if _, err := conn.Exec(ctx, tryFunction); err != nil {
		t.Fatal(err)
	}
	for i, c := range liveCases {
		sql := fmt.Sprintf(`CREATE FUNCTION pg_temp.h_%s(%s) RETURNS int4 AS '%s' LANGUAGE internal IMMUTABLE STRICT`,
			c.typ, c.typ, c.proc)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		t.Run(c.typ.String(), func(t *testing.T) {
			vals := c.gen(rng, n)
			compareLive(ctx, t, conn, c, vals, nil)
		})
	}
	t.Run("go-values", func(t *testing.T) {
		compareValues(ctx, t, conn, rand.New(rand.NewPCG(seed, 99)), n/10)
	})
	// Zone-less timestamptz literals under other session time zones, with
	// daylight-saving gaps and overlaps.
	for i, zone := range []string{"America/New_York", "Europe/Moscow", "Australia/Lord_Howe", "Asia/Kolkata"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(seed, uint64(100+i)))
		t.Run("timestamptz/"+zone, func(t *testing.T) {
			if _, err := conn.Exec(ctx, "SET TimeZone = '"+zone+"'"); err != nil {
				t.Fatal(err)
			}
			defer conn.Exec(ctx, "RESET TimeZone")
			compareLive(ctx, t, conn, liveCases[len(liveCases)-1], genZoned(rng, n/3), loc)
		})
	}
}

// checkOpclasses checks that each type's default hash opclass uses the
// support function our hash mirrors.
func checkOpclasses(ctx context.Context, t *testing.T, conn *pgx.Conn) {
	rows, err := conn.Query(ctx, `
		SELECT t.oid::int8, p.amproc::regproc::text
		FROM pg_type t
		JOIN pg_opclass c ON c.opcintype = t.oid AND c.opcdefault
		JOIN pg_am a ON a.oid = c.opcmethod AND a.amname = 'hash'
		JOIN pg_amproc p ON p.amprocfamily = c.opcfamily AND p.amproclefttype = t.oid
			AND p.amprocrighttype = t.oid AND p.amprocnum = 1`)
	if err != nil {
		t.Fatal(err)
	}
	procs := map[catalog.Type]string{}
	for rows.Next() {
		var oid int64
		var proc string
		if err := rows.Scan(&oid, &proc); err != nil {
			t.Fatal(err)
		}
		procs[catalog.Type(oid)] = proc
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, c := range liveCases {
		want := c.proc
		if c.typ == catalog.TypeVarchar {
			continue // varchar has no opclass of its own: it uses text's
		}
		if procs[c.typ] != want {
			t.Errorf("default hash opclass of %s uses %q, want %q", c.typ, procs[c.typ], want)
		}
	}
}

// tryFunction evaluates one expression on one text value and returns its
// result or the SQLSTATE it fails with.
const tryFunction = `
CREATE FUNCTION pg_temp.try(expr text, v text, OUT h int4, OUT code text) AS $$
BEGIN
	EXECUTE 'SELECT ' || expr INTO h USING v;
EXCEPTION WHEN others THEN
	code := SQLSTATE;
END $$ LANGUAGE plpgsql`

// compareLive hashes vals with HashTextIn(c.typ, v, loc) and compares with
// the server.
func compareLive(ctx context.Context, t *testing.T, conn *pgx.Conn, c liveCase, vals []string, loc *time.Location) {
	cast := fmt.Sprintf("pg_temp.h_%s(%%s::%s)", c.typ, c.typ)
	var okVals []string
	var ours []int32
	var rejected, unsupported, unsupportedAccepted int
	for _, v := range vals {
		h, err := catalog.HashTextIn(c.typ, v, loc)
		if err == nil {
			okVals = append(okVals, v)
			ours = append(ours, h)
			continue
		}
		rejected++
		var ie *catalog.InputError
		if !errors.As(err, &ie) {
			t.Fatalf("HashText(%s, %q): error %v is not an *InputError", c.typ, v, err)
		}
		// The server must reject it too, with the same code; literals we do
		// not parse may be anything.
		var code *string
		var sh *int32
		err = conn.QueryRow(ctx, "SELECT h, code FROM pg_temp.try($1, $2)", fmt.Sprintf(cast, "$1"), v).Scan(&sh, &code)
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			s := pe.Code
			code, err = &s, nil // the parameter itself was refused (encoding)
		}
		if err != nil {
			t.Fatal(err)
		}
		if errors.Is(ie, catalog.ErrUnsupportedSyntax) {
			unsupported++
			if code == nil {
				unsupportedAccepted++
				if testing.Verbose() {
					t.Logf("not parsed by us, accepted by the server: %s %q", c.typ, v)
				}
			}
			continue
		}
		switch {
		case code == nil:
			t.Errorf("%s %q: we fail with %s %v, the server accepts it (hash %d)", c.typ, v, ie.Code, ie, *sh)
		case *code != ie.Code:
			t.Errorf("%s %q: we fail with %s %v, the server with %s", c.typ, v, ie.Code, ie, *code)
		}
	}
	const batch = 2000
	for lo := 0; lo < len(okVals); lo += batch {
		hi := min(lo+batch, len(okVals))
		compareBatch(ctx, t, conn, c, cast, okVals[lo:hi], ours[lo:hi])
	}
	label := c.typ.String()
	if loc != nil {
		label += " in " + loc.String()
	}
	t.Logf("%s: %d literals, %d hashed equal to the server (also from binary), %d rejected as the server does, %d not parsed by us (%d of those accepted by the server)",
		label, len(vals), len(okVals), rejected-unsupported, unsupported, unsupportedAccepted)
}

// compareBatch compares one batch of accepted literals in one round trip.
func compareBatch(ctx context.Context, t *testing.T, conn *pgx.Conn, c liveCase, cast string, vals []string, ours []int32) {
	sql := fmt.Sprintf(`SELECT u.i, %s, %s(u.v::%s) FROM unnest($1::text[]) WITH ORDINALITY AS u(v, i) ORDER BY u.i`,
		fmt.Sprintf(cast, "u.v"), c.send, c.typ)
	rows, err := conn.Query(ctx, sql, vals)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for rows.Next() {
		var idx int64
		var h int32
		var bin []byte
		if err := rows.Scan(&idx, &h, &bin); err != nil {
			t.Fatal(err)
		}
		v := vals[idx-1]
		if h != ours[idx-1] {
			t.Errorf("%s %q: HashText = %d, server %s = %d", c.typ, v, ours[idx-1], c.proc, h)
		}
		if hb, err := catalog.HashBinary(c.typ, bin); err != nil || hb != h {
			t.Errorf("%s %q: HashBinary(%x) = %d, %v; server %d", c.typ, v, bin, hb, err, h)
		}
		i++
	}
	if err := rows.Err(); err != nil {
		// The server refused a literal we accepted: find which.
		for k, v := range vals {
			var code *string
			var sh *int32
			if err := conn.QueryRow(ctx, "SELECT h, code FROM pg_temp.try($1, $2)", fmt.Sprintf(cast, "$1"), v).Scan(&sh, &code); err != nil {
				t.Fatal(err)
			}
			if code != nil {
				t.Errorf("%s %q: we hash it to %d, the server rejects it with %s", c.typ, v, ours[k], *code)
			}
		}
		t.Fatalf("%s batch: %v", c.typ, err)
	}
	if i != len(vals) {
		t.Fatalf("%s batch: %d rows for %d values", c.typ, i, len(vals))
	}
}
