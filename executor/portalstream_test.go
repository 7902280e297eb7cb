package executor

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/wire"
)

// TestPortalStream executes distributed reads with a row limit (JDBC's
// fetch size, node-postgres cursors): their rows stream from the workers
// instead of being computed in full at the first Execute, so a result
// larger than the intermediate-result limit goes out in pieces; another
// request in between settles the stream within that limit; Close and Sync
// stop it and the session goes on.
func TestPortalStream(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL servers")
	}
	c := newCluster(t)
	c.distribute(t, "CREATE TABLE ps (id bigint, v text)", "ps", "id", catalog.TypeInt8, 8, "")
	conn := c.connect(t)
	ctx := testCtx(t)
	var data strings.Builder
	const rows = 1000
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&data, "%d\tv%d\n", i, i)
	}
	if _, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(data.String()), "COPY ps FROM STDIN"); err != nil {
		t.Fatal(err)
	}

	s := newSession(t, &c.env, nil)
	simple := func(sql string) string {
		t.Helper()
		r := &recorder{}
		if err := s.SimpleQuery(ctx, sql, r); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return r.String()
	}
	portal := func(sql string) *wire.Portal {
		t.Helper()
		h, desc, err := s.Prepare(ctx, "", sql, nil)
		if err != nil {
			t.Fatal(err)
		}
		return &wire.Portal{Statement: &wire.Statement{Handle: h, Desc: desc}}
	}
	// fetch executes p with a limit of n rows and returns the ids and the
	// completion tag ("" when suspended).
	fetch := func(p *wire.Portal, n uint32) ([]int, string, error) {
		t.Helper()
		r := &recorder{}
		more, err := s.Execute(ctx, p, wire.ExecuteOptions{MaxRows: n}, r)
		var ids []int
		tag := ""
		for _, l := range r.lines {
			switch {
			case strings.HasPrefix(l, "row "):
				id, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(l, "row "), ",", 2)[0])
				ids = append(ids, id)
			case strings.HasPrefix(l, "complete "):
				tag = strings.TrimPrefix(l, "complete ")
			}
		}
		if err == nil && more == (tag != "") {
			t.Fatalf("suspended %v with tag %q", more, tag)
		}
		return ids, tag, err
	}

	// A concatenation holds no row: its result may exceed the limit. The
	// k-way merge holds the rows that arrived and are not merged yet, a
	// few batches per task (all of them, in this small table).
	for _, tc := range []struct{ sql, limit string }{
		{"SELECT id, v FROM ps", "300"},
		{"SELECT id, v FROM ps ORDER BY id", "5000"},
	} {
		q := tc.sql
		simple("SET pgfed.max_intermediate_rows = " + tc.limit)
		p := portal(q)
		var all []int
		tag := ""
		for i := 0; tag == ""; i++ {
			ids, tg, err := fetch(p, 100)
			if err != nil {
				t.Fatalf("%s: execute %d: %v", q, i, err)
			}
			if i == 0 {
				if _, ok := p.State.(*portalStream); !ok {
					t.Fatalf("%s: portal state %T, want a stream", q, p.State)
				}
			}
			if len(ids) > 100 || tg == "" && len(ids) != 100 {
				t.Fatalf("%s: execute %d gave %d rows", q, i, len(ids))
			}
			all, tag = append(all, ids...), tg
			if i > rows/100+1 {
				t.Fatalf("%s: the portal never ends", q)
			}
		}
		if len(all) != rows || tag != "SELECT "+strconv.Itoa(rows) {
			t.Fatalf("%s: %d rows, tag %q", q, len(all), tag)
		}
		seen := map[int]bool{}
		for i, id := range all {
			if seen[id] || id < 1 || id > rows {
				t.Fatalf("%s: row %d is id %d, twice or unknown", q, i, id)
			}
			seen[id] = true
			if strings.Contains(q, "ORDER BY") && id != i+1 {
				t.Fatalf("%s: row %d is id %d", q, i, id)
			}
		}
		if len(s.streams) != 0 {
			t.Fatalf("%s: %d streams left", q, len(s.streams))
		}
		if err := s.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// SQL EXECUTE of a prepared read, sent with the extended protocol:
	// its portal streams the same way.
	simple("PREPARE psq AS SELECT id, v FROM ps")
	p := portal("EXECUTE psq")
	var got []int
	for tag := ""; tag == ""; {
		ids, tg, err := fetch(p, 300)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := p.State.(*portalStream); !ok {
			t.Fatalf("EXECUTE: portal state %T, want a stream", p.State)
		}
		got, tag = append(got, ids...), tg
		if len(got) > rows {
			t.Fatalf("EXECUTE: %d rows and more", len(got))
		}
	}
	slices.Sort(got)
	if len(got) != rows || got[0] != 1 || got[rows-1] != rows || len(slices.Compact(got)) != rows {
		t.Fatalf("EXECUTE: %d rows", len(got))
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}

	// Another statement while a stream is open: the stream is settled,
	// the rest of its rows read within the limit, past which its next
	// Execute fails (after the rows that were read) with 54000.
	simple("SET pgfed.max_intermediate_rows = 300")
	p = portal("SELECT id, v FROM ps")
	if ids, _, err := fetch(p, 100); err != nil || len(ids) != 100 {
		t.Fatalf("first rows: %d %v", len(ids), err)
	}
	if got := simple("SELECT 1"); got != "describe 1; row 1; complete SELECT 1" {
		t.Fatalf("statement during a stream: %q", got)
	}
	ids, _, err := fetch(p, 0)
	if code := sqlState(err); code != "54000" || len(ids) != 300 {
		t.Fatalf("settled past the limit: %d rows, %v (%s)", len(ids), err, code)
	}
	s.Abort(ctx, err)
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// Within the limit, the settled rows all come.
	simple("SET pgfed.max_intermediate_rows = 5000")
	p = portal("SELECT id, v FROM ps ORDER BY id")
	if ids, _, err := fetch(p, 10); err != nil || len(ids) != 10 || ids[9] != 10 {
		t.Fatalf("first rows: %v %v", ids, err)
	}
	simple("SELECT 1")
	ids, tag, err := fetch(p, 0)
	if err != nil || len(ids) != rows-10 || ids[0] != 11 || tag != "SELECT "+strconv.Itoa(rows) {
		t.Fatalf("settled within the limit: %d rows, tag %q, %v", len(ids), tag, err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}

	// Close, and Sync, stop a stream; the session goes on.
	p = portal("SELECT id, v FROM ps")
	if _, _, err := fetch(p, 5); err != nil {
		t.Fatal(err)
	}
	if err := s.ClosePortal(ctx, p); err != nil || len(s.streams) != 0 {
		t.Fatalf("close: %v, %d streams left", err, len(s.streams))
	}
	p = portal("SELECT id, v FROM ps ORDER BY id")
	if _, _, err := fetch(p, 5); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err != nil || len(s.streams) != 0 {
		t.Fatalf("sync: %v, %d streams left", err, len(s.streams))
	}
	if got := simple("SELECT count(*) FROM ps"); got != "describe 1; row 1000; complete SELECT 1" {
		t.Errorf("after the streams: %q", got)
	}
}

// sqlState returns an error's SQLSTATE, or "".
func sqlState(err error) string {
	var e interface{ SQLState() string }
	if errors.As(err, &e) {
		return e.SQLState()
	}
	return ""
}
