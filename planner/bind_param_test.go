package planner

import (
	"encoding/binary"
	"testing"

	"github.com/pgfed/pgfed/catalog"
)

// TestHashBinaryAsDeclaredType: a binary parameter is read as the type the
// statement declared (psycopg 3 sends small ints as int2 for an int4 or
// int8 column), and lands on the shard its value hashes to.
func TestHashBinaryAsDeclaredType(t *testing.T) {
	v := int64(-7)
	i2 := binary.BigEndian.AppendUint16(nil, uint16(int16(v)))
	i4 := binary.BigEndian.AppendUint32(nil, uint32(int32(v)))
	i8 := binary.BigEndian.AppendUint64(nil, uint64(v))
	want, err := catalog.HashInt4(-7), error(nil)
	for _, tc := range []struct {
		col, decl catalog.Type
		b         []byte
	}{
		{catalog.TypeInt4, catalog.TypeInt2, i2},
		{catalog.TypeInt4, 0, i4},
		{catalog.TypeInt8, catalog.TypeInt2, i2},
		{catalog.TypeInt8, catalog.TypeInt4, i4},
		{catalog.TypeInt4, catalog.TypeInt8, i8},
		{catalog.TypeInt8, catalog.TypeInt8, i8},
	} {
		got, err2 := hashBinaryAs(tc.col, tc.decl, tc.b)
		if err2 != nil || got != want {
			t.Errorf("column %v, declared %v: got %d, %v; want %d, %v", tc.col, tc.decl, got, err2, want, err)
		}
	}
	// Without the declared type, a 2-byte value for an int4 column is the
	// client's mistake, reported as PostgreSQL does.
	if _, err := hashBinaryAs(catalog.TypeInt4, 0, i2); err == nil {
		t.Error("a 2-byte int4 with no declared type was accepted")
	}
}
