package catalog

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/jackc/pgerrcode"
)

// numeric's storage limits, as in PostgreSQL's numeric.c.
const (
	nbase          = 10000 // base of a NumericDigit
	decDigits      = 4     // decimal digits per NumericDigit
	maxWeight      = math.MaxInt16
	minWeight      = math.MinInt16
	maxDisplayScle = 0x3FFF // NUMERIC_DSCALE_MASK
)

// numericKind says whether a Numeric is finite or one of the special values.
type numericKind uint8

const (
	numericFinite numericKind = iota
	numericNaN
	numericPosInf
	numericNegInf
)

// Numeric is a PostgreSQL numeric value as the server stores it: base-10000
// digits without leading or trailing zero digits, the weight (power of
// 10000) of the first digit, a sign and a display scale, or NaN or an
// infinity. The zero value is the number 0. A Numeric is immutable.
type Numeric struct {
	kind   numericKind
	neg    bool
	weight int
	dscale int
	digits []int16
}

// NumericNaN is numeric 'NaN'.
var NumericNaN = Numeric{kind: numericNaN}

// IsNaN reports whether n is NaN.
func (n Numeric) IsNaN() bool { return n.kind == numericNaN }

// IsInf reports whether n is an infinity; sign > 0 asks for +Infinity, sign
// < 0 for -Infinity and 0 for either, as math.IsInf.
func (n Numeric) IsInf(sign int) bool {
	return (sign >= 0 && n.kind == numericPosInf) || (sign <= 0 && n.kind == numericNegInf)
}

// Hash returns PostgreSQL's hash_numeric(n). It is scale-insensitive and
// ignores the sign: the digits without leading and trailing zero digits
// are hashed with hash_any and the weight of the first non-zero digit is
// XORed in. Zero hashes to -1; NaN and the infinities hash to 0.
func (n Numeric) Hash() int32 {
	if n.kind != numericFinite {
		return 0
	}
	d, w := n.digits, n.weight
	for len(d) > 0 && d[0] == 0 {
		d, w = d[1:], w-1
	}
	for len(d) > 0 && d[len(d)-1] == 0 {
		d = d[:len(d)-1]
	}
	if len(d) == 0 {
		return -1
	}
	var buf [64]byte
	b := buf[:0]
	if 2*len(d) > len(buf) {
		b = make([]byte, 0, 2*len(d))
	}
	for _, x := range d {
		b = binary.LittleEndian.AppendUint16(b, uint16(x))
	}
	return int32(hashBytes(b) ^ uint32(int32(w)))
}

// String returns n in PostgreSQL's output format: plain decimal with the
// display scale, "NaN", "Infinity" or "-Infinity".
func (n Numeric) String() string {
	switch n.kind {
	case numericNaN:
		return "NaN"
	case numericPosInf:
		return "Infinity"
	case numericNegInf:
		return "-Infinity"
	}
	var b []byte
	if n.neg {
		b = append(b, '-')
	}
	// Integer part: digits of weight w..0.
	digit := func(w int) int16 {
		i := n.weight - w
		if i < 0 || i >= len(n.digits) {
			return 0
		}
		return n.digits[i]
	}
	if n.weight < 0 || len(n.digits) == 0 {
		b = append(b, '0')
	} else {
		b = strconv.AppendInt(b, int64(digit(n.weight)), 10)
		for w := n.weight - 1; w >= 0; w-- {
			b = append(b, fmt.Sprintf("%04d", digit(w))...)
		}
	}
	if n.dscale > 0 {
		b = append(b, '.')
		for i, w := 0, -1; i < n.dscale; w-- {
			s := fmt.Sprintf("%04d", digit(w))
			for j := 0; j < decDigits && i < n.dscale; j, i = j+1, i+1 {
				b = append(b, s[j])
			}
		}
	}
	return string(b)
}

// ParseNumeric reads s as PostgreSQL 15's numeric_in does with no type
// modifier: blanks, then NaN, [+-]Infinity or [+-]inf (any case), or a
// signed decimal number with an optional exponent, then blanks. Values
// beyond numeric's storage format (a weight outside int16 or more than
// 16383 digits after the point) are out of range.
func ParseNumeric(s string) (Numeric, error) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	cp := s[i:]
	var n Numeric
	switch {
	case hasFoldPrefix(cp, "nan"):
		n, cp = NumericNaN, cp[3:]
	case hasFoldPrefix(cp, "infinity"):
		n, cp = Numeric{kind: numericPosInf}, cp[8:]
	case hasFoldPrefix(cp, "+infinity"):
		n, cp = Numeric{kind: numericPosInf}, cp[9:]
	case hasFoldPrefix(cp, "-infinity"):
		n, cp = Numeric{kind: numericNegInf}, cp[9:]
	case hasFoldPrefix(cp, "inf"):
		n, cp = Numeric{kind: numericPosInf}, cp[3:]
	case hasFoldPrefix(cp, "+inf"):
		n, cp = Numeric{kind: numericPosInf}, cp[4:]
	case hasFoldPrefix(cp, "-inf"):
		n, cp = Numeric{kind: numericNegInf}, cp[4:]
	default:
		var err error
		n, cp, err = numericFromDecimal(s, cp)
		if err != nil {
			return Numeric{}, err
		}
		if trimSpace(cp) != "" {
			return Numeric{}, syntaxError(TypeNumeric, s)
		}
		return n, n.checkFormat(s)
	}
	if trimSpace(cp) != "" {
		return Numeric{}, syntaxError(TypeNumeric, s)
	}
	return n, nil
}

// numericFromDecimal is set_var_from_str: it reads a signed decimal number
// with an optional exponent from the front of cp and returns the rest.
func numericFromDecimal(s, cp string) (Numeric, string, error) {
	var n Numeric
	if cp != "" && (cp[0] == '+' || cp[0] == '-') {
		n.neg = cp[0] == '-'
		cp = cp[1:]
	}
	haveDP := false
	if cp != "" && cp[0] == '.' {
		haveDP = true
		cp = cp[1:]
	}
	if cp == "" || !isDigit(cp[0]) {
		return Numeric{}, cp, syntaxError(TypeNumeric, s)
	}
	dec := make([]byte, decDigits, len(cp)+2*decDigits)
	dweight, dscale := -1, 0
	for cp != "" {
		c := cp[0]
		if isDigit(c) {
			dec = append(dec, c-'0')
			if haveDP {
				dscale++
			} else {
				dweight++
			}
		} else if c == '.' {
			if haveDP {
				return Numeric{}, cp, syntaxError(TypeNumeric, s)
			}
			haveDP = true
		} else {
			break
		}
		cp = cp[1:]
	}
	ddigits := len(dec) - decDigits
	dec = append(dec, make([]byte, decDigits-1)...)
	if cp != "" && (cp[0] == 'e' || cp[0] == 'E') {
		exp, rest, ok := strtol(cp[1:])
		if !ok {
			return Numeric{}, cp, syntaxError(TypeNumeric, s)
		}
		cp = rest
		if exp >= math.MaxInt32/2 || exp <= -(math.MaxInt32/2) {
			return Numeric{}, cp, overflowError(s)
		}
		dweight += int(exp)
		dscale -= int(exp)
		dscale = max(dscale, 0)
	}
	var weight int
	if dweight >= 0 {
		weight = (dweight+1+decDigits-1)/decDigits - 1
	} else {
		weight = -((-dweight-1)/decDigits + 1)
	}
	offset := (weight+1)*decDigits - (dweight + 1)
	ndigits := (ddigits + offset + decDigits - 1) / decDigits
	n.weight, n.dscale = weight, dscale
	n.digits = make([]int16, ndigits)
	for k, i := 0, decDigits-offset; k < ndigits; k, i = k+1, i+decDigits {
		n.digits[k] = int16(((int(dec[i])*10+int(dec[i+1]))*10+int(dec[i+2]))*10 + int(dec[i+3]))
	}
	n.strip()
	return n, cp, nil
}

// strtol is C's strtol in base 10 as numeric_in uses it: blanks, a sign,
// digits; it saturates on overflow. ok is false when no digits follow.
func strtol(s string) (int64, string, bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if i >= len(s) || !isDigit(s[i]) {
		return 0, s, false
	}
	var v int64
	for ; i < len(s) && isDigit(s[i]); i++ {
		if v < math.MaxInt64/10 {
			v = v*10 + int64(s[i]-'0')
		} else {
			v = math.MaxInt64
		}
	}
	if neg {
		v = -v
	}
	return v, s[i:], true
}

// strip removes leading and trailing zero digits and normalizes zero, as
// strip_var and make_result do.
func (n *Numeric) strip() {
	for len(n.digits) > 0 && n.digits[0] == 0 {
		n.digits = n.digits[1:]
		n.weight--
	}
	for len(n.digits) > 0 && n.digits[len(n.digits)-1] == 0 {
		n.digits = n.digits[:len(n.digits)-1]
	}
	if len(n.digits) == 0 {
		n.weight, n.neg, n.digits = 0, false, nil
	}
}

// checkFormat is make_result's overflow check: the weight must fit in int16
// and the display scale in 14 bits.
func (n Numeric) checkFormat(s string) error {
	if n.weight > maxWeight || n.weight < minWeight || n.dscale > maxDisplayScle {
		return overflowError(s)
	}
	return nil
}

// overflowError is "value overflows numeric format" (22003).
func overflowError(s string) error {
	return inputError(TypeNumeric, s, pgerrcode.NumericValueOutOfRange, "value overflows numeric format")
}

// NumericFromInt64 returns the numeric of an integer (display scale 0).
func NumericFromInt64(v int64) Numeric {
	n := Numeric{neg: v < 0}
	u := uint64(v)
	if v < 0 {
		u = -u
	}
	for u > 0 {
		n.digits = append([]int16{int16(u % nbase)}, n.digits...)
		u /= nbase
	}
	n.weight = len(n.digits) - 1
	n.strip()
	return n
}
