package executor

import (
	"strings"

	"github.com/jackc/pgerrcode"

	"github.com/pgfed/pgfed/wire"
)

// A statement that names no distributed table runs on the metadata
// database unchanged. A user-defined function called there whose body
// reads a distributed table would read the table's empty shell and give a
// wrong answer without an error. The catalog state keeps the names of the
// user-defined SQL and PL/pgSQL functions (and procedures) whose bodies
// mention a distributed or reference table, directly or through another
// such function (guardedFunctionsQuery), and the session refuses any
// statement calling one of them with 0A000 naming the function and the
// table (guard): a local statement (it would read the shell), and a
// distributed one too, since the call would run either on the workers
// (which hold the table as shards under other names, and usually not the
// function) or on the metadata database over intermediate results (where
// the function still reads the shell). For a distributed statement the
// text checked is the planned one, so a call inside the definition of a
// view over distributed tables is caught as well.
//
// What is answered: functions that read no distributed table (built-in
// or user-defined, over local tables or none), anywhere; a SQL or
// PL/pgSQL function whose body mentions no distributed table is let
// through even when it reaches one by dynamic SQL (EXECUTE of a string
// built at run time), which no text match can see. What is refused:
// every call, anywhere in a statement, to a SQL or PL/pgSQL function or
// procedure whose body names a distributed or reference table (or calls
// such a function), including CALL and DO blocks calling one.
//
// The match is on words, not on a parse: a function whose body mentions
// a distributed table's name (even as another schema's table, a column
// or in a comment) is refused, and a statement is taken to call a function
// when the function's name is followed by "(" anywhere in its text
// (string literals and comments included). Both errors are on the safe
// side: a refusal, never a wrong answer.
//
// The list is loaded with the table shapes, when the catalog changes. A
// function created, replaced, altered or dropped through this
// coordinator invalidates the catalog state when its transaction ends
// (Session.routinesChanged), so that the next statement reloads the list
// with the change visible. A function created directly on the metadata
// database, bypassing pgfed, is seen at its first call: a call to a name
// the catalog state does not know reloads the state (routines.go). One
// replaced or altered there (same name, new body) is seen at the next
// catalog change or function DDL through pgfed.

// guardedFunctionsQuery returns, for each user-defined SQL or PL/pgSQL
// function or procedure whose body mentions a distributed or reference
// table's name (a case-insensitive word match), or the name of another
// such function, the function's name and the table's name as its body (or
// its callee's) spells it. Functions of extensions and of the system
// schemas are left out. SQL-standard bodies (BEGIN ATOMIC, RETURN) are
// read with pg_get_function_sqlbody.
const guardedFunctionsQuery = `WITH RECURSIVE fn AS (
	SELECT p.oid, p.proname,
		CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) ELSE p.prosrc END AS body
	FROM pg_proc p
	JOIN pg_namespace n ON n.oid = p.pronamespace
	JOIN pg_language l ON l.oid = p.prolang
	WHERE l.lanname IN ('sql', 'plpgsql') AND p.prokind IN ('f', 'p')
	AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgfed') AND n.nspname NOT LIKE 'pg\_%'
	AND NOT EXISTS (SELECT FROM pg_depend d
		WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
), tables AS (
	SELECT '(?i)\m(' || string_agg(regexp_replace(c.relname, '(\W)', '\\\1', 'g'), '|') || ')\M' AS re
	FROM pgfed.partition pa JOIN pg_class c ON c.oid = pa.logicalrelid
), reads(oid, proname, tab) AS (
	SELECT fn.oid, fn.proname, substring(fn.body FROM tables.re)
	FROM fn, tables
	WHERE tables.re IS NOT NULL AND fn.body ~ tables.re
	UNION
	SELECT fn.oid, fn.proname, reads.tab
	FROM reads JOIN fn ON fn.oid <> reads.oid
		AND fn.body ~* ('\m' || regexp_replace(reads.proname, '(\W)', '\\\1', 'g') || '\M')
)
SELECT proname, min(tab) FROM reads GROUP BY proname`

// guard refuses a statement that calls a function reading a distributed
// table: local (about to run on the metadata database, sql is the
// client's text) or distributed (sql is the planned text, with views
// expanded; the function would run on the workers, which hold shards
// under other names, or on the metadata database over shells).
// Statements creating, altering, dropping, commenting on or granting a
// function or a view name it followed by "(" without calling it, and are
// let through. The caller checks that st.guarded is not empty, so that
// statements pay nothing when no function reads a distributed table.
func (st *catalogState) guard(sql string, local bool) error {
	fn, table, ok := callsGuarded(sql, st.guarded)
	if !ok || (classify(sql) == cmdDDL && mentionsRoutine(sql)) {
		return nil
	}
	e := &wire.Error{Code: pgerrcode.FeatureNotSupported,
		Message: "function " + fn + "() reads the distributed table " + table +
			", which is an empty shell table on the coordinator",
		Detail: "A statement that names no distributed table runs on the metadata database, where " + fn +
			"() would read the shell of " + table + " instead of its shards and return a wrong answer.",
		Hint: "Run the function's query directly, naming " + table + " in the statement itself."}
	if !local {
		e.Message = "function " + fn + "() reads the distributed table " + table +
			" and cannot be called in a distributed query"
		e.Detail = "Called next to a distributed table, " + fn + "() would run on the workers, which hold " + table +
			" as shards under other names, or on the coordinator, where " + table +
			" is an empty shell table, and return a wrong answer."
		e.Hint = "Name " + table + " in the statement itself (a join or a subquery) instead of through " + fn + "()."
	}
	return e
}

// callsGuarded finds the first word of sql followed by "(" (optionally
// after a closing double quote and white space) that is, folded to lower
// case, the name of a guarded function; it returns the function's name
// and the table it reads.
func callsGuarded(sql string, guarded map[string]string) (string, string, bool) {
	var buf [64]byte
	for i := 0; ; {
		start, end, call := nextWord(sql, i)
		if start < 0 {
			break
		}
		word, j := sql[start:end], end
		if call && len(word) <= len(buf) {
			for n := 0; n < len(word); n++ {
				c := word[n]
				if c >= 'A' && c <= 'Z' {
					c += 'a' - 'A'
				}
				buf[n] = c
			}
			if table, ok := guarded[string(buf[:len(word)])]; ok {
				return word, table, true
			}
		}
		i = j
	}
	return "", "", false
}

// nextWord finds the first word of sql (PostgreSQL identifier characters)
// at or after i: its bounds, and whether "(" follows it, after an optional
// closing double quote and white space (a call). start is -1 when no word
// is left.
func nextWord(sql string, i int) (start, end int, call bool) {
	for i < len(sql) && !identStart(sql[i]) {
		i++
	}
	if i == len(sql) {
		return -1, -1, false
	}
	j := i + 1
	for j < len(sql) && identChar(sql[j]) {
		j++
	}
	k := j
	if k < len(sql) && sql[k] == '"' {
		k++
	}
	for k < len(sql) && (sql[k] == ' ' || sql[k] == '\t' || sql[k] == '\n' || sql[k] == '\r' || sql[k] == '\f') {
		k++
	}
	return i, j, k < len(sql) && sql[k] == '('
}

// identStart and identChar are PostgreSQL's identifier characters (any
// byte of a multibyte character counts as a letter).
func identStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func identChar(c byte) bool {
	return identStart(c) || c >= '0' && c <= '9' || c == '$'
}

// mentionsRoutine reports whether sql has the word FUNCTION, PROCEDURE,
// ROUTINE, VIEW or RULE (any case): with classify's cmdDDL, a statement
// that may create, replace, alter or drop a function or a view (views
// over distributed tables are expanded by the planner, views.go).
func mentionsRoutine(sql string) bool {
	for i := 0; i < len(sql); {
		if !identStart(sql[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(sql) && identChar(sql[j]) {
			j++
		}
		switch w := sql[i:j]; len(w) {
		case 4, 7, 8, 9:
			if strings.EqualFold(w, "function") || strings.EqualFold(w, "procedure") || strings.EqualFold(w, "routine") ||
				strings.EqualFold(w, "view") || strings.EqualFold(w, "rule") {
				return true
			}
		}
		i = j
	}
	return false
}

// changesRoutines reports whether a local statement may create, replace,
// alter or drop a function or a view: DDL naming FUNCTION, PROCEDURE,
// ROUTINE, VIEW or RULE, or a string of several statements that names one
// of them. Single
// statements other than DDL cost one IndexByte.
func changesRoutines(cmd command, sql string) bool {
	if cmd == cmdDDL {
		return mentionsRoutine(sql)
	}
	return strings.IndexByte(sql, ';') >= 0 && hasSecondStatement(sql) && mentionsRoutine(sql)
}
