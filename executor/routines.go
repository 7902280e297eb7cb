package executor

import (
	"context"
)

// A function created on the metadata database without going through this
// coordinator (another client connected to it directly, a migration
// tool) is not in the catalog state's list of functions reading
// distributed tables (functionguard.go) until the state is reloaded.
// Session.currentFor catches the common case, a function that is new:
// the state keeps the names of every function the database had when it
// was loaded, and a statement calling a name unknown to it (a word
// followed by "(") asks the metadata database whether such a function
// exists now; if so the state is reloaded before the statement is
// planned, else the word is remembered as no function (table names in
// INSERT INTO t (...), column alias lists), so each costs one query per
// catalog state. A function replaced or altered directly on the metadata
// database keeps its name and is seen at the next catalog change.

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
// reloaded first when sql calls a function the state does not know and
// the metadata database now has.
func (s *Session) currentFor(ctx context.Context, sql string) (*catalogState, error) {
	st, err := s.h.current(ctx)
	if err != nil || st.funcs == nil {
		return st, err
	}
	var unknown []string
	forEachCall(sql, func(word string) bool {
		if st.funcs[word] || notCalls[word] {
			return true
		}
		if _, no := st.notFuncs.Load(word); no {
			return true
		}
		unknown = append(unknown, word)
		return len(unknown) < 8
	})
	if len(unknown) == 0 {
		return st, nil
	}
	c, err := s.h.metaPool.Acquire(ctx)
	if err != nil {
		return nil, catalogError(err)
	}
	defer c.Release()
	res := c.PgConn().ExecParams(ctx, "SELECT lower(proname) FROM pg_proc WHERE lower(proname) = ANY (string_to_array($1, ','))",
		[][]byte{[]byte(joinWords(unknown))}, nil, nil, nil).Read()
	if res.Err != nil {
		return nil, catalogError(res.Err)
	}
	if len(res.Rows) > 0 {
		// New functions: their bodies may read distributed tables.
		s.log.Debug("functions created outside pgfed, reloading the catalog state", "function", string(res.Rows[0][0]))
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
	for i := 0; i < len(sql); {
		if !identStart(sql[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(sql) && identChar(sql[j]) {
			j++
		}
		word := sql[i:j]
		k := j
		if k < len(sql) && sql[k] == '"' {
			k++
		}
		for k < len(sql) && (sql[k] == ' ' || sql[k] == '\t' || sql[k] == '\n' || sql[k] == '\r' || sql[k] == '\f') {
			k++
		}
		if k < len(sql) && sql[k] == '(' {
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
