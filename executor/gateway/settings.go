package gateway

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
)

// The gateway reads statements with pg_query, which lexes them as a
// PostgreSQL session does with standard_conforming_strings on and a client
// encoding in which every byte below 0x80 is ASCII. A session that lexes
// otherwise could hide a statement from the gateway: with
// standard_conforming_strings off,
//
//	SELECT 'a\' AS b, ' ; DO $$ ... $$ ; SELECT 1 --'
//
// is one SELECT to the gateway and three statements to the worker (not a
// way to COMMIT PREPARED, which cannot run in a multi-statement text, but
// to run anything else the gateway refuses); in the
// client-only encodings (SJIS, BIG5, GBK, UHC, GB18030, JOHAB) a
// multibyte character may end in the byte of a backslash and change where
// an E'' string ends. So these two settings are pinned: statements that
// set them otherwise are refused (here and in Classify), so are startup
// parameters that do, and relayBackend closes any session whose worker
// reports them otherwise (ParameterStatus), whatever changed them.

// lexSettings are the settings that change how a statement is lexed.
var lexSettings = map[string]bool{"standard_conforming_strings": true, "client_encoding": true}

// unsafeEncodings are the client-only encodings, their names normalized
// as PostgreSQL does (lower case, letters and digits only).
var unsafeEncodings = map[string]bool{
	"sjis": true, "shiftjis": true, "mskanji": true, "win932": true, "windows932": true, "shiftjis2004": true,
	"big5": true, "win950": true, "windows950": true, "gbk": true, "win936": true, "windows936": true,
	"uhc": true, "win949": true, "windows949": true, "gb18030": true, "johab": true,
}

// normalizeEncoding is PostgreSQL's clean_encoding_name.
func normalizeEncoding(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unsafeSetting returns why the value of a lexing setting is refused ("":
// it is not).
func unsafeSetting(name, value string) string {
	switch strings.ToLower(name) {
	case "standard_conforming_strings":
		switch strings.ToLower(strings.TrimSpace(value)) {
		case "on", "true", "yes", "1", "t", "y":
			return ""
		}
		return "standard_conforming_strings must stay on: the gateway reads statements as PostgreSQL does with it on"
	case "client_encoding":
		if unsafeEncodings[normalizeEncoding(value)] {
			return "client encoding " + value + " is refused: a character may end in a backslash byte, which the gateway cannot read as the worker does"
		}
	}
	return ""
}

// setStatement checks SET, SET LOCAL, SET NAMES and RESET of the lexing
// settings.
func setStatement(s *pg.VariableSetStmt) *Refusal {
	name := strings.ToLower(s.Name)
	if !lexSettings[name] || s.Kind != pg.VariableSetKind_VAR_SET_VALUE {
		return nil // RESET and DEFAULT go back to the server's settings, checked at startup
	}
	for _, a := range s.Args {
		c := a.GetAConst()
		if c == nil {
			return refused("SET %s to a value the gateway cannot read is refused", name)
		}
		var v string
		switch {
		case c.GetSval() != nil:
			v = c.GetSval().GetSval()
		case c.GetBoolval() != nil:
			v = "off"
			if c.GetBoolval().GetBoolval() {
				v = "on"
			}
		case c.GetIval() != nil && c.GetIval().GetIval() == 1:
			v = "1"
		default:
			return refused("SET %s to a value the gateway cannot read is refused", name)
		}
		if why := unsafeSetting(name, v); why != "" {
			return refused("%s", why)
		}
	}
	return nil
}

// setConfigCall checks a call of set_config(name, value, is_local): the
// lexing settings cannot be set through it, and a name that is not a
// constant is refused, as the gateway cannot tell what it sets.
func setConfigCall(fc *pg.FuncCall) *Refusal {
	if len(fc.Args) == 0 {
		return nil
	}
	c := fc.Args[0].GetAConst()
	if c == nil || c.GetSval() == nil {
		return refused("set_config() with a setting name that is not a constant is refused")
	}
	if name := strings.ToLower(c.GetSval().GetSval()); lexSettings[name] {
		return refused("set_config(%q) is refused: the gateway pins how statements are read", name)
	}
	return nil
}

// startupSettings checks a StartupMessage's parameters: the lexing
// settings given directly, or in "options" (-c name=value, --name=value).
func startupSettings(params map[string]string) string {
	for k, v := range params {
		if lexSettings[strings.ToLower(k)] {
			if why := unsafeSetting(k, v); why != "" {
				return why
			}
		}
	}
	if o := strings.ToLower(params["options"]); strings.Contains(o, "standard_conforming_strings") ||
		strings.Contains(o, "client_encoding") || strings.Contains(o, "standard-conforming-strings") || strings.Contains(o, "client-encoding") {
		return "setting standard_conforming_strings or client_encoding in the startup options is refused"
	}
	return ""
}
