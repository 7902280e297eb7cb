package difftest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// kind is what a column holds, for choosing operators and aggregates.
type kind uint8

const (
	kInt kind = iota
	kNum
	kText
	kDate
	kBool
	kUUID  // no min or max
	kFloat // only compared and min/max'ed: float sums depend on the order of addition
)

// rcol is a column the random generator may use.
type rcol struct {
	name string
	kind kind
	lits []string // literals worth comparing it with
}

// rtable is a table the random generator may use.
type rtable struct {
	name string
	dist string // distribution column ("" for reference and local tables)
	cols []rcol
}

// rjoin is a join condition the generator may use: a.ac = b.bc. A join
// that is many-to-many on both sides is only used between two tables, so
// that results stay small.
type rjoin struct {
	a, ac, b, bc string
	many         bool
}

func ints(xs ...int) []string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return s
}

func quoted(xs ...string) []string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = "'" + strings.ReplaceAll(x, "'", "''") + "'"
	}
	return s
}

// randomSchema is the part of schema.sql the generator knows about.
var randomSchema = []rtable{
	{name: "region", cols: []rcol{{"r_regionkey", kInt, ints(0, 1, 2, 3, 4)}, {"r_name", kText, quoted("ASIA", "EUROPE", "AMERICA")}}},
	{name: "nation", cols: []rcol{{"n_nationkey", kInt, ints(0, 3, 7, 12, 24)}, {"n_name", kText, quoted("JAPAN", "FRANCE", "PERU", "ZAMBIA")}, {"n_regionkey", kInt, ints(0, 1, 2, 3, 4)}}},
	{name: "supplier", dist: "s_suppkey", cols: []rcol{{"s_suppkey", kInt, ints(1, 5, 12, 33, 40, 41)}, {"s_nationkey", kInt, ints(0, 7, 12, 24)},
		{"s_acctbal", kNum, []string{"0", "1000.50", "5000", "-10"}}, {"s_name", kText, quoted("Supplier#000000005", "Supplier#000000030")}}},
	{name: "customer", dist: "c_custkey", cols: []rcol{{"c_custkey", kInt, ints(1, 2, 3, 77, 300, 599, 600, 601)}, {"c_nationkey", kInt, ints(0, 5, 10, 24)},
		{"c_acctbal", kNum, []string{"0", "2500", "7500.25", "9000"}}, {"c_mktsegment", kText, quoted("BUILDING", "AUTOMOBILE", "MACHINERY", "RETAIL")},
		{"c_name", kText, quoted("Customer#000000010", "Customer#000000300")}}},
	{name: "part", dist: "p_partkey", cols: []rcol{{"p_partkey", kInt, ints(1, 17, 200, 399, 400)}, {"p_size", kInt, ints(1, 10, 25, 50)},
		{"p_brand", kText, quoted("Brand#11", "Brand#23", "Brand#55")}, {"p_retailprice", kNum, []string{"950", "1100", "1250.5"}},
		{"p_container", kText, quoted("SM CASE", "MED BOX", "JUMBO DRUM")}}},
	{name: "partsupp", dist: "ps_partkey", cols: []rcol{{"ps_partkey", kInt, ints(1, 17, 200, 400)}, {"ps_suppkey", kInt, ints(1, 11, 21, 31)},
		{"ps_availqty", kInt, ints(10, 5000, 9990)}, {"ps_supplycost", kNum, []string{"10", "500.5", "999"}}}},
	{name: "orders", dist: "o_orderkey", cols: []rcol{{"o_orderkey", kInt, ints(1, 2, 33, 100, 5000, 11976, 9)}, {"o_custkey", kInt, ints(1, 2, 4, 100, 598)},
		{"o_orderstatus", kText, quoted("F", "O", "P")}, {"o_totalprice", kNum, []string{"1000", "100000", "250000.5"}},
		{"o_orderdate", kDate, quoted("1992-06-30", "1995-01-01", "1997-12-31")}, {"o_orderpriority", kText, quoted("1-URGENT", "3-MEDIUM", "5-LOW")}}},
	{name: "lineitem", dist: "l_orderkey", cols: []rcol{{"l_orderkey", kInt, ints(1, 3, 33, 2000, 11976)}, {"l_partkey", kInt, ints(1, 50, 399)},
		{"l_suppkey", kInt, ints(1, 20, 40)}, {"l_linenumber", kInt, ints(1, 2, 7)}, {"l_quantity", kNum, []string{"1", "25", "49.5"}},
		{"l_extendedprice", kNum, []string{"1000", "30000", "60000"}}, {"l_discount", kNum, []string{"0", "0.05", "0.1"}},
		{"l_returnflag", kText, quoted("A", "N", "R")}, {"l_shipmode", kText, quoted("AIR", "MAIL", "TRUCK")},
		{"l_shipdate", kDate, quoted("1993-01-01", "1995-06-17", "1998-01-01")}}},
	{name: "tag_events", dist: "tag", cols: []rcol{{"tag", kText, quoted("alpha", "", "日本語", "t001", "xx", "nope")}, {"seq", kInt, ints(1, 2, 10)},
		{"label", kText, quoted("red", "", "Ωmega")}, {"amount", kNum, []string{"0", "-100", "250.25"}}, {"flag", kBool, []string{"true", "false"}},
		{"custkey", kInt, ints(1, 100, 620)}}},
	{name: "devices", dist: "device_id", cols: []rcol{{"device_id", kUUID, quoted("00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff")},
		{"owner", kInt, ints(1, 50, 300)}, {"kind", kText, quoted("sensor", "Sensor", "meter")}}},
	// devices.reading is left out: it holds both 0 and -0, which are equal,
	// so GROUP BY and DISTINCT would print whichever the plan meets first.
	{name: "sparse", dist: "id", cols: []rcol{{"id", kInt, []string{"0", "-1", "-9223372036854775808", "9223372036854775807", "12345"}},
		{"i4", kInt, ints(-2147483648, 0, 5, 2147483647)}, {"i2", kInt, ints(0, 3, 32767)}, {"num", kNum, []string{"0", "'NaN'", "'Infinity'", "10.5"}},
		{"f8", kFloat, []string{"0", "'NaN'", "'-Infinity'", "2.5"}}, {"txt", kText, quoted("", " ", "a", "é", "NULL")}, {"b", kBool, []string{"true", "false"}},
		{"d", kDate, quoted("1995-01-01", "infinity", "-infinity")}, {"okey", kInt, ints(1, 33, -5)}}},
	{name: "segment_info", cols: []rcol{{"segment", kText, quoted("BUILDING", "AUTOMOBILE", "RETAIL")}, {"weight", kInt, ints(10, 30, 50)}}},
}

var randomJoins = []rjoin{
	{"orders", "o_orderkey", "lineitem", "l_orderkey", false},
	{"orders", "o_custkey", "customer", "c_custkey", false},
	{"lineitem", "l_partkey", "part", "p_partkey", false},
	{"lineitem", "l_suppkey", "supplier", "s_suppkey", false},
	{"partsupp", "ps_partkey", "part", "p_partkey", false},
	{"partsupp", "ps_suppkey", "supplier", "s_suppkey", false},
	{"customer", "c_nationkey", "nation", "n_nationkey", false},
	{"supplier", "s_nationkey", "nation", "n_nationkey", false},
	{"nation", "n_regionkey", "region", "r_regionkey", false},
	{"tag_events", "custkey", "customer", "c_custkey", false},
	{"devices", "owner", "customer", "c_custkey", false},
	{"sparse", "okey", "orders", "o_orderkey", false},
	{"customer", "c_mktsegment", "segment_info", "segment", false},
	{"customer", "c_nationkey", "supplier", "s_nationkey", true},
	{"part", "p_size", "supplier", "s_nationkey", true},
}

// Generator makes random SELECTs over schema.sql, valid on PostgreSQL and
// deterministic in their output: a query with LIMIT orders by every output
// column (rows that tie are identical), aggregates that depend on the order
// of their input get an ORDER BY, and float columns are never summed.
type Generator struct {
	r   *rand.Rand
	n   int
	sub int // subqueries made, for their aliases
}

// NewGenerator returns a generator; the same seed gives the same queries.
func NewGenerator(seed uint64) *Generator {
	return &Generator{r: rand.New(rand.NewPCG(seed, 0x5eed))}
}

// ref is a column of a table in the FROM clause.
type ref struct {
	alias string
	table string
	col   rcol
}

func (r ref) sql() string { return r.alias + "." + r.col.name }

func table(name string) rtable {
	for _, t := range randomSchema {
		if t.name == name {
			return t
		}
	}
	panic("difftest: unknown table " + name) // the tables above are fixed
}

func (g *Generator) coin(p float64) bool { return g.r.Float64() < p }

// Next returns the next random query; File is "random" and Line its
// number.
func (g *Generator) Next() Query {
	g.n++
	from, refs := g.from()
	var where []string
	for i := g.r.IntN(4); i > 0; i-- {
		where = append(where, g.predicate(refs))
	}
	q := Query{File: randomFile, Line: g.n}
	var sel, tail []string
	distinct := ""
	if g.coin(0.5) {
		sel, tail = g.aggregate(refs)
		q.Name = "random aggregate"
	} else {
		for i := 1 + g.r.IntN(3); i > 0; i-- {
			sel = append(sel, g.expr(refs[g.r.IntN(len(refs))]))
		}
		if g.coin(0.2) {
			sel = append(sel, g.window(refs))
		}
		if g.coin(0.2) {
			distinct = "DISTINCT "
		}
		q.Name = "random scan"
	}
	if g.coin(0.6) {
		ords := make([]string, len(sel))
		for i := range sel {
			dir := ""
			if g.coin(0.3) {
				dir = " DESC"
			}
			if g.coin(0.2) {
				dir += " NULLS FIRST"
			}
			ords[i] = fmt.Sprintf("%d%s", i+1, dir)
		}
		g.r.Shuffle(len(ords), func(i, j int) { ords[i], ords[j] = ords[j], ords[i] })
		tail = append(tail, "ORDER BY "+strings.Join(ords, ", "))
		q.Ordered = true
		if g.coin(0.8) {
			tail = append(tail, fmt.Sprintf("LIMIT %d", 1+g.r.IntN(50)))
			if g.coin(0.3) {
				tail = append(tail, fmt.Sprintf("OFFSET %d", g.r.IntN(20)))
			}
		}
	}
	cols := make([]string, len(sel))
	for i, s := range sel {
		cols[i] = fmt.Sprintf("%s AS c%d", s, i+1)
	}
	sql := "SELECT " + distinct + strings.Join(cols, ", ") + " FROM " + from
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	// GROUP BY and HAVING come before ORDER BY, in tail already.
	if len(tail) > 0 {
		sql += " " + strings.Join(tail, " ")
	}
	q.SQL = sql
	q.Empty = true
	return q
}

// from picks one to three distinct tables joined along known edges.
func (g *Generator) from() (string, []ref) {
	var (
		names = []string{}
		refs  []ref
		sql   string
	)
	add := func(name string) string {
		alias := fmt.Sprintf("t%d", len(names)+1)
		names = append(names, name)
		for _, c := range table(name).cols {
			refs = append(refs, ref{alias, name, c})
		}
		return alias
	}
	first := randomSchema[g.r.IntN(len(randomSchema))].name
	sql = first + " " + add(first)
	for n := g.r.IntN(3); n > 0; n-- {
		var cands []struct {
			j        rjoin
			have     int // index of the table already in FROM
			haveSide bool
		}
		for _, j := range randomJoins {
			if slices.Contains(names, j.a) && slices.Contains(names, j.b) || j.many && len(names) > 1 {
				continue
			}
			for i, have := range names {
				if j.a == have {
					cands = append(cands, struct {
						j        rjoin
						have     int
						haveSide bool
					}{j, i, true})
				}
				if j.b == have {
					cands = append(cands, struct {
						j        rjoin
						have     int
						haveSide bool
					}{j, i, false})
				}
			}
		}
		if len(cands) == 0 {
			break
		}
		c := cands[g.r.IntN(len(cands))]
		if c.j.many {
			n = 1 // the last join
		}
		haveAlias := fmt.Sprintf("t%d", c.have+1)
		newTable, haveCol, newCol := c.j.b, c.j.ac, c.j.bc
		if !c.haveSide {
			newTable, haveCol, newCol = c.j.a, c.j.bc, c.j.ac
		}
		alias := add(newTable)
		jt := []string{"JOIN", "JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"}[g.r.IntN(5)]
		sql += fmt.Sprintf(" %s %s %s ON %s.%s = %s.%s", jt, newTable, alias, alias, newCol, haveAlias, haveCol)
	}
	return sql, refs
}

// predicate is one filter over refs.
func (g *Generator) predicate(refs []ref) string {
	r := refs[g.r.IntN(len(refs))]
	lit := func() string { return r.col.lits[g.r.IntN(len(r.col.lits))] }
	switch g.r.IntN(9) {
	case 8:
		if sub := g.subquery(r); sub != "" {
			return sub
		}
		return r.sql() + " IS NOT NULL"
	case 0:
		return r.sql() + " IS NULL"
	case 1:
		return r.sql() + " IS NOT NULL"
	case 2:
		return fmt.Sprintf("%s IN (%s, %s)", r.sql(), lit(), lit())
	case 3:
		return fmt.Sprintf("%s NOT IN (%s, %s)", r.sql(), lit(), lit())
	case 4:
		if r.col.kind == kBool {
			return "NOT " + r.sql()
		}
		return fmt.Sprintf("%s BETWEEN %s AND %s", r.sql(), lit(), lit())
	case 5:
		return fmt.Sprintf("(%s = %s OR %s)", r.sql(), lit(), g.predicate(refs))
	default:
		op := []string{"=", "<>", "<", "<=", ">", ">="}[g.r.IntN(6)]
		if r.col.kind == kBool {
			op = []string{"=", "<>", "IS DISTINCT FROM"}[g.r.IntN(3)]
		}
		return fmt.Sprintf("%s %s %s", r.sql(), op, lit())
	}
}

// subquery is a semi or anti join of r's table with a table it joins
// with (IN, NOT IN, EXISTS, NOT EXISTS), or "" when r's column joins
// nothing.
func (g *Generator) subquery(r ref) string {
	var other, otherCol string
	for _, j := range randomJoins {
		switch {
		case j.a == r.table && j.ac == r.col.name:
			other, otherCol = j.b, j.bc
		case j.b == r.table && j.bc == r.col.name:
			other, otherCol = j.a, j.ac
		default:
			continue
		}
		if g.coin(0.5) {
			break
		}
	}
	if other == "" {
		return ""
	}
	g.sub++
	alias := fmt.Sprintf("s%d", g.sub)
	// a filter inside the subquery, on its own table
	inner := ""
	if t := table(other); g.coin(0.6) {
		sub := []ref{}
		for _, c := range t.cols {
			sub = append(sub, ref{alias, other, c})
		}
		inner = g.predicate(sub)
	}
	switch g.r.IntN(4) {
	case 0, 1:
		not := ""
		if g.coin(0.4) {
			not = "NOT "
		}
		where := ""
		if inner != "" {
			where = " WHERE " + inner
		}
		limit := ""
		if g.coin(0.25) {
			// ties have equal values, so the set IN sees is determined
			limit = fmt.Sprintf(" ORDER BY 1 LIMIT %d", 1+g.r.IntN(30))
		}
		return fmt.Sprintf("%s %sIN (SELECT %s.%s FROM %s %s%s%s)", r.sql(), not, alias, otherCol, other, alias, where, limit)
	default:
		not := ""
		if g.coin(0.4) {
			not = "NOT "
		}
		where := fmt.Sprintf("%s.%s = %s", alias, otherCol, r.sql())
		if inner != "" {
			where += " AND " + inner
		}
		return fmt.Sprintf("%sEXISTS (SELECT 1 FROM %s %s WHERE %s)", not, other, alias, where)
	}
}

// window is a window function whose value does not depend on how ties are
// broken.
func (g *Generator) window(refs []ref) string {
	p := refs[g.r.IntN(len(refs))]
	o := refs[g.r.IntN(len(refs))]
	part := "PARTITION BY " + g.expr(p)
	if g.coin(0.2) {
		part = ""
	}
	switch g.r.IntN(4) {
	case 0:
		return "count(*) OVER (" + part + ")"
	case 1:
		return fmt.Sprintf("rank() OVER (%s ORDER BY %s)", part, o.sql())
	case 2:
		if o.col.kind == kInt || o.col.kind == kNum {
			return fmt.Sprintf("sum(%s) OVER (%s)", o.sql(), part)
		}
		return fmt.Sprintf("dense_rank() OVER (%s ORDER BY %s DESC)", part, o.sql())
	default:
		if o.col.kind == kBool || o.col.kind == kUUID {
			return fmt.Sprintf("count(%s) OVER (%s)", o.sql(), part)
		}
		return fmt.Sprintf("max(%s) OVER (%s)", o.sql(), part)
	}
}

// aggregate returns the select list and the GROUP BY/HAVING clauses of a
// grouped query.
func (g *Generator) aggregate(refs []ref) (sel, tail []string) {
	var keys []string
	for i := g.r.IntN(3); i > 0; i-- {
		keys = append(keys, g.expr(refs[g.r.IntN(len(refs))]))
	}
	sel = append(sel, keys...)
	n := 1 + g.r.IntN(3)
	var aggs []string
	for len(aggs) < n {
		if a := g.agg(refs, refs[g.r.IntN(len(refs))]); a != "" {
			aggs = append(aggs, a)
		}
	}
	sel = append(sel, aggs...)
	if len(keys) > 0 {
		group := keys
		if g.coin(0.2) {
			// By ordinal, and then perhaps a constant key, which only an
			// ordinal can name.
			if g.coin(0.5) {
				sel = append([]string{"'k'"}, sel...)
				keys = append(keys, "")
			}
			group = make([]string, len(keys))
			for i := range group {
				group[i] = strconv.Itoa(i + 1)
			}
		}
		tail = append(tail, "GROUP BY "+strings.Join(group, ", "))
		if g.coin(0.3) {
			tail = append(tail, fmt.Sprintf("HAVING count(*) > %d", g.r.IntN(5)))
		}
	}
	return sel, tail
}

// expr is r's column, or, one time in four, an expression of it.
func (g *Generator) expr(r ref) string {
	c := r.sql()
	if !g.coin(0.25) {
		return c
	}
	switch r.col.kind {
	case kInt:
		// numeric: the extremes of sparse overflow integer arithmetic
		return []string{"(" + c + " % 7)", "(" + c + "::numeric + 1)", "abs(" + c + "::numeric)"}[g.r.IntN(3)]
	case kNum:
		return []string{"round(" + c + ", 0)", "(" + c + " * 2)", "coalesce(" + c + ", -1)"}[g.r.IntN(3)]
	case kText:
		return []string{"lower(" + c + ")", "length(" + c + ")", "coalesce(" + c + ", 'none')", "substr(" + c + ", 1, 2)"}[g.r.IntN(4)]
	case kDate:
		return []string{"extract(year FROM " + c + ")", "(" + c + " + 1)"}[g.r.IntN(2)]
	case kBool:
		return "(" + c + " IS TRUE)"
	case kUUID:
		return "(" + c + "::text < '8')"
	}
	return c
}

// agg is an aggregate over r (or a filter over refs), or "" when none fits
// r's kind.
func (g *Generator) agg(refs []ref, r ref) string {
	c := r.sql()
	switch g.r.IntN(14) {
	case 13:
		// a row value, whose fields the shards return one by one
		return "count(DISTINCT (" + c + ", " + refs[g.r.IntN(len(refs))].sql() + "))"
	case 9:
		return "sum(CASE WHEN " + g.predicate(refs) + " THEN 1 ELSE 0 END)"
	case 10:
		return "count(*) FILTER (WHERE " + g.predicate(refs) + ")"
	case 11:
		if r.col.kind == kInt || r.col.kind == kNum {
			return "sum(" + c + "::numeric * 2)"
		}
	case 12:
		if r.col.kind == kInt || r.col.kind == kNum {
			return "max(" + c + "::numeric + 1) - min(" + c + ")"
		}
	case 0:
		return "count(*)"
	case 1:
		return "count(" + c + ")"
	case 2:
		return "count(DISTINCT " + c + ")"
	case 3:
		switch r.col.kind {
		case kBool:
			return "bool_or(" + c + ")"
		case kUUID:
			return "count(DISTINCT " + c + "::text)"
		}
		return "min(" + c + ")"
	case 4:
		switch r.col.kind {
		case kBool:
			return "bool_and(" + c + ")"
		case kUUID:
			return "min(" + c + "::text)"
		}
		return "max(" + c + ")"
	case 5:
		if r.col.kind == kInt || r.col.kind == kNum {
			return "sum(" + c + ")"
		}
	case 6:
		if r.col.kind == kInt || r.col.kind == kNum {
			return "avg(" + c + ")"
		}
	case 7:
		if r.col.kind == kText {
			return "string_agg(" + c + ", ',' ORDER BY " + c + ")"
		}
		if r.col.kind == kBool {
			return "bool_and(" + c + ")"
		}
	case 8:
		if r.col.kind == kInt && r.col.name != "id" {
			return "bit_or(" + c + ")"
		}
		return fmt.Sprintf("array_agg(%s ORDER BY %s)", c, c)
	}
	return ""
}
