package difftest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Scale sets how many rows Generate makes. DefaultScale keeps the whole
// differential suite around a minute on a laptop.
type Scale struct {
	Suppliers int // partsupp has 4 suppliers per part, so at least 4
	Customers int
	Parts     int
	Orders    int // lineitem has 1 to 7 lines per order
	TagEvents int
	Devices   int
	Sparse    int
}

// DefaultScale is the scale of the differential suite.
var DefaultScale = Scale{Suppliers: 40, Customers: 600, Parts: 400, Orders: 3000, TagEvents: 1200, Devices: 600, Sparse: 1500}

// Table is one table's generated rows, each field in COPY text format
// (already escaped; `\N` is NULL).
type Table struct {
	Name    string
	Columns []string
	Rows    [][]string
}

// Copy returns the COPY ... FROM STDIN statement that loads t.
func (t Table) Copy() string {
	return fmt.Sprintf("COPY %s (%s) FROM STDIN", t.Name, strings.Join(t.Columns, ", "))
}

// CopyData returns t's rows as the data of a text-format COPY.
func (t Table) CopyData() []byte {
	var b bytes.Buffer
	for _, r := range t.Rows {
		b.WriteString(strings.Join(r, "\t"))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// null is NULL in COPY text format.
const null = `\N`

// Generate makes the rows of every table of testdata/difftest/schema.sql,
// the same for the same seed and scale, in an order that loads without
// errors (tables are independent: there are no foreign keys).
func Generate(seed uint64, sc Scale) []Table {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), sc: sc}
	ts := []Table{g.region(), g.nation(), g.supplier(), g.customer(), g.part(), g.partsupp()}
	orders, lines := g.ordersAndLines()
	return append(ts, orders, lines, g.tagEvents(), g.devices(), g.sparse(), g.segmentInfo())
}

type gen struct {
	r  *rand.Rand
	sc Scale
}

func (g *gen) intn(n int) int         { return g.r.IntN(n) }
func (g *gen) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }
func (g *gen) pick(xs []string) string {
	return xs[g.r.IntN(len(xs))]
}
func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

// money formats cents as a numeric with two decimals.
func money(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}

// esc escapes s for COPY text format.
func esc(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)
	return r.Replace(s)
}

var (
	regions = []string{"AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"}
	nations = []struct {
		name   string
		region int
	}{
		{"ALGERIA", 0}, {"ARGENTINA", 1}, {"BRAZIL", 1}, {"CANADA", 1}, {"EGYPT", 4},
		{"ETHIOPIA", 0}, {"FRANCE", 3}, {"GERMANY", 3}, {"INDIA", 2}, {"INDONESIA", 2},
		{"IRAN", 4}, {"IRAQ", 4}, {"JAPAN", 2}, {"JORDAN", 4}, {"KENYA", 0},
		{"MOROCCO", 0}, {"MOZAMBIQUE", 0}, {"PERU", 1}, {"CHINA", 2}, {"ROMANIA", 3},
		{"SAUDI ARABIA", 4}, {"VIETNAM", 2}, {"RUSSIA", 3}, {"UNITED KINGDOM", 3}, {"UNITED STATES", 1},
	}
	words = []string{"furiously", "special", "requests", "carefully", "final", "deposits", "pending",
		"accounts", "quickly", "bold", "ironic", "packages", "express", "regular", "theodolites",
		"slyly", "even", "blithely", "unusual", "foxes", "Customer", "Complaints", "Recommends", "sleep"}
	colors = []string{"almond", "antique", "aquamarine", "azure", "beige", "bisque", "black", "blue",
		"blush", "brown", "burlywood", "chartreuse", "chocolate", "coral", "cornsilk", "cream", "cyan",
		"forest", "frosted", "ghost", "green", "honeydew", "hot", "indian", "ivory", "khaki", "lace",
		"lavender", "lemon", "lime", "linen", "magenta", "maroon", "medium", "metallic", "midnight",
		"mint", "navy", "olive", "orange", "orchid", "pale", "peach", "pink", "plum", "powder", "puff",
		"purple", "red", "rose", "royal", "saddle", "salmon", "sandy", "seashell", "sienna", "sky",
		"slate", "smoke", "snow", "spring", "steel", "tan", "thistle", "tomato", "turquoise", "violet",
		"wheat", "white", "yellow"}
	typeSyl1   = []string{"STANDARD", "SMALL", "MEDIUM", "LARGE", "ECONOMY", "PROMO"}
	typeSyl2   = []string{"ANODIZED", "BURNISHED", "PLATED", "POLISHED", "BRUSHED"}
	typeSyl3   = []string{"TIN", "NICKEL", "BRASS", "STEEL", "COPPER"}
	contSyl1   = []string{"SM", "LG", "MED", "JUMBO", "WRAP"}
	contSyl2   = []string{"CASE", "BOX", "BAG", "JAR", "PKG", "PACK", "CAN", "DRUM"}
	segments   = []string{"AUTOMOBILE", "BUILDING", "FURNITURE", "MACHINERY", "HOUSEHOLD"}
	priorities = []string{"1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"}
	instructs  = []string{"DELIVER IN PERSON", "COLLECT COD", "NONE", "TAKE BACK RETURN"}
	shipmodes  = []string{"REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB"}
)

func (g *gen) comment(n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = g.pick(words)
	}
	return strings.Join(ws, " ")
}

func (g *gen) phone(nation int) string {
	return fmt.Sprintf("%d-%03d-%03d-%04d", nation+10, g.between(100, 999), g.between(100, 999), g.between(1000, 9999))
}

func (g *gen) region() Table {
	t := Table{Name: "region", Columns: []string{"r_regionkey", "r_name", "r_comment"}}
	for i, n := range regions {
		t.Rows = append(t.Rows, []string{strconv.Itoa(i), n, g.comment(5)})
	}
	return t
}

func (g *gen) nation() Table {
	t := Table{Name: "nation", Columns: []string{"n_nationkey", "n_name", "n_regionkey", "n_comment"}}
	for i, n := range nations {
		t.Rows = append(t.Rows, []string{strconv.Itoa(i), n.name, strconv.Itoa(n.region), g.comment(6)})
	}
	return t
}

func (g *gen) supplier() Table {
	t := Table{Name: "supplier", Columns: []string{"s_suppkey", "s_name", "s_address", "s_nationkey", "s_phone", "s_acctbal", "s_comment"}}
	for k := 1; k <= g.sc.Suppliers; k++ {
		nat := g.intn(len(nations))
		c := g.comment(6)
		if k%7 == 3 {
			c = "slyly Customer unusual Complaints " + c
		}
		t.Rows = append(t.Rows, []string{strconv.Itoa(k), fmt.Sprintf("Supplier#%09d", k), g.comment(2),
			strconv.Itoa(nat), g.phone(nat), money(int64(g.between(-99999, 999999))), c})
	}
	return t
}

func (g *gen) customer() Table {
	t := Table{Name: "customer", Columns: []string{"c_custkey", "c_name", "c_address", "c_nationkey", "c_phone", "c_acctbal", "c_mktsegment", "c_comment"}}
	for k := 1; k <= g.sc.Customers; k++ {
		nat := g.intn(len(nations))
		t.Rows = append(t.Rows, []string{strconv.Itoa(k), fmt.Sprintf("Customer#%09d", k), g.comment(2),
			strconv.Itoa(nat), g.phone(nat), money(int64(g.between(-99999, 999999))), g.pick(segments), g.comment(5)})
	}
	return t
}

// retailPrice is TPC-H's formula, in cents.
func retailPrice(partkey int) int64 {
	return int64(90000 + ((partkey / 10) % 20001) + 100*(partkey%1000))
}

func (g *gen) part() Table {
	t := Table{Name: "part", Columns: []string{"p_partkey", "p_name", "p_mfgr", "p_brand", "p_type", "p_size", "p_container", "p_retailprice", "p_comment"}}
	for k := 1; k <= g.sc.Parts; k++ {
		name := make([]string, 5)
		for i := range name {
			name[i] = g.pick(colors)
		}
		m := g.between(1, 5)
		t.Rows = append(t.Rows, []string{strconv.Itoa(k), strings.Join(name, " "), fmt.Sprintf("Manufacturer#%d", m),
			fmt.Sprintf("Brand#%d%d", m, g.between(1, 5)),
			g.pick(typeSyl1) + " " + g.pick(typeSyl2) + " " + g.pick(typeSyl3),
			strconv.Itoa(g.between(1, 50)), g.pick(contSyl1) + " " + g.pick(contSyl2),
			money(retailPrice(k)), g.comment(3)})
	}
	return t
}

// partSupplier is the i-th (0..3) supplier of a part, TPC-H style.
func (g *gen) partSupplier(partkey, i int) int {
	s := g.sc.Suppliers
	return (partkey+i*(s/4))%s + 1
}

func (g *gen) partsupp() Table {
	t := Table{Name: "partsupp", Columns: []string{"ps_partkey", "ps_suppkey", "ps_availqty", "ps_supplycost", "ps_comment"}}
	for k := 1; k <= g.sc.Parts; k++ {
		for i := 0; i < 4; i++ {
			t.Rows = append(t.Rows, []string{strconv.Itoa(k), strconv.Itoa(g.partSupplier(k, i)),
				strconv.Itoa(g.between(1, 9999)), money(int64(g.between(100, 100000))), g.comment(6)})
		}
	}
	return t
}

var (
	startDate = time.Date(1992, 1, 1, 0, 0, 0, 0, time.UTC)
	endDate   = time.Date(1998, 8, 2, 0, 0, 0, 0, time.UTC)
	cutoff    = time.Date(1995, 6, 17, 0, 0, 0, 0, time.UTC)
)

func day(t time.Time) string { return t.Format("2006-01-02") }

// ordersAndLines makes orders and their lineitems. Order keys
// are sparse (as in TPC-H: 8 used out of every 32).
func (g *gen) ordersAndLines() (orders, lineitem Table) {
	o := Table{Name: "orders", Columns: []string{"o_orderkey", "o_custkey", "o_orderstatus", "o_totalprice", "o_orderdate",
		"o_orderpriority", "o_clerk", "o_shippriority", "o_comment"}}
	l := Table{Name: "lineitem", Columns: []string{"l_orderkey", "l_partkey", "l_suppkey", "l_linenumber", "l_quantity",
		"l_extendedprice", "l_discount", "l_tax", "l_returnflag", "l_linestatus", "l_shipdate", "l_commitdate",
		"l_receiptdate", "l_shipinstruct", "l_shipmode", "l_comment"}}
	span := int(endDate.Sub(startDate).Hours()/24) - 151
	for i := 0; i < g.sc.Orders; i++ {
		key := (i/8)*32 + i%8 + 1
		cust := g.between(1, g.sc.Customers)
		for cust%3 == 0 { // a third of the customers never order
			cust = g.between(1, g.sc.Customers)
		}
		date := startDate.AddDate(0, 0, g.intn(span))
		var total int64
		nf, no := 0, 0
		n := g.between(1, 7)
		for ln := 1; ln <= n; ln++ {
			pk := g.between(1, g.sc.Parts)
			sk := g.partSupplier(pk, g.intn(4))
			qty := int64(g.between(1, 50))
			ext := qty * retailPrice(pk)
			disc := int64(g.between(0, 10))
			tax := int64(g.between(0, 8))
			ship := date.AddDate(0, 0, g.between(1, 121))
			commit := date.AddDate(0, 0, g.between(30, 90))
			receipt := ship.AddDate(0, 0, g.between(1, 30))
			rf := "N"
			if !receipt.After(cutoff) {
				rf = g.pick([]string{"R", "A"})
			}
			ls := "O"
			if !ship.After(cutoff) {
				ls, nf = "F", nf+1
			} else {
				no++
			}
			total += ext * (100 + tax) * (100 - disc) / 10000
			l.Rows = append(l.Rows, []string{strconv.Itoa(key), strconv.Itoa(pk), strconv.Itoa(sk), strconv.Itoa(ln),
				money(qty * 100), money(ext), money(disc), money(tax), rf, ls, day(ship), day(commit), day(receipt),
				g.pick(instructs), g.pick(shipmodes), g.comment(4)})
		}
		status := "P"
		if no == 0 {
			status = "F"
		} else if nf == 0 {
			status = "O"
		}
		com := null
		if !g.chance(0.05) {
			com = g.comment(5)
			if g.chance(0.1) {
				com = "carefully special pending requests " + com
			}
		}
		o.Rows = append(o.Rows, []string{strconv.Itoa(key), strconv.Itoa(cust), status, money(total), day(date),
			g.pick(priorities), fmt.Sprintf("Clerk#%09d", g.between(1, 100)), "0", com})
	}
	return o, l
}

var tagWords = []string{"alpha", "beta", "gamma", "delta", "Alpha", "ALPHA", "", " ", "ünïcödé", "日本語", "emoji 🎉",
	"quote'd", `back\slash`, "tab\there", "line\nbreak", "zeta", "eta", "theta", "iota", "kappa", "x", "xx", "xxx"}

func (g *gen) tagEvents() Table {
	t := Table{Name: "tag_events", Columns: []string{"tag", "seq", "label", "note", "amount", "flag", "custkey"}}
	seqs := map[string]int{}
	for i := 0; i < g.sc.TagEvents; i++ {
		tag := g.pick(tagWords)
		if g.chance(0.4) {
			tag = fmt.Sprintf("t%03d", g.intn(150))
		}
		seqs[tag]++
		label, note, amount, flag, cust := null, null, null, null, null
		if !g.chance(0.2) {
			label = esc(g.pick([]string{"red", "green", "blue", "", "Ωmega", "naïve"}))
		}
		if !g.chance(0.3) {
			note = esc(g.comment(g.between(0, 4)))
		}
		if !g.chance(0.15) {
			amount = money(int64(g.between(-50000, 50000)))
		}
		if !g.chance(0.25) {
			flag = strconv.FormatBool(g.chance(0.5))
		}
		if !g.chance(0.3) {
			cust = strconv.Itoa(g.between(1, g.sc.Customers+50)) // some match no customer
		}
		t.Rows = append(t.Rows, []string{esc(tag), strconv.Itoa(seqs[tag]), label, note, amount, flag, cust})
	}
	return t
}

func (g *gen) uuid() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(g.r.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

var kinds = []string{"sensor", "meter", "gateway", "camera", "Sensor"}

func (g *gen) devices() Table {
	t := Table{Name: "devices", Columns: []string{"device_id", "owner", "kind", "reading", "registered", "tags", "meta"}}
	edge := []string{"NaN", "Infinity", "-Infinity", "-0", "0", "1e308", "-1e-307"}
	fixed := []string{"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"}
	for i := 0; i < g.sc.Devices; i++ {
		id := g.uuid()
		if i < len(fixed) {
			id = fixed[i]
		}
		owner, reading, reg, tags, meta := null, null, null, null, null
		if !g.chance(0.2) {
			owner = strconv.Itoa(g.between(1, g.sc.Customers))
		}
		switch {
		case i < len(edge):
			reading = edge[i]
		case !g.chance(0.1):
			reading = strconv.FormatFloat(float64(g.between(-100000, 100000))/128, 'g', -1, 64)
		}
		if !g.chance(0.1) {
			reg = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(g.r.Int64N(3*365*24*3600)) * time.Second).
				Add(time.Duration(g.intn(1000000)) * time.Microsecond).Format("2006-01-02 15:04:05.999999Z07:00")
		}
		if !g.chance(0.3) {
			n := g.between(0, 3)
			ts := make([]string, n)
			for j := range ts {
				ts[j] = g.pick([]string{"indoor", "outdoor", "battery", "mains", "beta"})
			}
			tags = "{" + strings.Join(ts, ",") + "}"
		}
		if !g.chance(0.3) {
			meta = fmt.Sprintf(`{"fw": "%d.%d", "ok": %t, "zone": %d}`, g.between(1, 3), g.between(0, 9), g.chance(0.7), g.between(1, 6))
		}
		t.Rows = append(t.Rows, []string{id, owner, g.pick(kinds), reading, reg, tags, meta})
	}
	return t
}

func (g *gen) sparse() Table {
	t := Table{Name: "sparse", Columns: []string{"id", "i4", "i2", "i8", "num", "f8", "txt", "b", "ts", "d", "okey"}}
	ids := []int64{-9223372036854775808, 9223372036854775807, 0, -1, 1}
	i4s := []string{"-2147483648", "2147483647", "0", "-1"}
	i2s := []string{"-32768", "32767", "0"}
	i8s := []string{"-9223372036854775808", "9223372036854775807", "0"}
	// Edge values never equal a random value of the same column with
	// another spelling (0 and 0.000, -0 and 0), which would make DISTINCT
	// and GROUP BY print whichever the plan meets first.
	nums := []string{"NaN", "Infinity", "-Infinity", "-0.000000000000000001", "123456789012345678901234567890.123456789", "1e-20", "99999.99995"}
	f8s := []string{"NaN", "Infinity", "-Infinity", "1e300", "-1e-300", "0.1"}
	txts := []string{"", " ", "  ", "a", "A", "é", "e\u0301", "日本", "🎉", "it's", `back\slash`, "tab\there", "NULL", "null", "\\N"}
	tss := []string{"infinity", "-infinity", "0001-01-01 00:00:00 BC", "1999-12-31 23:59:59.999999", "2000-01-01 00:00:00", "2038-01-19 03:14:08", "1970-01-01 00:00:00"}
	ds := []string{"infinity", "-infinity", "2000-02-29", "1900-01-01", "4713-01-01 BC"}
	used := map[int64]bool{}
	for i := 0; i < g.sc.Sparse; i++ {
		var id int64
		if i < len(ids) {
			id = ids[i]
		} else {
			for id = 0; used[id]; {
				id = g.r.Int64N(1<<40) - 1<<39
			}
		}
		used[id] = true
		row := []string{strconv.FormatInt(id, 10), null, null, null, null, null, null, null, null, null, null}
		fill := func(col int, p float64, v func() string) {
			if g.chance(p) {
				row[col] = v()
			}
		}
		fill(1, 0.5, func() string {
			if g.chance(0.1) {
				return g.pick(i4s)
			}
			return strconv.Itoa(g.between(-20, 20))
		})
		fill(2, 0.4, func() string {
			if g.chance(0.1) {
				return g.pick(i2s)
			}
			return strconv.Itoa(g.between(0, 9))
		})
		fill(3, 0.4, func() string {
			if g.chance(0.1) {
				return g.pick(i8s)
			}
			return strconv.FormatInt(g.r.Int64N(1<<50)-1<<49, 10)
		})
		fill(4, 0.4, func() string {
			if g.chance(0.2) {
				return g.pick(nums)
			}
			return fmt.Sprintf("%d.%03d", g.between(-999, 999), g.intn(1000))
		})
		fill(5, 0.4, func() string {
			if g.chance(0.2) {
				return g.pick(f8s)
			}
			return strconv.FormatFloat(float64(g.between(-4000, 4000))/16, 'g', -1, 64)
		})
		fill(6, 0.5, func() string { return esc(g.pick(txts)) })
		fill(7, 0.5, func() string { return strconv.FormatBool(g.chance(0.5)) })
		fill(8, 0.4, func() string {
			if g.chance(0.2) {
				return g.pick(tss)
			}
			return time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(g.r.Int64N(40*365*24*3600)) * time.Second).Format("2006-01-02 15:04:05")
		})
		fill(9, 0.4, func() string {
			if g.chance(0.2) {
				return g.pick(ds)
			}
			return day(startDate.AddDate(0, 0, g.intn(3000)))
		})
		fill(10, 0.35, func() string {
			if g.chance(0.2) {
				return strconv.Itoa(-g.between(1, 100)) // matches no order
			}
			k := g.intn(g.sc.Orders)
			return strconv.Itoa((k/8)*32 + k%8 + 1)
		})
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (g *gen) segmentInfo() Table {
	t := Table{Name: "segment_info", Columns: []string{"segment", "weight", "description"}}
	// BUILDING is missing (customers with no info); RETAIL has no customers.
	for i, s := range []string{"AUTOMOBILE", "FURNITURE", "MACHINERY", "HOUSEHOLD", "RETAIL"} {
		d := null
		if i != 2 {
			d = strings.ToLower(s) + " buyers"
		}
		t.Rows = append(t.Rows, []string{s, strconv.Itoa((i + 1) * 10), d})
	}
	return t
}
