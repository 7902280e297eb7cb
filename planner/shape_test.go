package planner

import (
	"strings"
	"testing"
)

// TestShapeCacheMatchesPlanning plans statements of one shape with many
// literal values through the cache and checks every plan against
// planning the text from scratch: the shape cache must never change a
// plan, only skip the parse.
func TestShapeCacheMatchesPlanning(t *testing.T) {
	cached, err := testPlanner(fuzzCatalog)
	if err != nil {
		t.Fatal(err)
	}
	cached.cache = NewCache(64)
	shapes := []string{
		"SELECT * FROM orders WHERE customer_id = %s",
		"SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.customer_id = %s AND c.id = %s",
		"SELECT * FROM orders WHERE customer_id = %s::int8 AND note = 'x'",
		"SELECT * FROM events WHERE id = %s LIMIT 5",
		"UPDATE orders SET note = 'y' WHERE customer_id = %s",
		"SELECT * FROM orders WHERE customer_id IN (%s, %s)",
		"SELECT * FROM customers WHERE name = %s AND id = 3",
		"INSERT INTO orders (customer_id, id, note) VALUES (%s, 1, %s)",
	}
	values := []string{"1", "2", "42", "'7'", "'it''s'", "5.0", "99999999999", "-3", "'abc'", "0", "12345678"}
	for _, shape := range shapes {
		for i, v := range values {
			w := values[(i+3)%len(values)]
			sql := strings.Replace(shape, "%s", v, 1)
			sql = strings.Replace(sql, "%s", w, 1)
			got, gerr := cached.Plan(sql)
			want, werr := cached.planText(sql)
			if (gerr == nil) != (werr == nil) {
				t.Fatalf("%s: cached error %v, fresh error %v", sql, gerr, werr)
			}
			if gerr == nil && got.String() != want.String() {
				t.Fatalf("%s: cached plan\n%s\nfresh plan\n%s", sql, got, want)
			}
		}
	}
}

// TestScanShape checks shape keys: equal for statements differing only in
// literals, refused for text the shape cache does not read.
func TestScanShape(t *testing.T) {
	k1, _, ok1 := scanShape("SELECT a FROM t WHERE b = 1 AND c = 'x'")
	k2, _, ok2 := scanShape("SELECT a FROM t WHERE b = 22 AND c = 'y''z'")
	if !ok1 || !ok2 || k1 != k2 {
		t.Fatalf("same shape: %q %v, %q %v", k1, ok1, k2, ok2)
	}
	if k3, _, _ := scanShape("SELECT a FROM t WHERE b = 1.5 AND c = 'x'"); k3 == k1 {
		t.Fatal("an integer and a decimal literal must not share a shape")
	}
	for _, s := range []string{"SELECT 5abc", "SELECT E'x'", "SELECT $$x$$", "SELECT 1 -- c", "SELECT 1e5", "SELECT $1"} {
		if _, _, ok := scanShape(s); ok {
			t.Errorf("%q: shape accepted", s)
		}
	}
}
