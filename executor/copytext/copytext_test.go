package copytext

import "testing"

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		``:            ``,
		`plain`:       `plain`,
		`a\tb\nc`:     "a\tb\nc",
		`\b\f\r\v`:    "\b\f\r\v",
		`\x41\x4a2`:   "AJ2",
		`\xg`:         "xg",
		`\101\0612`:   "A12",
		`\777`:        "\xff",
		`\\`:          `\`,
		`\N`:          `N`,
		`\q`:          `q`,
		`trailing\`:   `trailing\`,
		`\x4`:         "\x04",
		`ünï\x63ode`:  "ünïcode",
		`\7x`:         "\x07x",
		`\12345`:      "S45",
		`tab\	inside`: "tab\tinside",
	} {
		if got := Unescape([]byte(in)); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestField(t *testing.T) {
	if _, ok := Field([]byte(`\N`)); ok {
		t.Error(`\N is NULL`)
	}
	if v, ok := Field([]byte(`\\N`)); !ok || v != `\N` {
		t.Errorf(`\\N = %q, %v; want the text \N`, v, ok)
	}
	if v, ok := Field([]byte(``)); !ok || v != `` {
		t.Errorf("empty field = %q, %v; want the empty string", v, ok)
	}
}

// TestAppendRowRoundTrip: what AppendRow writes, Unescape reads back, for
// the default and for another delimiter.
func TestAppendRowRoundTrip(t *testing.T) {
	vals := []string{"", "plain", "tab\there", "line\nbreak\r", `back\slash`, "\b\f\v", "a|b", `\N`, "ünï"}
	for _, delim := range []byte{'\t', '|'} {
		row := make([][]byte, len(vals)+1)
		for i, v := range vals {
			row[i] = []byte(v)
		}
		line := AppendRow(nil, row, delim, `\N`) // the last field is NULL
		if line[len(line)-1] != '\n' {
			t.Fatalf("no newline: %q", line)
		}
		fields := splitEscaped(line[:len(line)-1], delim)
		if len(fields) != len(row) {
			t.Fatalf("delimiter %q: %d fields in %q, want %d", delim, len(fields), line, len(row))
		}
		for i, v := range vals {
			if got, ok := Field(fields[i]); !ok || got != v {
				t.Errorf("delimiter %q, field %d: got %q, %v; want %q", delim, i, got, ok, v)
			}
		}
		if _, ok := Field(fields[len(vals)]); ok {
			t.Errorf("delimiter %q: NULL read back as a value", delim)
		}
	}
	if got := string(AppendRow(nil, [][]byte{[]byte("a\tb")}, '\t', `\N`)); got != "a\\tb\n" {
		t.Errorf("tab written as %q, want a\\tb (as PostgreSQL writes it)", got)
	}
}

// splitEscaped splits a text-format line at unescaped delimiters.
func splitEscaped(line []byte, delim byte) [][]byte {
	var out [][]byte
	start := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case delim:
			out = append(out, line[start:i])
			start = i + 1
		}
	}
	return append(out, line[start:])
}
