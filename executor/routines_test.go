package executor

import (
	"slices"
	"testing"
)

func TestForEachRelation(t *testing.T) {
	for sql, want := range map[string][]string{
		"SELECT * FROM a JOIN public.B ON true, c":              {"a", "b"},
		"SELECT 1 FROM LATERAL f(x), (SELECT 1 FROM inner_t) s": {"f", "inner_t"},
		`SELECT * FROM "Quoted" JOIN ONLY t2 USING (id)`:        {"t2"},
		"DELETE FROM x WHERE y IS DISTINCT FROM z":              {"x", "z"},
		"SELECT 1": nil,
	} {
		var got []string
		forEachRelation(sql, func(w string) bool { got = append(got, w); return true })
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", sql, got, want)
		}
	}
}

// BenchmarkNameScan measures what Session.currentFor adds to a statement
// whose names the catalog state knows: the two word scans.
func BenchmarkNameScan(b *testing.B) {
	const q = "SELECT a.id, a.Name, count(*) FROM Accounts a JOIN owners o ON o.id = a.owner WHERE lower(a.name) LIKE 'a%' GROUP BY 1, 2"
	known := map[string]bool{"accounts": true, "owners": true, "count": true, "lower": true}
	check := func(w string) bool { return known[w] || notCalls[w] }
	for b.Loop() {
		forEachCall(q, check)
		forEachRelation(q, check)
	}
}
