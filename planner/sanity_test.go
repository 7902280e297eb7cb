//go:build sanity

package planner

// TestSanity is an opt-in check (go test -tags sanity ./planner/) that runs
// plans against a real PostgreSQL with a miniature executor: the shard
// tables, the shells and the local tables of a coordinator live in one
// database ("coord", every task runs there), all rows in another
// ("oracle"); every query must give the same rows, column names and column
// types both ways. The executor's differential suite supersedes it; it is
// kept as an executable reading of doc.go's contract.

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/executor/pgcluster"
)

// This throwaway check runs plans against a real PostgreSQL holding the
// shards, the shells and the local tables of a coordinator in one
// database, with a miniature executor, and compares with an oracle
// database holding all rows.

func connect(t *testing.T, srv *pgcluster.Server, db string) *pgx.Conn {
	cfg, err := pgx.ParseConfig(srv.ConnString(db))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	c, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func exec(t *testing.T, c *pgx.Conn, sql string) {
	if _, err := c.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

type result struct {
	rows  [][]*string
	oids  []uint32
	names []string
}

func sqlQuery(c *pgx.Conn, sql string, args ...any) (result, error) {
	rows, err := c.Query(context.Background(), sql, args...)
	if err != nil {
		return result{}, err
	}
	defer rows.Close()
	var r result
	for _, f := range rows.FieldDescriptions() {
		r.oids = append(r.oids, f.DataTypeOID)
		r.names = append(r.names, f.Name)
	}
	for rows.Next() {
		var row []*string
		for _, v := range rows.RawValues() {
			if v == nil {
				row = append(row, nil)
			} else {
				s := string(v)
				row = append(row, &s)
			}
		}
		r.rows = append(r.rows, row)
	}
	return r, rows.Err()
}

func lit(s *string) string {
	if s == nil {
		return "NULL"
	}
	return "'" + strings.ReplaceAll(*s, "'", "''") + "'"
}

func load(c *pgx.Conn, name string, cols []string, r result) error {
	var defs []string
	for i, col := range cols {
		var typ string
		if i >= len(r.oids) {
			return fmt.Errorf("load %s: %d columns, %d in rows", name, len(cols), len(r.oids))
		}
		if err := c.QueryRow(context.Background(), "SELECT format_type("+strconv.Itoa(int(r.oids[i]))+", NULL)").Scan(&typ); err != nil {
			return err
		}
		defs = append(defs, col+" "+typ)
	}
	if _, err := c.Exec(context.Background(), "CREATE TEMP TABLE "+name+" ("+strings.Join(defs, ", ")+")"); err != nil {
		return err
	}
	for _, row := range r.rows {
		var vals []string
		for _, v := range row {
			vals = append(vals, lit(v))
		}
		if _, err := c.Exec(context.Background(), "INSERT INTO "+name+" VALUES ("+strings.Join(vals, ", ")+")"); err != nil {
			return err
		}
	}
	return nil
}

// mapArgs maps statement parameters through a plan's mapping.
func mapArgs(args []any, mapping []int) []any {
	if mapping == nil {
		return args
	}
	out := make([]any, len(mapping))
	for i, m := range mapping {
		out[i] = args[m-1]
	}
	return out
}

func boundValue(b *Bound, args []any) int {
	if b.Param > 0 {
		n, _ := strconv.Atoi(fmt.Sprint(args[b.Param-1]))
		return n
	}
	return int(b.Value)
}

func runPlan(c *pgx.Conn, pl *Plan, temps *[]string, args []any) (result, error) {
	for _, s := range pl.Subplans {
		r, err := runPlan(c, s.Plan, temps, args)
		if err != nil {
			return result{}, err
		}
		if err := load(c, s.Result, s.Columns, r); err != nil {
			return result{}, err
		}
		*temps = append(*temps, s.Result)
	}
	switch pl.Kind {
	case KindLocal:
		return sqlQuery(c, pl.SQL, args...)
	case KindCoordinator:
		return sqlQuery(c, pl.Merge.SQL, mapArgs(args, pl.Merge.Params)...)
	}
	var all result
	for i, tk := range pl.Tasks {
		r, err := sqlQuery(c, tk.SQL, mapArgs(args, tk.Params)...)
		if err != nil {
			return result{}, fmt.Errorf("task %d: %w", i, err)
		}
		all.oids, all.names = r.oids, r.names
		all.rows = append(all.rows, r.rows...)
	}
	if pl.Kind == KindRouter {
		return all, nil
	}
	switch pl.Merge.Kind {
	case MergeCombine:
		if err := load(c, pl.Merge.Result, pl.Merge.Columns, all); err != nil {
			return result{}, err
		}
		*temps = append(*temps, pl.Merge.Result)
		return sqlQuery(c, pl.Merge.SQL, mapArgs(args, pl.Merge.Params)...)
	case MergeSort:
		slices.SortStableFunc(all.rows, func(a, b []*string) int {
			for _, k := range pl.Merge.Keys {
				x, y := a[k.Column-1], b[k.Column-1]
				var c int
				switch {
				case x == nil && y == nil:
				case x == nil:
					c = 1
					if k.NullsFirst {
						c = -1
					}
				case y == nil:
					c = -1
					if k.NullsFirst {
						c = 1
					}
				default:
					fx, _ := strconv.ParseFloat(*x, 64)
					fy, _ := strconv.ParseFloat(*y, 64)
					if fx < fy {
						c = -1
					} else if fx > fy {
						c = 1
					}
					if k.Desc {
						c = -c
					}
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
	}
	if pl.Merge.Offset != nil {
		n := boundValue(pl.Merge.Offset, args)
		all.rows = all.rows[min(n, len(all.rows)):]
	}
	if pl.Merge.Limit != nil {
		all.rows = all.rows[:min(boundValue(pl.Merge.Limit, args), len(all.rows))]
	}
	if pl.Merge.Output > 0 {
		for i := range all.rows {
			all.rows[i] = all.rows[i][:pl.Merge.Output]
		}
		all.oids, all.names = all.oids[:pl.Merge.Output], all.names[:pl.Merge.Output]
	}
	return all, nil
}

func rowStrings(r result, sorted bool) []string {
	var out []string
	for _, row := range r.rows {
		var parts []string
		for _, v := range row {
			if v == nil {
				parts = append(parts, "NULL")
			} else {
				parts = append(parts, *v)
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if sorted {
		slices.Sort(out)
	}
	return out
}

var sanityQueries = []string{
	"SELECT * FROM orders WHERE customer_id = 3",
	"SELECT id, amount FROM orders WHERE amount > 10",
	"SELECT * FROM orders WHERE customer_id IN (1, 2, 7)",
	"SELECT id, amount FROM orders ORDER BY amount DESC NULLS LAST, id LIMIT 10 OFFSET 5",
	"SELECT note FROM orders ORDER BY id LIMIT 3",
	"SELECT id, note FROM orders ORDER BY note, id LIMIT 7",
	"SELECT note, count(*), sum(qty), avg(amount), max(id), min(amount) FROM orders GROUP BY note HAVING count(*) > 1 ORDER BY 2 DESC, 1",
	"SELECT customer_id, sum(amount) FROM orders GROUP BY customer_id HAVING sum(amount) > 100 ORDER BY customer_id LIMIT 5",
	"SELECT count(DISTINCT note), count(*), count(note) FROM orders",
	"SELECT count(DISTINCT customer_id) FROM orders",
	"SELECT count(*), sum(amount), avg(qty), bool_and(qty > 0), bit_or(qty) FROM orders",
	"SELECT count(*), sum(amount) FROM orders WHERE customer_id = 1 AND customer_id = 2",
	"SELECT note, array_length(array_agg(id), 1), json_array_length(json_agg(amount)) FROM orders GROUP BY note",
	"SELECT note, count(*) FROM orders GROUP BY note ORDER BY note LIMIT 3",
	"SELECT c.name, sum(o.amount) FROM customers c JOIN orders o ON o.customer_id = c.id JOIN countries k ON k.code = o.note GROUP BY c.name",
	"SELECT DISTINCT note FROM orders",
	"SELECT id, rank() OVER (PARTITION BY customer_id ORDER BY amount, id) FROM orders",
	"SELECT DISTINCT ON (note) note, id FROM orders ORDER BY note, id DESC",
	"SELECT o.customer_id, count(*) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY o.customer_id",
	"SELECT id, row_number() OVER (ORDER BY amount, id) FROM orders",
	"SELECT count(*) FILTER (WHERE qty > 1), avg(DISTINCT qty) FROM orders WHERE note <> 'x'",
	"SELECT note, length(string_agg(note, ',')) FROM orders GROUP BY note",
	"SELECT round(stddev(amount), 6) FROM orders",
	"SELECT * FROM orders ORDER BY id LIMIT 2",
	"SELECT o.id, e.kind FROM orders o JOIN events e ON e.customer_id = o.customer_id WHERE o.amount > 5 AND e.kind = 'click'",
	"SELECT o.id, i.x FROM orders o JOIN items i ON i.id = o.id WHERE o.customer_id IN (1, 2)",
	"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r JOIN orders o ON o.id = r.n",
	"SELECT note, count(*) FROM orders GROUP BY ROLLUP (note)",
	"SELECT id FROM orders o WHERE amount > (SELECT avg(amount) FROM orders i WHERE i.note = o.note)",
	"SELECT id FROM orders WHERE customer_id = 1 UNION SELECT id FROM events",
	"SELECT * FROM countries c LEFT JOIN orders o ON o.note = c.code",
	"WITH top AS (SELECT customer_id, sum(amount) AS total FROM orders GROUP BY note, customer_id) SELECT e.kind, t.total FROM top t JOIN events e ON e.customer_id = t.customer_id WHERE e.kind = 'buy'",
	"SELECT s.note, s.n, i.x FROM (SELECT note, count(*) AS n FROM orders GROUP BY note) s JOIN items i ON i.x = s.note",
	"SELECT c.name, o.amount FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.id = 4",
	"SELECT * FROM customers c WHERE c.id = 3 AND EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)",
	"SELECT * FROM countries WHERE code = 'fr'",
	"SELECT note, qty, count(*) FROM orders GROUP BY note, qty ORDER BY note, qty LIMIT 3",
	"SELECT note, count(*) AS n FROM orders GROUP BY note ORDER BY n DESC, note LIMIT 3",
	"SELECT * FROM orders o1 JOIN orders o2 ON o1.customer_id = o2.customer_id WHERE o1.id < 5",
	"SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.name LIKE 'c1%'",
	"SELECT upper(note), count(*) FROM orders GROUP BY note",
	"SELECT note AS n, count(*) FROM orders GROUP BY n ORDER BY n",
	"SELECT (SELECT count(*) FROM orders)",
	"SELECT customer_id, count(*) FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE name = 'c3') GROUP BY 1",
	"SELECT sum(qty) FROM orders WHERE note IN (SELECT code FROM countries)",
	"SELECT max(amount) - min(amount), count(*) + 1 FROM orders GROUP BY qty",
	"SELECT qty, avg(amount)::numeric(10,2) FROM orders GROUP BY qty ORDER BY qty",
	"SELECT * FROM orders WHERE customer_id = 5 OR customer_id = 6 ORDER BY id",
	"SELECT e.kind, count(*) FROM events e JOIN countries k ON k.code = e.kind GROUP BY e.kind",
	"SELECT id FROM events ORDER BY id DESC LIMIT 5",
	"SELECT count(*) FROM events WHERE id = 7",
	"SELECT o.*, c.name FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE o.id = 10",
	"SELECT count(*) FROM orders WHERE false",
	"SELECT sum(qty), avg(qty), sum(customer_id), avg(customer_id), min(note), max(note) FROM orders",
	"SELECT note, sum(qty) FROM orders GROUP BY note ORDER BY sum(qty) DESC NULLS FIRST, note",
	"SELECT id, note FROM orders ORDER BY note DESC NULLS FIRST, id LIMIT 9",
	"SELECT count(*) FROM orders WHERE customer_id IN (3, 4) AND note IS NULL",
	"SELECT amount::int AS a, count(*) FROM orders GROUP BY 1 ORDER BY 1 LIMIT 4",
	"SELECT c.id, count(o.id) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id ORDER BY 2 DESC, 1 LIMIT 5",
	"SELECT id FROM orders WHERE customer_id = 3 ORDER BY id LIMIT 2 OFFSET 1",
	"SELECT DISTINCT customer_id FROM orders ORDER BY 1 LIMIT 4",
	"SELECT count(*) FROM (SELECT DISTINCT note, qty FROM orders) s",
	"SELECT jsonb_array_length(jsonb_agg(id)) FROM orders WHERE note = 'a'",
	"SELECT every(qty < 5), bool_or(qty = 5), bit_and(qty), bit_xor(qty) FROM orders GROUP BY note",
	"SELECT 1 FROM orders HAVING count(*) > 0",
	"SELECT EXISTS (SELECT 1 FROM orders WHERE customer_id = 3)",
	"SELECT c.name FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.amount > 5)",
	"SELECT c.id, (SELECT sum(amount) FROM orders o WHERE o.customer_id = c.id) FROM customers c",
	"SELECT count(*) FROM orders WHERE customer_id NOT IN (SELECT id FROM customers)",
	"SELECT c.id, (SELECT max(e.id) FROM events e WHERE e.customer_id = c.id) FROM customers c",
	"SELECT (SELECT count(*) FROM events e WHERE e.kind = o.note), o.id FROM orders o WHERE o.qty = 2",
	"SELECT (SELECT count(*) FROM orders) AS n, (SELECT max(id) FROM events)",
	"SELECT id FROM orders WHERE amount > 3 AND customer_id IN (SELECT customer_id FROM events WHERE kind = 'buy')",
	"SELECT * FROM (SELECT * FROM orders) s WHERE customer_id = 3",
	"SELECT s.k, count(*) FROM (SELECT e.kind AS k FROM events e JOIN orders o ON o.id = e.id) s GROUP BY s.k",
	"SELECT note FROM orders INTERSECT SELECT kind FROM events",
	"SELECT kind, count(*) FROM events GROUP BY CUBE (kind)",
	"SELECT o.id FROM orders o, LATERAL (SELECT count(*) AS n FROM events e WHERE e.customer_id = o.customer_id) x WHERE x.n > 3",
}

func sanitySetup(t *testing.T) (*Planner, *pgx.Conn, *pgx.Conn) {
	p, err := testPlanner(fuzzCatalog)
	if err != nil {
		t.Fatal(err)
	}
	srv := pgcluster.StartForTest(t, pgcluster.ServerSpec{Name: "sanity"})[0]
	admin := connect(t, srv, "postgres")
	for _, db := range []string{"oracle", "coord"} {
		exec(t, admin, "DROP DATABASE IF EXISTS "+db)
		exec(t, admin, "CREATE DATABASE "+db)
	}
	oracle, coord := connect(t, srv, "oracle"), connect(t, srv, "coord")
	for _, r := range p.schema.tables {
		var cols []string
		for _, c := range r.Columns {
			cols = append(cols, c.Name+" "+c.Type.String())
		}
		ddl := "CREATE TABLE " + r.Relation.Name + " (" + strings.Join(cols, ", ") + ")"
		exec(t, oracle, ddl)
		exec(t, coord, ddl)
		for _, sh := range p.shards[r.Relation] {
			exec(t, coord, "CREATE TABLE "+sh.QualifiedName()+" (LIKE "+r.Relation.Name+")")
		}
	}
	rnd := rand.New(rand.NewSource(1))
	notes := []string{"'a'", "'b'", "'c'", "NULL", "'x'", "'fr'"}
	insert := func(table string, distVal int64, typ catalog.Type, vals string) {
		exec(t, oracle, "INSERT INTO "+table+" VALUES ("+vals+")")
		rn := catalog.RelationName{Schema: "public", Name: table}
		target := table
		if t2, ok := p.cat.Table("public", table); ok {
			if t2.Method == catalog.MethodReference {
				target = p.shards[rn][0].QualifiedName()
			} else {
				h, _ := catalog.HashText(typ, strconv.FormatInt(distVal, 10))
				sh, _ := p.cat.ShardForHash(rn, h)
				target = sh.QualifiedName()
			}
		}
		exec(t, coord, "INSERT INTO "+target+" VALUES ("+vals+")")
	}
	for i := 1; i <= 300; i++ {
		cid := int64(rnd.Intn(20) + 1)
		amount := "NULL"
		if rnd.Intn(10) > 0 {
			amount = strconv.Itoa(rnd.Intn(100)) + "." + strconv.Itoa(rnd.Intn(100))
		}
		insert("orders", cid, catalog.TypeInt8, fmt.Sprintf("%d, %d, %s, %s, %d", cid, i, amount, notes[rnd.Intn(len(notes))], rnd.Intn(6)))
	}
	for i := 1; i <= 25; i++ {
		insert("customers", int64(i), catalog.TypeInt8, fmt.Sprintf("%d, 'c%d'", i, i))
	}
	for i := 1; i <= 100; i++ {
		kinds := []string{"'buy'", "'click'", "'a'"}
		insert("events", int64(i), catalog.TypeInt4, fmt.Sprintf("%d, %s, %d", i, kinds[rnd.Intn(3)], rnd.Intn(20)+1))
	}
	for _, c := range []string{"a", "b", "c", "fr"} {
		insert("countries", 0, 0, fmt.Sprintf("'%s', 'name %s'", c, c))
	}
	for i := 1; i <= 50; i++ {
		insert("items", 0, 0, fmt.Sprintf("%d, %s", i, notes[rnd.Intn(len(notes))]))
	}
	return p, oracle, coord
}

func TestSanity(t *testing.T) {
	p, oracle, coord := sanitySetup(t)
	for _, sql := range sanityQueries {
		want, err := sqlQuery(oracle, sql)
		if err != nil {
			t.Errorf("oracle %s: %v", sql, err)
			continue
		}
		pl, err := p.Plan(sql)
		if err != nil {
			t.Errorf("plan %s: %v", sql, err)
			continue
		}
		var temps []string
		got, err := runPlan(coord, pl, &temps, nil)
		for _, tmp := range temps {
			exec(t, coord, "DROP TABLE IF EXISTS "+tmp)
		}
		if err != nil {
			t.Errorf("run %s: %v\n%s", sql, err, pl)
			continue
		}
		ordered := strings.Contains(sql, "ORDER BY") && !strings.Contains(sql, "OVER")
		w, g := rowStrings(want, !ordered), rowStrings(got, !ordered)
		if len(got.oids) > 0 && (!slices.Equal(want.oids, got.oids) || !slices.Equal(want.names, got.names)) {
			t.Errorf("%s: columns differ: want %v %v, got %v %v", sql, want.names, want.oids, got.names, got.oids)
		}
		if !slices.Equal(w, g) {
			t.Errorf("%s: rows differ\nwant %d: %v\ngot %d: %v\n%s", sql, len(w), head(w), len(g), head(g), pl)
		}
	}
}

var paramQueries = []struct {
	sql  string
	args []string
}{
	{"SELECT * FROM orders WHERE customer_id = $1", []string{"3"}},
	{"SELECT * FROM orders WHERE customer_id = $1 OR customer_id = $2", []string{"3", "4"}},
	{"SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.customer_id = $1", []string{"7"}},
	{"SELECT note, count(*) FROM orders WHERE qty > $2 GROUP BY note HAVING count(*) > $1 ORDER BY 1 LIMIT $3", []string{"2", "1", "3"}},
	{"SELECT id FROM orders WHERE amount > $1 ORDER BY id LIMIT $2 OFFSET $3", []string{"10", "5", "2"}},
	{"SELECT o.id, e.kind FROM orders o JOIN events e ON e.customer_id = o.customer_id WHERE e.kind = $1 AND o.customer_id = $2", []string{"buy", "3"}},
	{"SELECT count(*) FROM orders WHERE customer_id IN ($1, $2) AND qty < $3", []string{"1", "2", "4"}},
}

// TestSanityParams runs prepared plans bound to parameter values.
func TestSanityParams(t *testing.T) {
	p, oracle, coord := sanitySetup(t)
	for _, q := range paramQueries {
		var args []any
		var vals []Param
		for _, a := range q.args {
			args = append(args, a)
			vals = append(vals, Param{Value: []byte(a)})
		}
		want, err := sqlQuery(oracle, q.sql, args...)
		if err != nil {
			t.Errorf("oracle %s: %v", q.sql, err)
			continue
		}
		pl, err := p.Plan(q.sql)
		if err != nil {
			t.Errorf("plan %s: %v", q.sql, err)
			continue
		}
		b, err := pl.Bind(vals)
		if err != nil {
			t.Errorf("bind %s: %v", q.sql, err)
			continue
		}
		var temps []string
		got, err := runPlan(coord, b, &temps, args)
		for _, tmp := range temps {
			exec(t, coord, "DROP TABLE IF EXISTS "+tmp)
		}
		if err != nil {
			t.Errorf("run %s: %v\n%s", q.sql, err, b)
			continue
		}
		ordered := strings.Contains(q.sql, "ORDER BY")
		if w, g := rowStrings(want, !ordered), rowStrings(got, !ordered); !slices.Equal(w, g) {
			t.Errorf("%s: rows differ\nwant %d: %v\ngot %d: %v\n%s", q.sql, len(w), head(w), len(g), head(g), b)
		}
	}
}

func head(s []string) []string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}
