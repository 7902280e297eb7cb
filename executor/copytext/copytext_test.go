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
