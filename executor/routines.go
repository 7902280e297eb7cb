package executor

import (
	"context"
	"strings"
)

// A function or a view created on the metadata database without going
// through this coordinator (another client connected to it directly, a
// migration tool) is unknown to the catalog state until it is reloaded:
// a function reading a distributed table would not be in the guard's
// list (functionguard.go), a view over one would not be expanded (the
// statement would read it over the empty shells). Session.currentFor
// catches the common case, a name that is new: the state keeps the names
// of every function and relation the database had when it was loaded,
// and a statement calling a name unknown to it (a word followed by "(")
// or naming one after FROM or JOIN asks the metadata database whether a
// function or a view of that name exists now; if so the state is reloaded
// before the statement is planned, else the word is remembered as naming
// neither (a column alias list, a table created since), so each costs one
// query per catalog state. A function or view replaced or altered
// directly on the metadata database keeps its name and is seen at the
// next catalog change, or DDL on a function or view through pgfed.

// maxNotFuncs bounds the words a catalog state remembers as naming no
// function; past it, unknown words are looked up every time.
const maxNotFuncs = 4096

// notCalls are keywords that precede "(" without being function calls.
var notCalls = map[string]bool{
	"in": true, "values": true, "exists": true, "any": true, "all": true, "some": true, "array": true,
	"row": true, "as": true, "on": true, "using": true, "over": true, "filter": true, "within": true,
	"from": true, "where": true, "and": true, "or": true, "not": true, "when": true, "then": true,
	"else": true, "select": true, "into": true, "table": true, "by": true, "join": true, "lateral": true,
	"with": true, "returning": true, "set": true, "like": true, "between": true, "is": true,
	"distinct": true, "default": true, "check": true, "key": true, "unique": true, "references": true,
	"conflict": true, "do": true, "case": true, "limit": true, "offset": true, "having": true,
	"union": true, "intersect": true, "except": true, "update": true, "partition": true, "window": true,
	"include": true, "grouping": true, "cube": true, "rollup": true, "sets": true, "only": true,
}

// currentFor returns the catalog state to plan sql with: the current one,
// reloaded first when sql calls a function, or reads a relation, that the
// state does not know and the metadata database now has as a function or
// a view.
func (s *Session) currentFor(ctx context.Context, sql string) (*catalogState, error) {
	st, err := s.h.current(ctx)
	if err != nil || st.funcs == nil {
		return st, err
	}
	var unknown []string
	check := func(word string) bool {
		if st.funcs[word] || notCalls[word] {
			return true
		}
		if _, no := st.notFuncs.Load(word); no {
			return true
		}
		unknown = append(unknown, word)
		return len(unknown) < 8
	}
	forEachCall(sql, check)
	if len(unknown) < 8 {
		forEachRelation(sql, check)
	}
	if len(unknown) == 0 {
		return st, nil
	}
	c, err := s.h.metaPool.Acquire(ctx)
	if err != nil {
		return nil, catalogError(err)
	}
	defer c.Release()
	res := c.PgConn().ExecParams(ctx, `SELECT lower(proname) FROM pg_proc WHERE lower(proname) = ANY (string_to_array($1, ','))
UNION ALL SELECT lower(relname) FROM pg_class WHERE relkind = 'v' AND lower(relname) = ANY (string_to_array($1, ','))`,
		[][]byte{[]byte(joinWords(unknown))}, nil, nil, nil).Read()
	if res.Err != nil {
		return nil, catalogError(res.Err)
	}
	if len(res.Rows) > 0 {
		// New functions or views: a function's body may read
		// distributed tables, a view may be over them.
		s.log.Debug("functions or views created outside pgfed, reloading the catalog state", "name", string(res.Rows[0][0]))
		s.h.invalidate()
		return s.h.current(ctx)
	}
	for _, w := range unknown {
		if st.nNot.Add(1) <= maxNotFuncs {
			st.notFuncs.Store(w, true)
		}
	}
	return st, nil
}

// joinWords joins words with commas (words never hold one).
func joinWords(words []string) string {
	n := 0
	for _, w := range words {
		n += len(w) + 1
	}
	b := make([]byte, 0, n)
	for i, w := range words {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, w...)
	}
	return string(b)
}

// forEachCall calls fn with every word of sql followed by "(" (as
// callsGuarded finds them), folded to lower case, until fn returns false.
// Text without "(" costs one scan of its bytes.
func forEachCall(sql string, fn func(word string) bool) {
	open := false
	for i := 0; i < len(sql); i++ {
		if sql[i] == '(' {
			open = true
			break
		}
	}
	if !open {
		return
	}
	for i := 0; ; {
		start, end, call := nextWord(sql, i)
		if start < 0 {
			return
		}
		word, j := sql[start:end], end
		if call {
			lower := true
			for n := 0; n < len(word); n++ {
				if c := word[n]; c >= 'A' && c <= 'Z' {
					lower = false
					break
				}
			}
			if !lower {
				b := []byte(word)
				for n, c := range b {
					if c >= 'A' && c <= 'Z' {
						b[n] = c + 'a' - 'A'
					}
				}
				word = string(b)
			}
			if !fn(word) {
				return
			}
		}
		i = j
	}
}

// forEachRelation calls fn with the word after every FROM and JOIN of sql
// (the last part of a qualified name), folded to lower case, until fn
// returns false. Quoted names are skipped: they are rare after FROM in
// generated SQL, and a miss only delays the reload to the next catalog
// change.
func forEachRelation(sql string, fn func(word string) bool) {
	after := false
	for i := 0; i < len(sql); {
		c := sql[i]
		if c == '"' {
			after = false
			i++
			continue
		}
		if !identStart(c) {
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '.' {
				after = false
			}
			i++
			continue
		}
		j := i + 1
		for j < len(sql) && identChar(sql[j]) {
			j++
		}
		word := sql[i:j]
		switch {
		case strings.EqualFold(word, "from") || strings.EqualFold(word, "join"):
			after = true
		case after && (j >= len(sql) || sql[j] != '.'):
			if strings.EqualFold(word, "lateral") || strings.EqualFold(word, "only") {
				break
			}
			after = false
			if !fn(lowerASCII(word)) {
				return
			}
		}
		i = j
	}
}

// lowerASCII folds ASCII letters to lower case, allocating only when
// there is one to fold.
func lowerASCII(w string) string {
	for n := 0; n < len(w); n++ {
		if c := w[n]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(w)
		}
	}
	return w
}
