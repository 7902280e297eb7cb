package catalog

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgerrcode"
)

// HashText reads text as a literal of type typ, exactly as PostgreSQL 15's
// input function for the type would (same accepted forms, same errors), and
// returns the value's hash. A timestamptz literal without a zone is read in
// UTC; use HashTextIn for another session TimeZone.
//
// It fails with a *TypeError for a type it cannot hash, and with an
// *InputError carrying PostgreSQL's SQLSTATE and message for text the type
// rejects. Date and time literals outside ISO 8601 and PostgreSQL's special
// values fail with an *InputError wrapping ErrUnsupportedSyntax.
func HashText(typ Type, text string) (int32, error) {
	return HashTextIn(typ, text, time.UTC)
}

// HashTextIn is HashText with the session TimeZone loc, used to read
// timestamptz literals that carry no zone (nil means UTC). Local times that
// fall in a daylight-saving gap or overlap resolve as PostgreSQL resolves
// them: to the later of the two UTC instants.
func HashTextIn(typ Type, text string, loc *time.Location) (int32, error) {
	switch typ {
	case TypeInt2:
		v, err := parseInt(typ, text, 16)
		return HashInt2(int16(v)), err
	case TypeInt4:
		v, err := parseInt(typ, text, 32)
		return HashInt4(int32(v)), err
	case TypeInt8:
		v, err := parseInt(typ, text, 64)
		return HashInt8(v), err
	case TypeOID:
		v, err := parseOID(text)
		return HashOID(v), err
	case TypeBool:
		v, err := parseBool(text)
		return HashBool(v), err
	case TypeText, TypeVarchar:
		if err := checkText(typ, text); err != nil {
			return 0, err
		}
		return HashString(text), nil
	case TypeBpchar:
		if err := checkText(typ, text); err != nil {
			return 0, err
		}
		return HashBpchar(text), nil
	case TypeName:
		if err := checkText(typ, text); err != nil {
			return 0, err
		}
		return HashString(clipName(text)), nil
	case TypeBytea:
		b, err := ParseBytea(text)
		return HashBytes(b), err
	case TypeUUID:
		u, err := ParseUUID(text)
		return HashUUID(u), err
	case TypeFloat4:
		v, err := parseFloat(typ, text)
		return HashFloat4(float32(v)), err
	case TypeFloat8:
		v, err := parseFloat(typ, text)
		return HashFloat8(v), err
	case TypeNumeric:
		n, err := ParseNumeric(text)
		return n.Hash(), err
	case TypeDate:
		d, err := ParseDate(text)
		return HashDate(d), err
	case TypeTimestamp, TypeTimestamptz:
		ts, err := parseTimestamp(typ, text, loc)
		return HashTimestamp(ts), err
	}
	return 0, &TypeError{Type: typ}
}

// isSpace is C's isspace in the C locale, which PostgreSQL's input
// functions use.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// isDigit is C's isdigit.
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// trimSpace removes C isspace characters from both ends of s.
func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// parseInt is PostgreSQL 15's pg_strtoint16/32/64: optional blanks, an
// optional sign, decimal digits, optional blanks.
func parseInt(typ Type, s string, bitSize uint) (int64, error) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	if i >= len(s) || !isDigit(s[i]) {
		return 0, syntaxError(typ, s)
	}
	// Accumulate negatively, as PostgreSQL does, so that the minimum fits.
	lim := -(int64(1) << (bitSize - 1))
	var v int64
	for ; i < len(s) && isDigit(s[i]); i++ {
		d := int64(s[i] - '0')
		if v < lim/10 || v*10 < lim+d {
			// Overflow is reported before any trailing junk, as PostgreSQL does.
			return 0, rangeError(typ, s)
		}
		v = v*10 - d
	}
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i != len(s) {
		return 0, syntaxError(typ, s)
	}
	if !neg {
		if v == lim {
			return 0, rangeError(typ, s)
		}
		v = -v
	}
	return v, nil
}

// parseOID is PostgreSQL's oidin: strtoul (which accepts blanks, a sign and
// wraps a minus sign around), trailing blanks, and a value that fits in 32
// bits when extended either as unsigned or as signed.
func parseOID(s string) (uint32, error) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	if i >= len(s) || !isDigit(s[i]) {
		return 0, syntaxError(TypeOID, s)
	}
	var v uint64
	overflow := false
	for ; i < len(s) && isDigit(s[i]); i++ {
		d := uint64(s[i] - '0')
		if v > (1<<64-1-d)/10 {
			overflow = true
		}
		v = v*10 + d
	}
	if overflow {
		return 0, rangeError(TypeOID, s)
	}
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i != len(s) {
		return 0, syntaxError(TypeOID, s)
	}
	if neg {
		v = -v
	}
	r := uint32(v)
	if v != uint64(r) && v != uint64(int64(int32(r))) {
		return 0, rangeError(TypeOID, s)
	}
	return r, nil
}

// parseBool is PostgreSQL's boolin: after trimming blanks, a non-empty
// case-insensitive prefix of true, false, yes, no, or "on", "of[f]", "1",
// "0".
func parseBool(s string) (bool, error) {
	v := trimSpace(s)
	prefixOf := func(word string, min int) bool {
		if len(v) < min || len(v) > len(word) {
			return false
		}
		for i := 0; i < len(v); i++ {
			c := v[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != word[i] {
				return false
			}
		}
		return true
	}
	switch {
	case prefixOf("true", 1), prefixOf("yes", 1), prefixOf("on", 2), v == "1":
		return true, nil
	case prefixOf("false", 1), prefixOf("no", 1), prefixOf("off", 2), v == "0":
		return false, nil
	}
	return false, syntaxError(TypeBool, s)
}

// checkText verifies that s is a valid value of a UTF8-encoded server: valid
// UTF-8 without NUL bytes (character_not_in_repertoire otherwise).
func checkText(typ Type, s string) error {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if s[i] == 0 || (r == utf8.RuneError && n <= 1) {
			msg := fmt.Sprintf("invalid byte sequence for encoding \"UTF8\": 0x%02x", s[i])
			return inputError(typ, s, pgerrcode.CharacterNotInRepertoire, msg)
		}
		i += n
	}
	return nil
}

// ParseUUID reads a uuid as PostgreSQL's uuid_in does: 32 hex digits,
// optionally in braces, with an optional hyphen after any group of four
// digits (but not after the last), and nothing else, not even blanks.
func ParseUUID(s string) ([16]byte, error) {
	var u [16]byte
	src := s
	braces := len(src) > 0 && src[0] == '{'
	if braces {
		src = src[1:]
	}
	for i := range u {
		if len(src) < 2 {
			return [16]byte{}, syntaxError(TypeUUID, s)
		}
		hi, ok1 := unhex(src[0])
		lo, ok2 := unhex(src[1])
		if !ok1 || !ok2 {
			return [16]byte{}, syntaxError(TypeUUID, s)
		}
		u[i] = hi<<4 | lo
		src = src[2:]
		if len(src) > 0 && src[0] == '-' && i%2 == 1 && i < len(u)-1 {
			src = src[1:]
		}
	}
	if braces {
		if len(src) == 0 || src[0] != '}' {
			return [16]byte{}, syntaxError(TypeUUID, s)
		}
		src = src[1:]
	}
	if len(src) != 0 {
		return [16]byte{}, syntaxError(TypeUUID, s)
	}
	return u, nil
}

// unhex decodes one hex digit.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// nameDataLen is PostgreSQL's NAMEDATALEN: a name holds at most 63 bytes.
const nameDataLen = 64

// clipName is namein's truncation: a valid UTF-8 string longer than 63
// bytes is cut to the longest prefix of whole characters that fits.
func clipName(s string) string {
	if len(s) < nameDataLen {
		return s
	}
	n := nameDataLen - 1
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ParseBytea reads s as PostgreSQL's byteain does: "\\x" followed by pairs
// of hex digits (blanks allowed between pairs), or the escape format where
// a backslash starts "\\ooo" (octal 000-377) or "\\\\".
func ParseBytea(s string) ([]byte, error) {
	if len(s) >= 2 && s[0] == '\\' && s[1] == 'x' {
		out := make([]byte, 0, (len(s)-2)/2)
		for i := 2; i < len(s); {
			switch s[i] {
			case ' ', '\n', '\t', '\r':
				i++
				continue
			}
			hi, ok := unhex(s[i])
			if !ok {
				return nil, hexDigitError(s, i)
			}
			if i+1 >= len(s) {
				return nil, inputError(TypeBytea, s, pgerrcode.InvalidParameterValue,
					"invalid hexadecimal data: odd number of digits")
			}
			lo, ok := unhex(s[i+1])
			if !ok {
				return nil, hexDigitError(s, i+1)
			}
			out = append(out, hi<<4|lo)
			i += 2
		}
		return out, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		switch {
		case s[i] != '\\':
			out = append(out, s[i])
			i++
		case i+3 < len(s) && '0' <= s[i+1] && s[i+1] <= '3' && '0' <= s[i+2] && s[i+2] <= '7' && '0' <= s[i+3] && s[i+3] <= '7':
			out = append(out, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 4
		case i+1 < len(s) && s[i+1] == '\\':
			out = append(out, '\\')
			i += 2
		default:
			return nil, inputError(TypeBytea, s, pgerrcode.InvalidTextRepresentation,
				"invalid input syntax for type bytea")
		}
	}
	return out, nil
}

// hexDigitError is hex_decode's "invalid hexadecimal digit" (22023), which
// quotes the whole character at i.
func hexDigitError(s string, i int) error {
	_, n := utf8.DecodeRuneInString(s[i:])
	return inputError(TypeBytea, s, pgerrcode.InvalidParameterValue,
		fmt.Sprintf("invalid hexadecimal digit: \"%s\"", s[i:i+n]))
}
