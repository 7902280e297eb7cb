package difftest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Query is one SELECT of the corpus.
type Query struct {
	File string // path of the .sql file, as given to LoadCorpus
	Line int    // line of the statement's first line
	// Name is the header's first line: what the query exercises.
	Name string
	// Ordered: the query's ORDER BY is total, so rows compare in order;
	// otherwise they compare as multisets.
	Ordered bool
	// Empty: the query may legitimately return no rows (the oracle check
	// otherwise insists on at least one).
	Empty bool
	SQL   string // without the final ';'
}

// Where is "file:line".
func (q Query) Where() string { return fmt.Sprintf("%s:%d", q.File, q.Line) }

// Tags recognised in a query's header.
const (
	tagOrdered = "@ordered"
	tagEmpty   = "@empty"
)

// LoadCorpus reads every *.sql file of dir, in name order.
//
// A file is a sequence of statements, each ending with a line whose last
// character is ';'. The comment lines ("-- ...") immediately above a
// statement are its header: the first is its name, and a line holding
// @ordered or @empty sets those flags. Blank lines separate queries;
// comments inside a statement belong to its SQL.
func LoadCorpus(dir string) ([]Query, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("corpus: no .sql file in %s", dir)
	}
	var qs []Query
	for _, f := range files {
		fq, err := parseFile(f)
		if err != nil {
			return nil, err
		}
		qs = append(qs, fq...)
	}
	return qs, nil
}

func parseFile(path string) ([]Query, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		qs     []Query
		header []string
		cur    *Query
		body   []string
		n      int
	)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		n++
		line := sc.Text()
		trim := strings.TrimSpace(line)
		if cur == nil {
			switch {
			case trim == "":
				header = nil
				continue
			case strings.HasPrefix(trim, "--"):
				header = append(header, strings.TrimSpace(strings.TrimPrefix(trim, "--")))
				continue
			}
			cur = &Query{File: path, Line: n}
			for _, h := range header {
				switch {
				case strings.Contains(h, tagOrdered):
					cur.Ordered = true
				case strings.Contains(h, tagEmpty):
					cur.Empty = true
				case cur.Name == "":
					cur.Name = h
				}
			}
			header, body = nil, nil
		}
		body = append(body, line)
		if strings.HasSuffix(trim, ";") {
			sql := strings.TrimSpace(strings.Join(body, "\n"))
			cur.SQL = strings.TrimSpace(strings.TrimSuffix(sql, ";"))
			if cur.Name == "" {
				return nil, fmt.Errorf("%s: query without a header comment naming what it exercises", cur.Where())
			}
			qs = append(qs, *cur)
			cur = nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if cur != nil {
		return nil, fmt.Errorf("%s: statement not ended by ';'", cur.Where())
	}
	return qs, nil
}

// Statements splits a script such as schema.sql or distribute.sql into
// statements at lines ending with ';', dropping comment-only lines. Each
// comes with the line it starts on.
func Statements(script string) []Statement {
	var (
		out   []Statement
		body  []string
		start int
	)
	for i, line := range strings.Split(script, "\n") {
		trim := strings.TrimSpace(line)
		if len(body) == 0 && (trim == "" || strings.HasPrefix(trim, "--")) {
			continue
		}
		if len(body) == 0 {
			start = i + 1
		}
		body = append(body, line)
		if strings.HasSuffix(trim, ";") {
			out = append(out, Statement{Line: start, SQL: strings.TrimSpace(strings.Join(body, "\n"))})
			body = nil
		}
	}
	if len(body) > 0 {
		out = append(out, Statement{Line: start, SQL: strings.TrimSpace(strings.Join(body, "\n"))})
	}
	return out
}

// Statement is one statement of a script and the line it starts on.
type Statement struct {
	Line int
	SQL  string
}
