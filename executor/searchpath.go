package executor

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/planner"
)

// plan plans a statement with the planner of the session's search path.
func (s *Session) plan(st *catalogState, sql string) (*planner.Plan, error) {
	pl, err := st.plannerFor(s.searchPath).Plan(sql)
	if err == nil && pl.Kind == planner.KindLocal {
		if err := s.pendingView(pl, sql); err != nil {
			return nil, err
		}
	}
	if err == nil && len(st.guarded) > 0 {
		// A statement calling a function that reads a distributed table
		// would read its empty shell, or fail on the workers
		// (functionguard.go).
		if pl.Kind == planner.KindLocal {
			err = st.guard(sql, true)
		} else {
			err = st.guard(pl.SQL, false)
		}
		if err != nil {
			return nil, err
		}
	}
	return pl, err
}

// searchPathOf returns the schemas unqualified names resolve in.
func (s *Session) searchPathOf(st *catalogState) []string {
	if s.searchPath != nil {
		return s.searchPath
	}
	return st.schema.SearchPath()
}

// setSearchPath records the session's search_path ("" resets it to the
// default).
func (s *Session) setSearchPath(value string) {
	s.searchPath = parseSearchPath(value, s.user)
}

// parseSearchPath reads a search_path value: schema names separated by
// commas, unquoted ones folded to lower case, "$user" meaning the
// session's user; nil for the default.
func parseSearchPath(value, user string) []string {
	value = strings.TrimSpace(value)
	if value == "" || strings.EqualFold(value, "default") {
		return nil
	}
	var out []string
	for _, part := range strings.Split(value, ",") {
		part = strings.TrimSpace(part)
		switch {
		case len(part) >= 2 && part[0] == '"' && part[len(part)-1] == '"':
			part = strings.ReplaceAll(part[1:len(part)-1], `""`, `"`)
		case len(part) >= 2 && part[0] == '\'' && part[len(part)-1] == '\'':
			part = part[1 : len(part)-1]
		default:
			part = strings.ToLower(part)
		}
		if part == "$user" {
			part = user
		}
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}

// optionSetting finds a setting in the options startup parameter
// ("-c name=value" or "--name=value", backslash escaping spaces).
func optionSetting(options, name string) (string, bool) {
	var words []string
	var cur strings.Builder
	for i := 0; i < len(options); i++ {
		c := options[i]
		switch {
		case c == '\\' && i+1 < len(options):
			i++
			cur.WriteByte(options[i])
		case c == ' ' || c == '\t':
			if cur.Len() > 0 {
				words = append(words, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		words = append(words, cur.String())
	}
	found, value := false, ""
	for i, w := range words {
		switch {
		case w == "-c" && i+1 < len(words):
			if v, ok := strings.CutPrefix(words[i+1], name+"="); ok {
				found, value = true, v
			}
		case strings.HasPrefix(w, "--"+name+"="):
			found, value = true, strings.TrimPrefix(w, "--"+name+"=")
		case strings.HasPrefix(w, "-c"+name+"="):
			found, value = true, strings.TrimPrefix(w, "-c"+name+"=")
		}
	}
	return value, found
}

// planInner plans the query inside a DECLARE, EXPLAIN or COPY (query) TO
// and returns its text and plan. A nil plan with no error means the
// statement is not the coordinator's to run (the query cannot be deparsed,
// or it names no distributed table): it goes to the metadata database as
// the client wrote it.
func (s *Session) planInner(st *catalogState, n *pg.Node) (string, *planner.Plan, error) {
	q, err := deparseNode(n)
	if err != nil {
		return "", nil, nil
	}
	pl, err := s.plan(st, q)
	if err != nil {
		return "", nil, err
	}
	if pl.Kind == planner.KindLocal {
		return "", nil, nil
	}
	return q, pl, nil
}
