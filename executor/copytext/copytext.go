// Package copytext decodes fields of PostgreSQL's COPY text format, for the
// coordinator's COPY routing and for moving a table's rows into its shards.
package copytext

import "bytes"

// Field decodes one field of COPY's text format; ok is false for NULL
// (the default null string, \N).
func Field(f []byte) (val string, ok bool) {
	if len(f) == 2 && f[0] == '\\' && f[1] == 'N' {
		return "", false
	}
	return Unescape(f), true
}

// Unescape decodes the backslash escapes of COPY's text format as
// PostgreSQL's CopyReadAttributesText does: \b \f \n \r \t \v, \xH[H]
// (hex), \O[O[O]] (octal, truncated to a byte), and \c for any other c.
func Unescape(f []byte) string {
	if bytes.IndexByte(f, '\\') < 0 {
		return string(f)
	}
	out := make([]byte, 0, len(f))
	for i := 0; i < len(f); i++ {
		if f[i] != '\\' || i+1 == len(f) {
			out = append(out, f[i])
			continue
		}
		i++
		switch c := f[i]; c {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		case 'x':
			v, n := 0, 0
			for n < 2 && i+1 < len(f) && isHex(f[i+1]) {
				i++
				v = v*16 + hexValue(f[i])
				n++
			}
			if n == 0 {
				out = append(out, 'x')
			} else {
				out = append(out, byte(v))
			}
		default:
			if c >= '0' && c <= '7' {
				v := int(c - '0')
				for n := 1; n < 3 && i+1 < len(f) && f[i+1] >= '0' && f[i+1] <= '7'; n++ {
					i++
					v = v*8 + int(f[i]-'0')
				}
				out = append(out, byte(v))
			} else {
				out = append(out, c)
			}
		}
	}
	return string(out)
}

// isHex reports whether c is a hex digit.
func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// hexValue is the value of the hex digit c.
func hexValue(c byte) int {
	switch {
	case c <= '9':
		return int(c - '0')
	case c >= 'a':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

// AppendRow appends a row in COPY's text format to dst: fields separated by
// delim, NULL written as null, and values escaped as PostgreSQL's COPY TO
// writes them (CopyAttributeOutText): backslash, \b \f \n \r \t \v, and the
// delimiter preceded by a backslash. The row ends with a newline.
func AppendRow(dst []byte, row [][]byte, delim byte, null string) []byte {
	for i, v := range row {
		if i > 0 {
			dst = append(dst, delim)
		}
		if v == nil {
			dst = append(dst, null...)
			continue
		}
		for _, c := range v {
			switch c {
			case '\\':
				dst = append(dst, '\\', '\\')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\v':
				dst = append(dst, '\\', 'v')
			case delim:
				dst = append(dst, '\\', c)
			default:
				dst = append(dst, c)
			}
		}
	}
	return append(dst, '\n')
}
