package catalog_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// This file generates random SQL literals, valid and invalid, for the live
// comparison with PostgreSQL. Each generator starts with fixed edge values.

// pick returns a random element of xs.
func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

// blanks wraps s in random C blanks now and then.
func blanks(r *rand.Rand, s string) string {
	if r.IntN(8) == 0 {
		s = pick(r, " ", "\t", "\n ", "  ") + s
	}
	if r.IntN(8) == 0 {
		s += pick(r, " ", "\t", "\r\n", "  ")
	}
	return s
}

// genInt returns integer literals for a width in bits.
func genInt(bits int) func(r *rand.Rand, n int) []string {
	return func(r *rand.Rand, n int) []string {
		lo, hi := -(int64(1) << (bits - 1)), int64(1)<<(bits-1)-1
		vals := []string{"0", "-0", "+0", "1", "-1", "+7", "007", " 12 ", "\t-3\n",
			strconv.FormatInt(lo, 10), strconv.FormatInt(hi, 10),
			"", " ", "-", "+", "1e3", "1.0", "12a", "--1", "0x10", "1 2", "99999999999999999999999",
			"99999999999999999999999x", "٣"}
		if bits < 64 {
			vals = append(vals, strconv.FormatInt(lo-1, 10), strconv.FormatInt(hi+1, 10))
		} else {
			vals = append(vals, "-9223372036854775809", "9223372036854775808")
		}
		for range n {
			var v int64
			switch r.IntN(3) {
			case 0:
				v = r.Int64N(2001) - 1000
			case 1:
				v = int64(r.Uint64() >> (64 - bits))
			default:
				v = int64(r.Uint64()) >> (64 - bits)
			}
			vals = append(vals, blanks(r, strconv.FormatInt(v, 10)))
		}
		return vals
	}
}

// genOID returns oid literals, including the signed forms oidin accepts.
func genOID(r *rand.Rand, n int) []string {
	vals := []string{"0", "1", "4294967295", "4294967296", "-1", "-2147483648", "-2147483649",
		"-4294967295", "18446744073709551615", "18446744073709551616", "-18446744073709551615",
		"", " ", "+5", " 5 ", "5x", "x"}
	for range n {
		switch r.IntN(3) {
		case 0:
			vals = append(vals, blanks(r, strconv.FormatUint(uint64(r.Uint32()), 10)))
		case 1:
			vals = append(vals, strconv.FormatInt(int64(int32(r.Uint32())), 10))
		default:
			vals = append(vals, strconv.FormatUint(r.Uint64()>>r.IntN(64), 10))
		}
	}
	return vals
}

// genBool returns boolean literals.
func genBool(r *rand.Rand, n int) []string {
	words := []string{"t", "tr", "tru", "true", "TRUE", "True", "f", "fa", "false", "FALSE", "y", "ye", "yes",
		"n", "no", "on", "ON", "of", "off", "o", "1", "0", " t ", "\ttrue\n", "", " ", "truex", "2", "yess",
		"offf", "nope", "-1", "01"}
	vals := append([]string(nil), words...)
	for range n {
		vals = append(vals, blanks(r, pick(r, words...)))
	}
	return vals
}

// genText returns strings: ASCII, Unicode, blanks, and invalid UTF-8.
func genText(r *rand.Rand, n int) []string {
	vals := []string{"", " ", "  ", "a", "a ", "a  ", " a", "abc", "ABC   ", "a\tb", "tab\t", "é", "日本語",
		"😀", "a\u00a0", strings.Repeat("x", 100), strings.Repeat("y ", 50), "\x00", "a\x00b", "\xff", "\xc3\x28",
		"\xed\xa0\x80", "12", "0123456789a", "0123456789ab", "0123456789abc", strings.Repeat("n", 63),
		strings.Repeat("n", 64), strings.Repeat("é", 40), strings.Repeat("x", 62) + "é", strings.Repeat("x", 61) + "😀"}
	ranges := [][2]rune{{0x20, 0x7e}, {0x20, 0x7e}, {0xa0, 0x2ff}, {0x400, 0x4ff}, {0x3040, 0x30ff},
		{0x4e00, 0x9fff}, {0x1f300, 0x1faff}, {0x1, 0x1f}}
	for range n {
		var b strings.Builder
		for range r.IntN(40) {
			rg := ranges[r.IntN(len(ranges))]
			b.WriteRune(rg[0] + r.Int32N(rg[1]-rg[0]+1))
		}
		s := b.String()
		if r.IntN(8) == 0 {
			s = strings.Repeat(s, 1+r.IntN(4))
		}
		if r.IntN(4) == 0 {
			s += strings.Repeat(" ", 1+r.IntN(3))
		}
		vals = append(vals, s)
	}
	return vals
}

// genUUID returns uuid literals in the forms uuid_in accepts and some it
// does not.
func genUUID(r *rand.Rand, n int) []string {
	vals := []string{"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
		"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
		"{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "a0eebc999c0b4ef8bb6d6bb9bd380a11",
		"a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11", "{a0eebc999c0b4ef8bb6d6bb9bd380a11}",
		"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
		" a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 ",
		"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-", "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11",
		"a0eeb-c99-9c0b-4ef8-bb6d-6bb9bd380a11", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
		"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", ""}
	for range n {
		var u [16]byte
		for i := range u {
			u[i] = byte(r.Uint32())
		}
		h := fmt.Sprintf("%x", u[:])
		switch r.IntN(5) {
		case 0:
			h = strings.ToUpper(h)
		case 1:
			h = h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
		case 2:
			var b strings.Builder
			for i := 0; i < 32; i += 4 {
				b.WriteString(h[i : i+4])
				if i < 28 && r.IntN(2) == 0 {
					b.WriteByte('-')
				}
			}
			h = b.String()
		case 3:
			h = "{" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:] + "}"
		}
		vals = append(vals, h)
	}
	return vals
}

// genFloat returns float literals: shortest forms of random bit patterns,
// decimal strings, hexadecimal floats and specials.
func genFloat(r *rand.Rand, n int) []string {
	vals := []string{"0", "-0", "+0", "0.0", "1", "-1", "1.5", ".5", "5.", "1e10", "1E-10", "inf", "-inf", "+inf",
		"Infinity", "-Infinity", "INFINITY", "infinit", "nan", "NaN", "-nan", "NAN(123)", "nan()", "nan(", "1e400",
		"-1e400", "1e-400", "4.9e-324", "2e-324", "3e-324", "1e-45", "1e-46", "3.4e38", "3.5e38", "1.17549435e-38",
		"0x1p3", "0x1.8p1", "0X1A", "0x.8", "0x", "0x1p", "1e", "1e+", ".", "", " ", "1.5 ", " 1.5", "1,5",
		"1.5x", "e5", "--1", "0e999999", "1e-99999999999999999999", "179769313486231570814527423731704356798070e267"}
	for range n {
		switch r.IntN(4) {
		case 0:
			f := math.Float64frombits(r.Uint64())
			vals = append(vals, strconv.FormatFloat(f, pick(r, byte('g'), 'e', 'f'), -1, 64))
		case 1:
			f := float64(math.Float32frombits(r.Uint32()))
			vals = append(vals, strconv.FormatFloat(f, 'g', -1, 32))
		case 2:
			vals = append(vals, blanks(r, randDecimal(r, 25, 40)))
		default:
			vals = append(vals, strconv.FormatFloat(r.NormFloat64()*math.Pow(10, float64(r.IntN(80)-40)), 'x', -1, 64))
		}
	}
	return vals
}

// randDecimal returns a decimal literal with up to maxDigits digits and an
// exponent up to ±maxExp, with leading and trailing zeros now and then.
func randDecimal(r *rand.Rand, maxDigits, maxExp int) string {
	var b strings.Builder
	b.WriteString(pick(r, "", "", "-", "+"))
	if r.IntN(4) == 0 {
		b.WriteString(strings.Repeat("0", 1+r.IntN(5)))
	}
	nd := 1 + r.IntN(maxDigits)
	dp := r.IntN(nd + 2)
	for i := range nd {
		if i == dp {
			b.WriteByte('.')
		}
		b.WriteByte(byte('0' + r.IntN(10)))
	}
	if dp >= nd && r.IntN(2) == 0 {
		b.WriteByte('.')
	}
	if r.IntN(3) == 0 {
		b.WriteString(strings.Repeat("0", 1+r.IntN(8)))
	}
	if r.IntN(3) == 0 {
		fmt.Fprintf(&b, "%s%s%d", pick(r, "e", "E"), pick(r, "", "+", "-"), r.IntN(maxExp+1))
	}
	return b.String()
}

// genNumeric returns numeric literals.
func genNumeric(r *rand.Rand, n int) []string {
	vals := []string{"0", "-0", "0.000", "0e10", "00000", "1", "-1", "1.0", "1.000000", "10", "100", "1000",
		"10000", "100000000", "0.0001", "0.00010", "12345678.87654321", "-5", "5.000", "NaN", "nan", "-NaN", " NaN ",
		"Infinity", "-Infinity", "+Infinity", "inf", "-inf", "+inf", "infinity x", "1e131071", "9.9e131071",
		"1e131072", "1e-16383", "1e-16384", "1e-16400", "0e-20000", "1e", "1e+", "1e 5", "1 e5", ".5", "5.", ".",
		"", " ", "1.2.3", "+-1", "1,5", "0x10", "1e2147483647", "1e-1073741823", "1e1073741822",
		"123456789012345678901234567890.123456789012345678901234567890"}
	for range n {
		maxExp := pick(r, 5, 40, 200, 20000)
		vals = append(vals, blanks(r, randDecimal(r, pick(r, 5, 30, 120), maxExp)))
	}
	return vals
}

// randDate returns an ISO date literal from year 1 to 7 digits, AD or BC.
func randDate(r *rand.Rand) string {
	var y int
	switch r.IntN(4) {
	case 0:
		y = 1900 + r.IntN(200)
	case 1:
		y = 1 + r.IntN(9999)
	case 2:
		y = 1 + r.IntN(300000)
	default:
		y = 1 + r.IntN(6000000)
	}
	m, d := 1+r.IntN(12), 1+r.IntN(31)
	if r.IntN(50) == 0 {
		m = r.IntN(14)
	}
	s := fmt.Sprintf("%04d-%02d-%02d", y, m, d)
	switch r.IntN(10) {
	case 0:
		s = fmt.Sprintf("%d-%d-%d", y, m, d)
	case 1:
		s = fmt.Sprintf("%04d%02d%02d", y%10000, m, d)
	}
	if r.IntN(8) == 0 {
		s += pick(r, " BC", " bc", " AD")
	}
	return s
}

// genDate returns date literals.
func genDate(r *rand.Rand, n int) []string {
	vals := []string{"2000-01-01", "1997-08-08", "1970-01-01", "epoch", "infinity", "-infinity", "Infinity",
		" infinity ", "+infinity", "today", "now", "5874897-12-31", "5874898-01-01", "4713-01-01 BC",
		"4714-11-24 BC", "4714-11-23 BC", "4714-12-31 BC", "4715-01-01 BC", "0001-01-01", "0000-01-01",
		"0001-01-01 BC", "2020-02-29", "2021-02-29", "2000-02-29", "1900-02-29", "2020-13-01", "2020-00-10",
		"2020-01-32", "2020-01-00", "2020-1-5", "999-01-01", "99-01-01", "20200101", "2020/01/01",
		"2020-01-01 12:34:56", "2020-01-01T12:34", "2020-01-01 25:00", "2020-01-01 24:00", "2020-01-01 12:00+05",
		"2020-01-01 12:00 BC", "2020-01-01x", "20200101", "20200101 12:00", "20200101T12:00:01", "00000101",
		"20201301", "202001011", "2020010", "20200101T120000", "Jan 1 2020", ""}
	for range n {
		s := randDate(r)
		if r.IntN(10) == 0 {
			s += fmt.Sprintf(" %02d:%02d", r.IntN(25), r.IntN(60))
		}
		vals = append(vals, blanks(r, s))
	}
	return vals
}

// randClock returns H:MM[:SS[.frac]].
func randClock(r *rand.Rand) string {
	h, m, s := r.IntN(24), r.IntN(60), r.IntN(60)
	if r.IntN(100) == 0 {
		h, m, s = pick(r, 24, 25, 23), r.IntN(61), pick(r, 0, 60, 61)
	}
	c := fmt.Sprintf("%02d:%02d", h, m)
	if r.IntN(4) == 0 && h < 10 {
		c = fmt.Sprintf("%d:%02d", h, m)
	}
	if r.IntN(5) > 0 {
		c += fmt.Sprintf(":%02d", s)
		if r.IntN(2) == 0 {
			frac := strconv.FormatUint(r.Uint64(), 10)
			c += "." + frac[:1+r.IntN(min(len(frac), 12))]
		}
	}
	return c
}

// randZone returns an explicit zone.
func randZone(r *rand.Rand) string {
	h, m := r.IntN(17), pick(r, 0, 0, 30, 45, 59, 60)
	sign := pick(r, "+", "-")
	switch r.IntN(7) {
	case 0:
		return pick(r, "Z", "z", " UTC", " GMT", "UTC", " Z")
	case 1:
		return fmt.Sprintf("%s%02d", sign, h)
	case 2:
		return fmt.Sprintf("%s%d", sign, h)
	case 3:
		return fmt.Sprintf("%s%02d%02d", sign, h, m)
	case 4:
		return fmt.Sprintf(" %s%02d:%02d", sign, h, m)
	case 5:
		return fmt.Sprintf("%s%02d:%02d:%02d", sign, h, m, pick(r, 0, 30, 60))
	}
	return fmt.Sprintf("%s%d:%02d", sign, h, m)
}

// genTimestamp returns timestamp literals, with and without zones.
func genTimestamp(r *rand.Rand, n int) []string {
	vals := []string{"2000-01-01 00:00:00", "epoch", "infinity", "-infinity", "now", "1970-01-01 00:00:00+00",
		"294276-12-31 23:59:59.999999", "294277-01-01 00:00:00", "294276-12-31 23:59:59.9999995",
		"294276-12-31 23:00:00-01", "294276-12-31 23:00:00+01", "4714-11-24 00:00:00 BC", "4714-11-23 23:59:59 BC",
		"4714-11-24 00:00:00+01 BC", "4714-11-24 00:00:00-01 BC", "2020-01-01 24:00:00", "2020-01-01 24:00:01",
		"2020-12-31 23:59:60", "2020-12-31 23:59:60.5", "2020-01-01 12:00:00.9999999", "2020-01-01 12:00:00.0000005",
		"2020-01-01 12:00:00.0000015", "2020-01-01T12:00:00Z", "2020-01-01t12:00", "2020-01-01T 12:00",
		"2020-01-01 12:00:00+16", "2020-01-01 12:00:00+15:59:59", "2020-01-01 12:00:00-1530", "2020-01-01 12:00:00+5:30",
		"2020-01-01 12:00:00 +05:30", "2020-01-01 12:00:00 America/New_York", "2020-01-01 12:00:00 EST",
		"2020-01-01 12:00", "2020-01-01", "2020-01-01 12", "2020-01-01 12:0", "2020-01-01 12:00:0",
		"2020-01-01 12:00:00.", "2020-01-01 12:00:00 BC", "2020-01-01 12:00:00 AD", "2020-01-01 12:00:00+05 BC",
		"2020-01-01 12:00:00+05BC", "2020-01-01  12:00:00", ""}
	for range n {
		s := randDate(r)
		bc := strings.HasSuffix(strings.ToLower(s), " bc") || strings.HasSuffix(s, " AD")
		era := ""
		if bc {
			era, s = s[len(s)-3:], s[:len(s)-3]
		}
		if r.IntN(6) > 0 {
			s += pick(r, " ", "T", "  ") + randClock(r)
			if r.IntN(2) == 0 {
				s += randZone(r)
			}
		}
		vals = append(vals, blanks(r, s+era))
	}
	return vals
}

// genZoned returns zone-less local timestamps, many near daylight-saving
// transitions of recent years.
func genZoned(r *rand.Rand, n int) []string {
	vals := []string{"2021-03-14 02:30:00", "2021-11-07 01:30:00", "2021-03-14 03:00:00", "2021-11-07 02:00:00",
		"2014-10-26 01:30:00", "2014-10-26 00:59:59", "2011-03-27 02:30:00", "2021-04-04 01:45:00",
		"2021-10-03 02:15:00", "1883-11-18 12:00:00", "1800-01-01 00:00:00", "2200-07-01 12:00:00",
		"2020-01-01 12:00:00+02"}
	for range n {
		var s string
		if r.IntN(2) == 0 {
			s = fmt.Sprintf("%d-%02d-%02d %02d:%02d:%02d", 1900+r.IntN(200), 1+r.IntN(12), 1+r.IntN(28),
				r.IntN(24), r.IntN(60), r.IntN(60))
		} else {
			y := 1970 + r.IntN(60)
			m := pick(r, 3, 4, 10, 11, 9)
			s = fmt.Sprintf("%d-%02d-%02d %02d:%02d:%02d", y, m, 1+r.IntN(28), pick(r, 0, 1, 2, 3), r.IntN(60), r.IntN(60))
		}
		vals = append(vals, s)
	}
	return vals
}

// genBytea returns bytea literals in hex and escape formats.
func genBytea(r *rand.Rand, n int) []string {
	vals := []string{"", "\\x", "\\x00", "\\xDEADbeef", "\\x de ad\n", "\\x 0 1", "\\x0", "\\xg1", "\\xé",
		"abc", "a\\\\b", "\\000\\377", "\\400", "\\08", "a\\", "\\", "\\\\x00", "x\\x00", "日本"}
	for range n {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if r.IntN(2) == 0 {
			vals = append(vals, fmt.Sprintf("\\x%x", b))
			continue
		}
		var s strings.Builder
		for _, c := range b {
			switch {
			case c == '\\':
				s.WriteString("\\\\")
			case c >= 0x20 && c < 0x7f && r.IntN(2) == 0:
				s.WriteByte(c)
			default:
				fmt.Fprintf(&s, "\\%03o", c)
			}
		}
		vals = append(vals, s.String())
	}
	return vals
}
