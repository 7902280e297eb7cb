package catalog

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zone rules, even where the system has none
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

// TestTypeNames checks Type's names and lookups.
func TestTypeNames(t *testing.T) {
	if TypeInt4.String() != "int4" || TypeTimestamptz.SQLName() != "timestamp with time zone" || Type(9999).String() != "type 9999" {
		t.Errorf("names: %s %s %s", TypeInt4, TypeTimestamptz.SQLName(), Type(9999))
	}
	for name, want := range map[string]Type{"int4": TypeInt4, "INTEGER": TypeInt4, " character  varying ": TypeVarchar,
		"uuid": TypeUUID, "double precision": TypeFloat8, "decimal": TypeNumeric} {
		if got, ok := TypeByName(name); !ok || got != want {
			t.Errorf("TypeByName(%q) = %v, %v; want %v", name, got, ok, want)
		}
	}
	if _, ok := TypeByName("jsonb"); ok {
		t.Error("TypeByName(jsonb) succeeded")
	}
}

// TestUnsupportedType checks the typed error for a type without a hash.
func TestUnsupportedType(t *testing.T) {
	const jsonb = Type(3802)
	for _, f := range []func() (int32, error){
		func() (int32, error) { return HashText(jsonb, "{}") },
		func() (int32, error) { return HashValue(jsonb, "{}") },
		func() (int32, error) { return HashBinary(jsonb, []byte{1}) },
	} {
		_, err := f()
		var te *TypeError
		if !errors.As(err, &te) || !errors.Is(err, ErrUnsupportedType) || te.SQLState() != "0A000" || te.Type != jsonb {
			t.Errorf("got %v, want a *TypeError for type 3802", err)
		}
		if !strings.Contains(err.Error(), "type 3802") {
			t.Errorf("error %q does not name the type", err)
		}
	}
}

// TestInputErrors checks PostgreSQL's codes and messages for bad literals.
func TestInputErrors(t *testing.T) {
	cases := []struct {
		typ       Type
		in, code  string
		msg       string
		unsupport bool
	}{
		{TypeInt4, "abc", "22P02", `invalid input syntax for type integer: "abc"`, false},
		{TypeInt4, "2147483648", "22003", `value "2147483648" is out of range for type integer`, false},
		{TypeInt2, "99999999999x", "22003", `value "99999999999x" is out of range for type smallint`, false},
		{TypeNumeric, "1e131072", "22003", "value overflows numeric format", false},
		{TypeFloat8, "1e400", "22003", `"1e400" is out of range for type double precision`, false},
		{TypeUUID, " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "22P02", "", false},
		{TypeText, "a\x00", "22021", "", false},
		{TypeDate, "2021-02-29", "22008", `date/time field value out of range: "2021-02-29"`, false},
		{TypeDate, "5874898-01-01", "22008", `date out of range: "5874898-01-01"`, false},
		{TypeTimestamp, "294277-01-01", "22008", `timestamp out of range: "294277-01-01"`, false},
		{TypeTimestamptz, "2020-01-01 12:00+16", "22009", "", false},
		{TypeBytea, `\xg1`, "22023", `invalid hexadecimal digit: "g"`, false},
		{TypeBytea, `\x0`, "22023", "invalid hexadecimal data: odd number of digits", false},
		{TypeBytea, `a\`, "22P02", "invalid input syntax for type bytea", false},
		{TypeDate, "Jan 1 2020", "0A000", "", true},
		{TypeTimestamptz, "now", "0A000", "", true},
	}
	for _, c := range cases {
		_, err := HashText(c.typ, c.in)
		var ie *InputError
		if !errors.As(err, &ie) || ie.SQLState() != c.code || (c.msg != "" && ie.Error() != c.msg) ||
			errors.Is(err, ErrUnsupportedSyntax) != c.unsupport || errors.Is(err, ErrInvalidInput) == c.unsupport {
			t.Errorf("HashText(%s, %q) = %v (%T), want %s %q", c.typ, c.in, err, err, c.code, c.msg)
		}
	}
}

// TestNumericScaleInsensitive checks hash_numeric's rules: scale, trailing
// zeros and sign do not matter; zero is -1; NaN and infinities are 0.
func TestNumericScaleInsensitive(t *testing.T) {
	h := func(s string) int32 {
		n, err := ParseNumeric(s)
		if err != nil {
			t.Fatal(err)
		}
		return n.Hash()
	}
	if h("5") != -1554860272 || h("5.000") != h("5") || h("-5") != h("5") || h("5e0") != h("0.5e1") {
		t.Error("numeric hash depends on scale or sign")
	}
	if h("0") != -1 || h("0.000") != -1 || h("-0e-5") != -1 || h("NaN") != 0 || h("-Infinity") != 0 {
		t.Error("numeric specials hash wrongly")
	}
	if HashInt8(12345) == h("12345") {
		t.Log("numeric and int8 hash alike for 12345 (allowed, not required)")
	}
	for in, want := range map[string]string{"1.50": "1.50", "-0.000120": "-0.000120", "1e3": "1000", "12345678.9": "12345678.9",
		"1e-3": "0.001", "nan": "NaN", " -inf ": "-Infinity", "000": "0"} {
		n, err := ParseNumeric(in)
		if err != nil || n.String() != want {
			t.Errorf("ParseNumeric(%q) = %s, %v; want %s", in, n, err, want)
		}
	}
}

// TestZoneResolution checks PostgreSQL's rule for local times in a
// daylight-saving gap or overlap: the later of the two instants.
func TestZoneResolution(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"2021-03-14 02:30:00":    "2021-03-14T07:30:00Z", // gap: EST, the offset before
		"2021-11-07 01:30:00":    "2021-11-07T06:30:00Z", // overlap: EST, the offset after
		"2021-07-01 12:00:00":    "2021-07-01T16:00:00Z",
		"2021-07-01 12:00:00+02": "2021-07-01T10:00:00Z",
	} {
		ts, err := ParseTimestamptz(in, ny)
		w, _ := time.Parse(time.RFC3339, want)
		if err != nil || ts != TimestampFromTime(w) {
			t.Errorf("ParseTimestamptz(%q, New York) = %d, %v; want %s (%d)", in, ts, err, want, TimestampFromTime(w))
		}
	}
}

// TestHashValue checks that Go values hash like their SQL text.
func TestHashValue(t *testing.T) {
	eq := func(typ Type, v any, text string) {
		t.Helper()
		got, err := HashValue(typ, v)
		want, werr := HashText(typ, text)
		if err != nil || werr != nil || got != want {
			t.Errorf("HashValue(%s, %#v) = %d, %v; HashText(%q) = %d, %v", typ, v, got, err, text, want, werr)
		}
	}
	eq(TypeInt4, 123, "123")
	eq(TypeInt4, int16(-5), "-5")
	eq(TypeInt8, int64(math.MinInt64), "-9223372036854775808")
	eq(TypeInt2, uint8(200), "200")
	eq(TypeOID, uint32(math.MaxUint32), "4294967295")
	eq(TypeNumeric, int64(-120000), "-120000.00")
	eq(TypeNumeric, uint64(math.MaxUint64), "18446744073709551615")
	eq(TypeNumeric, 0.1, "0.1")
	eq(TypeNumeric, float32(0.1), "0.1")
	eq(TypeNumeric, math.Inf(-1), "-Infinity")
	eq(TypeFloat8, 1.5, "1.5")
	eq(TypeFloat4, float32(0.1), "0.1")
	eq(TypeFloat8, 7, "7")
	eq(TypeBool, true, "true")
	eq(TypeText, "héllo", "héllo")
	eq(TypeName, strings.Repeat("é", 40), strings.Repeat("é", 31))
	eq(TypeBytea, []byte{0, 1, 0xff}, `\x0001ff`)
	eq(TypeBytea, `\000\001\377`, `\x0001FF`)
	eq(TypeBpchar, []byte("ab  "), "ab")
	eq(TypeUUID, [16]byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11},
		"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
	eq(TypeDate, time.Date(1997, 8, 8, 23, 0, 0, 0, time.UTC), "1997-08-08")
	eq(TypeDate, time.Date(-43, 3, 15, 0, 0, 0, 0, time.UTC), "0044-03-15 BC")
	est := time.FixedZone("EST", -5*3600)
	eq(TypeTimestamp, time.Date(2020, 1, 2, 3, 4, 5, 678901000, est), "2020-01-02 03:04:05.678901")
	eq(TypeTimestamptz, time.Date(2020, 1, 2, 3, 4, 5, 678901999, est), "2020-01-02 03:04:05.678901-05")
	eq(TypeNumeric, Numeric{}, "0")
	for _, c := range []struct {
		typ  Type
		v    any
		code string
	}{
		{TypeInt2, 40000, "22003"}, {TypeInt4, int64(1) << 40, "22003"}, {TypeOID, -1, "22003"},
		{TypeInt4, 1.5, "42804"}, {TypeBool, 1, "42804"}, {TypeInt4, nil, "22004"}, {TypeFloat4, 1e300, "22003"}, {TypeFloat4, 1e-300, "22003"},
		{TypeTimestamp, time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC), "22008"}, {TypeUUID, []byte{1, 2}, "22P02"},
	} {
		_, err := HashValue(c.typ, c.v)
		var ie *InputError
		if !errors.As(err, &ie) || ie.SQLState() != c.code {
			t.Errorf("HashValue(%s, %#v) = %v, want %s", c.typ, c.v, err, c.code)
		}
	}
}

// TestHashBinary checks the binary wire format against known encodings.
func TestHashBinary(t *testing.T) {
	eq := func(typ Type, b []byte, text string) {
		t.Helper()
		got, err := HashBinary(typ, b)
		want, werr := HashText(typ, text)
		if err != nil || werr != nil || got != want {
			t.Errorf("HashBinary(%s, %x) = %d, %v; HashText(%q) = %d, %v", typ, b, got, err, text, want, werr)
		}
	}
	eq(TypeInt4, []byte{0, 0, 0, 123}, "123")
	eq(TypeInt8, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "-1")
	eq(TypeBool, []byte{1}, "t")
	eq(TypeDate, []byte{0xff, 0xff, 0xfc, 0x94}, "1997-08-08")
	// numeric 12345.6780: ndigits 3, weight 1, sign +, dscale 4, digits 1 2345 6780.
	eq(TypeNumeric, []byte{0, 3, 0, 1, 0, 0, 0, 4, 0, 1, 0x09, 0x29, 0x1a, 0x7c}, "12345.678")
	// The same digits with dscale 2 are truncated to 12345.67.
	eq(TypeNumeric, []byte{0, 3, 0, 1, 0, 0, 0, 2, 0, 1, 0x09, 0x29, 0x1a, 0x7c}, "12345.67")
	eq(TypeNumeric, []byte{0, 0, 0, 0, 0xc0, 0, 0, 0}, "NaN")
	for _, c := range []struct {
		typ Type
		b   []byte
	}{
		{TypeInt4, []byte{1, 2, 3}}, {TypeUUID, nil}, {TypeNumeric, []byte{0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10}},
		{TypeNumeric, []byte{0, 0, 0, 0, 0x12, 0, 0, 0}}, {TypeDate, []byte{0x7f, 0xff, 0xff, 0xfe}},
		{TypeTimestamp, []byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}}, {TypeText, []byte{0xff}},
	} {
		if _, err := HashBinary(c.typ, c.b); err == nil {
			t.Errorf("HashBinary(%s, %x) succeeded", c.typ, c.b)
		}
	}
}

// FuzzHashText checks that no literal makes HashText panic or return an
// error without an SQLSTATE.
func FuzzHashText(f *testing.F) {
	for _, s := range []string{"123", " -1e5 ", "NaN", "2020-01-01T12:00:00.5+05:30 BC", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
		"0x1.8p3", "1e-16383", "infinity", "t", "\xff", "1e-1073741822", "1e1073741822", "0x1p-99999999999",
		"9" + strings.Repeat("0", 5000) + "e-99999", "294276-12-31 23:59:59.999999999999999999999"} {
		f.Add(uint8(0), s)
	}
	types := []Type{TypeBool, TypeBytea, TypeName, TypeInt8, TypeInt2, TypeInt4, TypeText, TypeOID, TypeFloat4, TypeFloat8, TypeBpchar,
		TypeVarchar, TypeDate, TypeTimestamp, TypeTimestamptz, TypeNumeric, TypeUUID}
	f.Fuzz(func(t *testing.T, k uint8, s string) {
		typ := types[int(k)%len(types)]
		if _, err := HashText(typ, s); err != nil {
			var st interface{ SQLState() string }
			if !errors.As(err, &st) || len(st.SQLState()) != 5 {
				t.Fatalf("HashText(%s, %q): error without SQLSTATE: %v", typ, s, err)
			}
		}
	})
}

// sink keeps benchmark results alive.
var sink int32

func BenchmarkHashInt4(b *testing.B) {
	for i := range b.N {
		sink += HashInt4(int32(i))
	}
}

func BenchmarkHashInt8(b *testing.B) {
	for i := range b.N {
		sink += HashInt8(int64(i) << 20)
	}
}

func BenchmarkHashString8(b *testing.B) {
	s := "customer"
	for range b.N {
		sink += HashString(s)
	}
}

func BenchmarkHashString64(b *testing.B) {
	s := strings.Repeat("abcdefgh", 8)
	for range b.N {
		sink += HashString(s)
	}
}

func BenchmarkHashUUID(b *testing.B) {
	u := [16]byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}
	for range b.N {
		sink += HashUUID(u)
	}
}

func BenchmarkHashFloat8(b *testing.B) {
	for i := range b.N {
		sink += HashFloat8(float64(i) + 0.5)
	}
}

func BenchmarkNumericHash(b *testing.B) {
	n, _ := ParseNumeric("12345678.9012")
	for range b.N {
		sink += n.Hash()
	}
}

// benchText benchmarks HashText on one literal.
func benchText(b *testing.B, typ Type, s string) {
	for range b.N {
		h, err := HashText(typ, s)
		if err != nil {
			b.Fatal(err)
		}
		sink += h
	}
}

func BenchmarkHashTextInt4(b *testing.B) { benchText(b, TypeInt4, "1234567") }
func BenchmarkHashTextInt8(b *testing.B) { benchText(b, TypeInt8, "-922337203685477") }
func BenchmarkHashTextText(b *testing.B) { benchText(b, TypeText, "customer-42") }
func BenchmarkHashTextUUID(b *testing.B) {
	benchText(b, TypeUUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
}
func BenchmarkHashTextNumeric(b *testing.B) { benchText(b, TypeNumeric, "12345678.9012") }
func BenchmarkHashTextFloat8(b *testing.B)  { benchText(b, TypeFloat8, "1.5e10") }
func BenchmarkHashTextDate(b *testing.B)    { benchText(b, TypeDate, "1997-08-08") }
func BenchmarkHashTextTimestamptz(b *testing.B) {
	benchText(b, TypeTimestamptz, "2020-01-02 03:04:05.678901+05:30")
}

func BenchmarkHashValueInt64(b *testing.B) {
	for i := range b.N {
		h, _ := HashValue(TypeInt8, int64(i))
		sink += h
	}
}

func BenchmarkShardIndex(b *testing.B) {
	var s int
	for i := range b.N {
		s += ShardIndex(int32(i*2654435761), 32)
	}
	sink += int32(s)
}
