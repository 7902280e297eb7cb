package difftest

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Result is what a query returned, every value as the server's text.
type Result struct {
	Names []string
	OIDs  []uint32
	Rows  [][]*string // nil is NULL
}

// Protocol is how a query is sent.
type Protocol uint8

const (
	Simple   Protocol = iota // one Query message
	Extended                 // Parse, Bind (text results), Execute, Sync
)

// String names the protocol.
func (p Protocol) String() string { return [...]string{"simple", "extended"}[p] }

// Run runs sql on conn with the simple protocol (text results) and reads
// every row.
func Run(ctx context.Context, conn *pgx.Conn, sql string) (Result, error) {
	return RunWith(ctx, conn, sql, Simple)
}

// RunWith runs sql on conn with the given protocol, asking for text
// results either way, and reads every row.
func RunWith(ctx context.Context, conn *pgx.Conn, sql string, p Protocol) (Result, error) {
	args := []any{pgx.QueryExecModeSimpleProtocol}
	if p == Extended {
		args = []any{pgx.QueryExecModeExec, pgx.QueryResultFormats{pgx.TextFormatCode}}
	}
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return Result{}, err
	}
	defer rows.Close()
	var r Result
	for _, f := range rows.FieldDescriptions() {
		r.Names = append(r.Names, f.Name)
		r.OIDs = append(r.OIDs, f.DataTypeOID)
	}
	for rows.Next() {
		raw := rows.RawValues()
		row := make([]*string, len(raw))
		for i, v := range raw {
			if v != nil {
				s := string(v)
				row[i] = &s
			}
		}
		r.Rows = append(r.Rows, row)
	}
	return r, rows.Err()
}

// key encodes a row so that equal rows, and only they, have equal keys
// (NULL differs from the text "NULL").
func key(row []*string) string {
	var b strings.Builder
	for _, v := range row {
		if v == nil {
			b.WriteString("\x01")
		} else {
			b.WriteString("\x02")
			b.WriteString(*v)
		}
		b.WriteString("\x00")
	}
	return b.String()
}

// Diff compares got with want: column names and types, then rows in order
// when ordered, else as multisets. It returns "" when they agree, else a
// short account of the first differences.
func Diff(want, got Result, ordered bool) string {
	var out []string
	if !slices.Equal(want.Names, got.Names) {
		out = append(out, fmt.Sprintf("column names: want %q, got %q", want.Names, got.Names))
	}
	if !slices.Equal(want.OIDs, got.OIDs) {
		out = append(out, fmt.Sprintf("%s %s (want %v, got %v)", typesPrefix, typeChanges(want.OIDs, got.OIDs), want.OIDs, got.OIDs))
	}
	if len(want.Rows) != len(got.Rows) {
		out = append(out, fmt.Sprintf("row count: want %d, got %d", len(want.Rows), len(got.Rows)))
	}
	if ordered {
		for i := 0; i < len(want.Rows) && i < len(got.Rows); i++ {
			if key(want.Rows[i]) != key(got.Rows[i]) {
				out = append(out, fmt.Sprintf("first different row is #%d: want %s, got %s", i+1, FormatRow(want.Rows[i]), FormatRow(got.Rows[i])))
				break
			}
		}
		return strings.Join(out, "\n")
	}
	missing, extra := multisetDiff(want.Rows, got.Rows)
	if len(missing) > 0 {
		out = append(out, fmt.Sprintf("%d rows missing, e.g.\n%s", len(missing), FormatRows(missing, 5)))
	}
	if len(extra) > 0 {
		out = append(out, fmt.Sprintf("%d rows too many, e.g.\n%s", len(extra), FormatRows(extra, 5)))
	}
	return strings.Join(out, "\n")
}

// typesPrefix starts the line of Diff about column types.
const typesPrefix = "column types (OIDs) differ:"

// typeChanges lists the distinct want->got pairs of differing type OIDs,
// such as "20->1700, 23->20".
func typeChanges(want, got []uint32) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d columns->%d columns", len(want), len(got))
	}
	var pairs []string
	for i := range want {
		if p := fmt.Sprintf("%d->%d", want[i], got[i]); want[i] != got[i] && !slices.Contains(pairs, p) {
			pairs = append(pairs, p)
		}
	}
	return strings.Join(pairs, ", ")
}

// multisetDiff returns the rows of want not in got and those of got not in
// want, counting duplicates.
func multisetDiff(want, got [][]*string) (missing, extra [][]*string) {
	count := map[string]int{}
	for _, r := range got {
		count[key(r)]++
	}
	for _, r := range want {
		k := key(r)
		if count[k] > 0 {
			count[k]--
			continue
		}
		missing = append(missing, r)
	}
	for _, r := range got {
		k := key(r)
		if count[k] > 0 {
			count[k]--
			extra = append(extra, r)
		}
	}
	return missing, extra
}

// FormatRow prints a row as (v1, v2, NULL), values trimmed to 60 bytes.
func FormatRow(row []*string) string {
	vs := make([]string, len(row))
	for i, v := range row {
		if v == nil {
			vs[i] = "NULL"
			continue
		}
		s := *v
		if len(s) > 60 {
			s = s[:57] + "..."
		}
		vs[i] = fmt.Sprintf("%q", s)
	}
	return "(" + strings.Join(vs, ", ") + ")"
}

// FormatRows prints up to n rows, one a line, and how many were left out.
func FormatRows(rows [][]*string, n int) string {
	var b strings.Builder
	for i, r := range rows {
		if i == n {
			fmt.Fprintf(&b, "  ... and %d more\n", len(rows)-n)
			break
		}
		b.WriteString("  ")
		b.WriteString(FormatRow(r))
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n")
}
