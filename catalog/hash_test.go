package catalog

import (
	"math"
	"testing"
)

// TestCitusVectors checks the worker_hash values Citus documents.
func TestCitusVectors(t *testing.T) {
	if got := HashInt4(123); got != -205084363 {
		t.Errorf("worker_hash(123) = %d, want -205084363", got)
	}
	if got := HashInt4(3); got != -28094569 {
		t.Errorf("worker_hash(3) = %d, want -28094569", got)
	}
	// '1997-08-08'::date is day -876 counted from 2000-01-01.
	if got := HashDate(-876); got != -499701663 {
		t.Errorf("worker_hash('1997-08-08'::date) = %d, want -499701663", got)
	}
}

// TestKnownVectors checks values computed by a PostgreSQL 15 server.
func TestKnownVectors(t *testing.T) {
	cases := []struct {
		name      string
		got, want int32
	}{
		{"hashint8(123)", HashInt8(123), -205084363},
		{"hashtext('abc')", HashString("abc"), -785388649},
		{"hashtext('')", HashString(""), -1477818771},
		{"hashtext('abc..z')", HashString("abcdefghijklmnopqrstuvwxyz"), 167831483},
		{"hashfloat8('nan')", HashFloat8(math.NaN()), -1275764840},
		{"hashfloat8(1.5)", HashFloat8(1.5), 630860146},
		{"hashfloat8(-0)", HashFloat8(math.Copysign(0, -1)), 0},
		{"hashchar('a')", HashUint32('a'), 463612535},
		{"hashint4(1)", HashInt4(1), -1905060026},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

// TestInt8FoldsLikeInt4 checks hashint8's rule that an int8 hashes like the
// int4 of the same value.
func TestInt8FoldsLikeInt4(t *testing.T) {
	for _, v := range []int32{0, 1, -1, 123, -123, math.MaxInt32, math.MinInt32} {
		if HashInt8(int64(v)) != HashInt4(v) || HashInt2(int16(v)) != HashInt4(int32(int16(v))) {
			t.Errorf("int widths disagree for %d", v)
		}
	}
}
