package executor

import (
	"strings"

	"github.com/pgfed/pgfed/planner"
)

// plan plans a statement with the planner of the session's search path.
func (s *Session) plan(st *catalogState, sql string) (*planner.Plan, error) {
	pl, err := st.plannerFor(s.searchPath).Plan(sql)
	if err == nil && pl.Kind == planner.KindLocal && len(st.guarded) > 0 {
		// A local statement calling a function that reads a distributed
		// table would read its empty shell (functionguard.go).
		if gerr := st.guardLocal(sql); gerr != nil {
			return nil, gerr
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
