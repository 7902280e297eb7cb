package executor

import (
	"sort"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgfed/pgfed/catalog"
)

// TestCompareValuesOrdersAsPostgreSQL sorts text values of each mergeable
// type with the k-way merge's comparison and checks PostgreSQL's order.
func TestCompareValuesOrdersAsPostgreSQL(t *testing.T) {
	m := pgtype.NewMap()
	for _, tc := range []struct {
		typ  catalog.Type
		want []string // ascending
	}{
		{catalog.TypeNumeric, []string{"-Infinity", "-1000.5", "-2", "0", "0.001", "0.01", "2", "10.00", "173.50", "1330.25", "99999999999999999999.1", "Infinity", "NaN"}},
		{catalog.TypeInt8, []string{"-9223372036854775808", "-1", "0", "7", "9223372036854775807"}},
		{catalog.TypeFloat8, []string{"-Infinity", "-1.5", "0", "1e-05", "3.25", "Infinity", "NaN"}},
		{catalog.TypeDate, []string{"-infinity", "1999-12-31", "2000-01-01", "2024-02-29", "infinity"}},
		{catalog.TypeTimestamptz, []string{"2024-01-01 00:00:00+02", "2024-01-01 00:00:00+00", "2024-01-01 01:00:01+01"}},
		{catalog.TypeBool, []string{"f", "t"}},
		{catalog.TypeUUID, []string{"00000000-0000-0000-0000-000000000001", "a0000000-0000-0000-0000-000000000000", "ffffffff-0000-0000-0000-000000000000"}},
	} {
		d := keyDecoder{typ: tc.typ, m: m}
		vals := make([]sortValue, len(tc.want))
		idx := make([]int, len(tc.want))
		for i := range tc.want {
			// Decode in reverse so that sorting has work to do.
			v, err := d.decode([]byte(tc.want[len(tc.want)-1-i]))
			if err != nil {
				t.Fatalf("%v %q: %v", tc.typ, tc.want[len(tc.want)-1-i], err)
			}
			vals[i], idx[i] = v, len(tc.want)-1-i
		}
		order := make([]int, len(vals))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return compareValues(tc.typ, vals[order[a]], vals[order[b]]) < 0 })
		for pos, i := range order {
			if got := tc.want[idx[i]]; got != tc.want[pos] {
				t.Errorf("%v: position %d has %q, want %q", tc.typ, pos, got, tc.want[pos])
			}
		}
	}
}
