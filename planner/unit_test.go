package planner

import (
	"testing"

	"github.com/pgfed/pgfed/catalog"
)

// TestMentionsShardedTable checks the cheap local test: identifiers count,
// strings, comments and dollar quotes do not, quoted names keep case.
func TestMentionsShardedTable(t *testing.T) {
	p, err := testPlanner(fuzzCatalog)
	if err != nil {
		t.Fatal(err)
	}
	for sql, want := range map[string]bool{
		"SELECT * FROM orders":                      true,
		"select * from ORDERS":                      true,
		`SELECT * FROM "orders"`:                    true,
		`SELECT * FROM "Orders"`:                    false,
		"SELECT 'orders'":                           false,
		"SELECT E'\\' orders'":                      false,
		"SELECT 1 -- orders":                        false,
		"SELECT 1 /* orders /* nested */ orders */": false,
		"SELECT $$ orders $$":                       false,
		"SELECT $tag$ orders $tag$":                 false,
		"SELECT $1, orders.id FROM x":               true,
		"SELECT 'unterminated orders":               false,
		"SELECT u&'orders'":                         false,
		"SELECT 1 FROM items":                       false,
		"SELECT 1 FROM public.customers":            true,
		"SELECT 1 FROM \"unterminated":              false,
		"":                                          false,
	} {
		if got := p.mentionsShardedTable(sql); got != want {
			t.Errorf("%q: got %v, want %v", sql, got, want)
		}
	}
}

// TestPruneEval checks the prune algebra against hand-computed sets.
func TestPruneEval(t *testing.T) {
	s := func(x ...int) Prune { return Prune{Op: PruneShards, Shards: x} }
	hash := func(k int, _ catalog.Type) (int32, error) { return catalog.HashInt4(int32(k * 1000)), nil }
	for _, c := range []struct {
		p    Prune
		want []int
		all  bool
	}{
		{Prune{Op: PruneAll}, nil, true},
		{s(1, 2), []int{1, 2}, false},
		{Prune{Op: PruneAnd, Args: []Prune{s(1, 2), s(2, 3)}}, []int{2}, false},
		{Prune{Op: PruneOr, Args: []Prune{s(1), s(3)}}, []int{1, 3}, false},
		{Prune{Op: PruneOr, Args: []Prune{s(1), {Op: PruneAll}}}, nil, true},
		{Prune{Op: PruneAnd, Args: []Prune{{Op: PruneAll}, s(0)}}, []int{0}, false},
		{Prune{Op: PruneParam, Param: 1, Type: catalog.TypeInt4},
			[]int{catalog.ShardIndex(catalog.HashInt4(1000), 4)}, false},
	} {
		got, all, err := c.p.Eval(4, hash)
		if err != nil || all != c.all || len(got) != len(c.want) {
			t.Errorf("%s: got %v %v %v, want %v %v", c.p, got, all, err, c.want, c.all)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: got %v, want %v", c.p, got, c.want)
			}
		}
	}
}

// TestCacheBound checks that the cache stays within its size and that a
// nil cache caches nothing.
func TestCacheBound(t *testing.T) {
	c := NewCache(4)
	for i := 0; i < 20; i++ {
		c.put(string(rune('a'+i)), &Plan{})
		if c.Len() > 4 {
			t.Fatalf("cache holds %d plans, bound 4", c.Len())
		}
	}
	var nilCache *Cache
	nilCache.put("x", &Plan{})
	if _, ok := nilCache.get("x"); ok || nilCache.Len() != 0 {
		t.Fatal("nil cache cached")
	}
}

// TestTextFragmentFallsBack checks that a table reference the text cannot
// be cut at (ONLY t) is deparsed instead, and that the cached plan of a
// statement is shared.
func TestTextFragmentFallsBack(t *testing.T) {
	p, err := testPlanner(fuzzCatalog)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := p.Plan("SELECT * FROM ONLY orders WHERE customer_id = 1")
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.Tasks) != 1 || pl.Kind != KindRouter {
		t.Fatalf("plan:\n%s", pl)
	}
	if want := `SELECT * FROM ONLY "public"."orders_`; len(pl.Tasks[0].SQL) < len(want) || pl.Tasks[0].SQL[:len(want)] != want {
		t.Fatalf("task SQL %q", pl.Tasks[0].SQL)
	}
	p.cache = NewCache(8)
	a, _ := p.Plan("SELECT count(*) FROM orders")
	b, _ := p.Plan("SELECT count(*) FROM orders")
	if a != b {
		t.Fatal("the second planning of a text did not come from the cache")
	}
}
