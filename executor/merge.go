package executor

import (
	"container/heap"
	"context"
	"strconv"

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
