package executor

import (
	"container/heap"
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/pgfed/pgfed/catalog"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgfed/pgfed/planner"
)

// sortedRow is a task row with its decoded sort keys.
type sortedRow struct {
	vals [][]byte
	keys []sortValue
}

// mergeCursor reads one task's sorted rows.
type mergeCursor struct {
	rows []sortedRow
	next int
	task int
}

// mergeHeap is a min-heap of cursors by their next row.
type mergeHeap struct {
	cursors []*mergeCursor
	keys    []planner.SortKey
}

func (h *mergeHeap) Len() int { return len(h.cursors) }
func (h *mergeHeap) Less(i, j int) bool {
	a, b := h.cursors[i], h.cursors[j]
	c := compareRows(h.keys, &a.rows[a.next], &b.rows[b.next])
	if c != 0 {
		return c < 0
	}
	return a.task < b.task // stable: task order
}
func (h *mergeHeap) Swap(i, j int) { h.cursors[i], h.cursors[j] = h.cursors[j], h.cursors[i] }
func (h *mergeHeap) Push(x any)    { h.cursors = append(h.cursors, x.(*mergeCursor)) }
func (h *mergeHeap) Pop() any {
	c := h.cursors[len(h.cursors)-1]
	h.cursors = h.cursors[:len(h.cursors)-1]
	return c
}

// compareRows orders two rows by the merge's keys.
func compareRows(keys []planner.SortKey, a, b *sortedRow) int {
	for i, k := range keys {
		x, y := a.keys[i], b.keys[i]
		if x.null || y.null {
			if x.null == y.null {
				continue
			}
			if x.null == k.NullsFirst {
				return -1
			}
			return 1
		}
		c := compareValues(k.Type, x, y)
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// execMergeSort runs a multi-shard plan whose tasks return sorted rows
// (each shard sorted, with LIMIT pushed down when there is one), and
// merges them k-way in Go by the plan's keys, stopping once LIMIT rows
// (after OFFSET) are out. The tasks' rows are held until the merge, within
// the intermediate result limits.
func (s *Session) execMergeSort(ctx context.Context, st *catalogState, pl *planner.Plan, b *binding, out *output) (string, error) {
	n := pl.Merge.Output
	formats := s.taskFormats(pl, out.formats)
	if s.mergeOnMeta(pl, formats) {
		return s.execMergeSortOnMeta(ctx, st, pl, b, out)
	}
	cursors := make([]*mergeCursor, len(pl.Tasks))
	for i := range cursors {
		cursors[i] = &mergeCursor{task: i}
	}
	decs := make([]keyDecoder, len(pl.Merge.Keys))
	m := pgtype.NewMap()
	for i, k := range pl.Merge.Keys {
		decs[i] = keyDecoder{typ: k.Type, binary: formatOf(formats, k.Column-1) == 1, m: m}
	}
	lim := s.newLimiter("merge of sorted rows", planner.MaxIntermediateRowsSetting)
	var fields []pgconn.FieldDescription
	err := s.fanOut(ctx, st, pl, b, formats, out, func(bt taskBatch) error {
		if bt.fields != nil && fields == nil {
			fields = bt.fields
		}
		c := cursors[bt.task]
		for _, row := range bt.rows {
			if err := lim.add(row); err != nil {
				return err
			}
			sr := sortedRow{vals: row, keys: make([]sortValue, len(decs))}
			for i, k := range pl.Merge.Keys {
				if k.Column-1 >= len(row) {
					return internalError("sort key column %d of a %d-column row", k.Column, len(row))
				}
				v, err := decs[i].decode(row[k.Column-1])
				if err != nil {
					return err
				}
				sr.keys[i] = v
			}
			c.rows = append(c.rows, sr)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if err := out.fieldsFromWorker(fields, n); err != nil {
		return "", err
	}
	h := &mergeHeap{keys: pl.Merge.Keys}
	for _, c := range cursors {
		if len(c.rows) > 0 {
			h.cursors = append(h.cursors, c)
		}
	}
	heap.Init(h)
	limit, offset := boundValue(pl.Merge.Limit, b), boundValue(pl.Merge.Offset, b)
	var sent int64
	for h.Len() > 0 && (limit < 0 || sent < limit) {
		c := h.cursors[0]
		row := c.rows[c.next].vals
		c.next++
		if c.next == len(c.rows) {
			heap.Pop(h)
		} else {
			heap.Fix(h, 0)
		}
		if offset > 0 {
			offset--
			continue
		}
		if n > 0 && n < len(row) {
			row = row[:n]
		}
		sent++
		if err := out.row(row); err != nil {
			return "", err
		}
	}
	return "SELECT " + strconv.FormatInt(sent, 10), nil
}

// formatOf returns the format of column i under a Bind's result formats.
func formatOf(formats []int16, i int) int16 {
	switch {
	case len(formats) == 0:
		return 0
	case len(formats) == 1:
		return formats[0]
	case i < len(formats):
		return formats[i]
	}
	return 0
}

// taskFormats extends the client's per-column result formats to the task
// columns: those past Merge.Output (sort keys the client does not see) are
// read as text.
func (s *Session) taskFormats(pl *planner.Plan, formats []int16) []int16 {
	n := pl.Merge.Output
	if len(formats) <= 1 || n <= 0 {
		return formats
	}
	total := n
	for _, k := range pl.Merge.Keys {
		if k.Column > total {
			total = k.Column
		}
	}
	if total == len(formats) {
		return formats
	}
	out := make([]int16, total)
	copy(out, formats)
	return out
}

// mergeOnMeta reports whether the sorted rows must be merged by the
// metadata database rather than in Go: date and time keys printed as text
// in a DateStyle other than ISO, which Go does not parse.
func (s *Session) mergeOnMeta(pl *planner.Plan, formats []int16) bool {
	if strings.HasPrefix(s.meta.param("DateStyle"), "ISO") {
		return false
	}
	for _, k := range pl.Merge.Keys {
		switch k.Type {
		case catalog.TypeDate, catalog.TypeTimestamp, catalog.TypeTimestamptz:
			if formatOf(formats, k.Column-1) == 0 {
				return true
			}
		}
	}
	return false
}

// execMergeSortOnMeta merges sorted task rows with the metadata database:
// they are loaded into an intermediate result, which a query orders,
// limits and projects as the merge would.
func (s *Session) execMergeSortOnMeta(ctx context.Context, st *catalogState, pl *planner.Plan, b *binding, out *output) (string, error) {
	const name = "pgfed_merge"
	tasks := *pl
	tasks.Merge = planner.Merge{Kind: planner.MergeConcat}
	fields, err := s.loadIntermediate(ctx, st, &tasks, b, name, nil, planner.MaxIntermediateRowsSetting, "merge of sorted rows", out.r)
	if err != nil {
		return "", err
	}
	if err := out.fieldsFromWorker(fields, pl.Merge.Output); err != nil {
		return "", err
	}
	var q strings.Builder
	q.WriteString("SELECT ")
	cols := pl.Merge.Output
	if cols <= 0 {
		cols = 0
		for _, k := range pl.Merge.Keys {
			cols = max(cols, k.Column)
		}
	}
	if pl.Merge.Output <= 0 {
		q.WriteString("*")
	} else {
		for i := 1; i <= cols; i++ {
			if i > 1 {
				q.WriteString(", ")
			}
			q.WriteString("c" + strconv.Itoa(i))
		}
	}
	q.WriteString(" FROM " + name + " ORDER BY ")
	for i, k := range pl.Merge.Keys {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("c" + strconv.Itoa(k.Column))
		if k.Desc {
			q.WriteString(" DESC")
		}
		if k.NullsFirst {
			q.WriteString(" NULLS FIRST")
		} else {
			q.WriteString(" NULLS LAST")
		}
	}
	if v := boundValue(pl.Merge.Limit, b); v >= 0 {
		q.WriteString(" LIMIT " + strconv.FormatInt(v, 10))
	}
	if v := boundValue(pl.Merge.Offset, b); v > 0 {
		q.WriteString(" OFFSET " + strconv.FormatInt(v, 10))
	}
	tag, err := s.meta.internal(ctx, internalQuery{sql: q.String(), resultFormats: out.formats,
		fields: func(f []pgproto3.FieldDescription) error { return nil },
		row:    func(dr *pgproto3.DataRow) error { return out.row(dr.Values) },
	})
	if err != nil {
		return "", err
	}
	if _, err := s.meta.internal(ctx, internalQuery{sql: "DROP TABLE " + name}); err != nil {
		return "", err
	}
	return tag, nil
}
