package executor

import (
	"strings"

	"github.com/pgfed/pgfed/planner"
)

// plan plans a statement with the planner of the session's search path.
func (s *Session) plan(st *catalogState, sql string) (*planner.Plan, error) {
	return st.plannerFor(s.searchPath).Plan(sql)
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
