package catalog

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgerrcode"
)

// parseFloat is PostgreSQL 15's float4in/float8in on glibc: blanks, then
// the longest prefix strtod (or strtof) accepts — decimal or hexadecimal
// numbers, inf, infinity, nan, nan(chars), signed — then blanks. A result
// that overflows, or underflows to zero from non-zero digits, is out of
// range. For TypeFloat4 the result is a float32 widened to float64.
func parseFloat(typ Type, s string) (float64, error) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	num := s[i:]
	if num == "" {
		return 0, syntaxError(typ, s)
	}
	n, kind := scanStrtod(num)
	if n == 0 {
		return 0, syntaxError(typ, s)
	}
	rest := num[n:]
	for len(rest) > 0 && isSpace(rest[0]) {
		rest = rest[1:]
	}
	if rest != "" {
		return 0, syntaxError(typ, s)
	}
	lit := num[:n]
	neg := lit[0] == '-'
	if lit[0] == '-' || lit[0] == '+' {
		lit = lit[1:]
	}
	var v float64
	switch kind {
	case floatInf:
		v = math.Inf(1)
	case floatNaN:
		v = math.NaN()
	default:
		if kind == floatHex && !strings.ContainsAny(lit, "pP") {
			lit += "p0"
		}
		bitSize := 64
		if typ == TypeFloat4 {
			bitSize = 32
		}
		f, err := strconv.ParseFloat(lit, bitSize)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, syntaxError(typ, s)
		}
		nonZero := strings.ContainsAny(mantissa(lit, kind), "123456789abcdefABCDEF")
		if err != nil || math.IsInf(f, 0) || (f == 0 && nonZero) {
			return 0, inputError(typ, s, pgerrcode.NumericValueOutOfRange,
				fmt.Sprintf("\"%s\" is out of range for type %s", s, typ.SQLName()))
		}
		v = f
	}
	if neg {
		v = -v
	}
	return v, nil
}

// Kinds of strtod prefixes.
const (
	floatDec = iota
	floatHex
	floatInf
	floatNaN
)

// mantissa returns the digits of an unsigned decimal or hex literal before
// its exponent.
func mantissa(lit string, kind int) string {
	if kind == floatHex {
		lit = lit[2:]
		if i := strings.IndexAny(lit, "pP"); i >= 0 {
			return lit[:i]
		}
		return lit
	}
	if i := strings.IndexAny(lit, "eE"); i >= 0 {
		return lit[:i]
	}
	return lit
}

// hasFoldPrefix reports whether s starts with the lower-case word, ignoring
// ASCII case.
func hasFoldPrefix(s, word string) bool {
	return len(s) >= len(word) && strings.EqualFold(s[:len(word)], word)
}

// scanStrtod returns the length of the longest prefix of s that glibc's
// strtod parses (0 if none) and its kind.
func scanStrtod(s string) (int, int) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	r := s[i:]
	switch {
	case hasFoldPrefix(r, "infinity"):
		return i + 8, floatInf
	case hasFoldPrefix(r, "inf"):
		return i + 3, floatInf
	case hasFoldPrefix(r, "nan"):
		n := i + 3
		if n < len(s) && s[n] == '(' {
			j := n + 1
			for j < len(s) && (isDigit(s[j]) || isAlpha(s[j]) || s[j] == '_') {
				j++
			}
			if j < len(s) && s[j] == ')' {
				n = j + 1
			}
		}
		return n, floatNaN
	}
	if len(r) >= 2 && r[0] == '0' && (r[1] == 'x' || r[1] == 'X') {
		if n := scanDigits(r[2:], isHex, 'p', 'P'); n > 0 {
			return i + 2 + n, floatHex
		}
	}
	if n := scanDigits(r, isDigit, 'e', 'E'); n > 0 {
		return i + n, floatDec
	}
	return 0, floatDec
}

// scanDigits scans digits [. digits] with at least one digit, then an
// exponent introduced by e1 or e2 when decimal digits follow it.
func scanDigits(s string, digit func(byte) bool, e1, e2 byte) int {
	i, nd := 0, 0
	for i < len(s) && digit(s[i]) {
		i++
		nd++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && digit(s[i]) {
			i++
			nd++
		}
	}
	if nd == 0 {
		return 0
	}
	if i < len(s) && (s[i] == e1 || s[i] == e2) {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			i = j
		}
	}
	return i
}

// isHex reports whether c is a hexadecimal digit.
func isHex(c byte) bool { _, ok := unhex(c); return ok }

// isAlpha is C's isalpha in the C locale.
func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
