package planner

import "strings"

// lexer walks SQL text the way PostgreSQL's scanner separates tokens, far
// enough to find identifiers: it skips comments, string constants (plain,
// E”, dollar-quoted) and numbers. It is total: malformed text (an
// unterminated string, say) ends the walk.
type lexer struct {
	s   string
	pos int
}

// identChar reports whether c may continue an unquoted identifier.
func identChar(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// identStart reports whether c may start an unquoted identifier.
func identStart(c byte) bool {
	return c == '_' || c >= 0x80 || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// foldIdent lower-cases ASCII letters, as PostgreSQL folds unquoted names.
func foldIdent(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.Map(func(r rune) rune {
				if 'A' <= r && r <= 'Z' {
					return r + 'a' - 'A'
				}
				return r
			}, s)
		}
	}
	return s
}

// next returns the next identifier (folded when unquoted) and true, or
// false at the end of the text.
func (l *lexer) next() (string, bool) {
	s := l.s
	for l.pos < len(s) {
		c := s[l.pos]
		switch {
		case c == '-' && l.pos+1 < len(s) && s[l.pos+1] == '-':
			for l.pos < len(s) && s[l.pos] != '\n' {
				l.pos++
			}
		case c == '/' && l.pos+1 < len(s) && s[l.pos+1] == '*':
			l.skipBlockComment()
		case c == '\'':
			l.skipString(false)
		case c == '"':
			id, ok := l.quoted()
			if ok {
				return id, true
			}
		case c == '$':
			l.skipDollar()
		case '0' <= c && c <= '9':
			for l.pos < len(s) && identChar(s[l.pos]) {
				l.pos++
			}
		case identStart(c):
			start := l.pos
			for l.pos < len(s) && identChar(s[l.pos]) {
				l.pos++
			}
			word := s[start:l.pos]
			if l.pos < len(s) && s[l.pos] == '\'' && len(word) == 1 {
				l.skipString(word == "e" || word == "E")
				continue
			}
			if l.pos+1 < len(s) && s[l.pos] == '&' && s[l.pos+1] == '\'' && (word == "u" || word == "U") {
				l.pos++
				l.skipString(false)
				continue
			}
			return foldIdent(word), true
		default:
			l.pos++
		}
	}
	return "", false
}

// skipBlockComment skips a (nested) /* */ comment.
func (l *lexer) skipBlockComment() {
	depth := 0
	for l.pos < len(l.s) {
		switch {
		case strings.HasPrefix(l.s[l.pos:], "/*"):
			depth++
			l.pos += 2
		case strings.HasPrefix(l.s[l.pos:], "*/"):
			depth--
			l.pos += 2
			if depth == 0 {
				return
			}
		default:
			l.pos++
		}
	}
}

// skipString skips a quoted string constant starting at the quote;
// backslash escapes count when escapes is set (E'...').
func (l *lexer) skipString(escapes bool) {
	l.pos++
	for l.pos < len(l.s) {
		c := l.s[l.pos]
		switch {
		case escapes && c == '\\':
			l.pos += 2
		case c == '\'':
			if l.pos+1 < len(l.s) && l.s[l.pos+1] == '\'' {
				l.pos += 2
				continue
			}
			l.pos++
			return
		default:
			l.pos++
		}
	}
}

// quoted reads a "quoted identifier" starting at the quote.
func (l *lexer) quoted() (string, bool) {
	var b strings.Builder
	l.pos++
	for l.pos < len(l.s) {
		c := l.s[l.pos]
		if c == '"' {
			if l.pos+1 < len(l.s) && l.s[l.pos+1] == '"' {
				b.WriteByte('"')
				l.pos += 2
				continue
			}
			l.pos++
			return b.String(), true
		}
		b.WriteByte(c)
		l.pos++
	}
	return "", false
}

// skipDollar skips a $n parameter or a $tag$ ... $tag$ string.
func (l *lexer) skipDollar() {
	s := l.s
	end := l.pos + 1
	for end < len(s) && identChar(s[end]) && s[end] != '$' {
		end++
	}
	if end < len(s) && s[end] == '$' && (end == l.pos+1 || !('0' <= s[l.pos+1] && s[l.pos+1] <= '9')) {
		tag := s[l.pos : end+1]
		i := strings.Index(s[end+1:], tag)
		if i < 0 {
			l.pos = len(s)
			return
		}
		l.pos = end + 1 + i + len(tag)
		return
	}
	l.pos = end
}

// nameSpan reads a possibly qualified name (ident[.ident[.ident]]) at
// offset off and returns its end offset and its folded parts; ok is false
// when no name starts there.
func nameSpan(s string, off int) (end int, parts []string, ok bool) {
	if off < 0 || off >= len(s) {
		return 0, nil, false
	}
	l := &lexer{s: s, pos: off}
	for {
		for l.pos < len(s) && (s[l.pos] == ' ' || s[l.pos] == '\t' || s[l.pos] == '\n' || s[l.pos] == '\r') {
			l.pos++
		}
		if l.pos >= len(s) {
			return 0, nil, false
		}
		var part string
		switch c := s[l.pos]; {
		case c == '"':
			id, ok := l.quoted()
			if !ok {
				return 0, nil, false
			}
			part = id
		case identStart(c):
			start := l.pos
			for l.pos < len(s) && identChar(s[l.pos]) {
				l.pos++
			}
			part = foldIdent(s[start:l.pos])
		default:
			return 0, nil, false
		}
		parts = append(parts, part)
		end = l.pos
		p := l.pos
		for p < len(s) && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r') {
			p++
		}
		if p >= len(s) || s[p] != '.' || len(parts) == 3 {
			return end, parts, true
		}
		l.pos = p + 1
	}
}
