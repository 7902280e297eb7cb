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

// mergeCursor holds one task's sorted rows that arrived and are not
// merged yet (rows[next:]).
type mergeCursor struct {
	rows []sortedRow
	next int
	task int
	done bool // the task's last batch arrived
}

// has reports whether the cursor holds a row to merge.
func (c *mergeCursor) has() bool { return c.next < len(c.rows) }

// take removes and returns the cursor's next row.
func (c *mergeCursor) take() sortedRow {
	r := c.rows[c.next]
	c.rows[c.next] = sortedRow{} // the merged row is not held any more
	c.next++
	switch {
	case c.next == len(c.rows):
		c.rows, c.next = c.rows[:0], 0
	case c.next >= 1024 && c.next*2 >= len(c.rows):
		n := copy(c.rows, c.rows[c.next:])
		clear(c.rows[n:])
		c.rows, c.next = c.rows[:n], 0
	}
	return r
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
// merges them k-way in Go by the plan's keys as they stream in: a row goes
// to the client as soon as every task still running has sent a row or
// ended, so that it is the least of all. Only rows that arrived and are
// not merged yet are held, within the intermediate result limits. Once
// LIMIT rows (after OFFSET) are out, tasks on connections of their own
// are stopped; in a transaction the rest is read and dropped.
func (s *Session) execMergeSort(ctx context.Context, st *catalogState, pl *planner.Plan, b *binding, out *output) (string, error) {
	n := pl.Merge.Output
	formats := s.taskFormats(pl, out.formats)
	if s.mergeOnMeta(pl, formats) {
		return s.execMergeSortOnMeta(ctx, st, pl, b, out)
	}
	lim := s.newLimiter("merge of sorted rows", planner.MaxIntermediateRowsSetting)
	m := newKwayMerge(pl.Merge.Keys, len(pl.Tasks), formats, lim, out, n)
	m.limit, m.offset = boundValue(pl.Merge.Limit, b), boundValue(pl.Merge.Offset, b)
	stop := s.parallelReads(pl)
	err := s.fanOut(ctx, st, pl, b, formats, out, func(bt taskBatch) error {
		if err := m.add(bt); err != nil {
			return err
		}
		if err := m.emit(); err != nil {
			return err
		}
		if stop && m.full() && m.fields != nil {
			return errLimitReached
		}
		return nil
	})
	if err != nil && err != errLimitReached {
		return "", err
	}
	if err := out.fieldsFromWorker(m.fields, n); err != nil {
		return "", err
	}
	return "SELECT " + strconv.FormatInt(m.sent, 10), nil
}

// kwayMerge is the state of a streaming k-way merge of sorted task rows.
type kwayMerge struct {
	keys    []planner.SortKey
	cursors []*mergeCursor
	heap    mergeHeap // the cursors holding a row
	waiting int       // cursors holding no row whose task has not ended
	decs    []keyDecoder
	lim     *limiter // bounds the rows held
	fields  []pgconn.FieldDescription
	out     *output
	columns int // the columns the client sees (Merge.Output)

	limit, offset int64 // -1: none
	sent          int64
}

// newKwayMerge returns the merge of tasks tasks' rows (in formats) by keys,
// sending to out the first columns columns (all when columns <= 0), with
// no LIMIT nor OFFSET.
func newKwayMerge(keys []planner.SortKey, tasks int, formats []int16, lim *limiter, out *output, columns int) *kwayMerge {
	m := &kwayMerge{
		keys:    keys,
		heap:    mergeHeap{keys: keys},
		cursors: make([]*mergeCursor, tasks),
		waiting: tasks,
		decs:    make([]keyDecoder, len(keys)),
		lim:     lim,
		out:     out,
		columns: columns,
		limit:   -1,
		offset:  -1,
	}
	for i := range m.cursors {
		m.cursors[i] = &mergeCursor{task: i}
	}
	types := pgtype.NewMap()
	for i, k := range keys {
		m.decs[i] = keyDecoder{typ: k.Type, binary: formatOf(formats, k.Column-1) == 1, m: types}
	}
	return m
}

// full reports whether LIMIT rows are out.
func (m *kwayMerge) full() bool { return m.limit >= 0 && m.sent >= m.limit }

// add takes a batch of a task's rows.
func (m *kwayMerge) add(bt taskBatch) error {
	if bt.fields != nil && m.fields == nil {
		m.fields = bt.fields
	}
	c := m.cursors[bt.task]
	had := c.has()
	if !m.full() { // past LIMIT, the rows are dropped
		for _, row := range bt.rows {
			if err := m.lim.add(row); err != nil {
				return err
			}
			sr := sortedRow{vals: row, keys: make([]sortValue, len(m.decs))}
			for i, k := range m.keys {
				if k.Column-1 >= len(row) {
					return internalError("sort key column %d of a %d-column row", k.Column, len(row))
				}
				v, err := m.decs[i].decode(row[k.Column-1])
				if err != nil {
					return err
				}
				sr.keys[i] = v
			}
			c.rows = append(c.rows, sr)
		}
	}
	if !had && c.has() {
		m.waiting--
		heap.Push(&m.heap, c)
	}
	if bt.last {
		c.done = true
		if !c.has() && !had {
			m.waiting--
		}
	}
	return nil
}

// emit sends the rows that are known to come next: while every task
// still running holds a row, the least of them.
func (m *kwayMerge) emit() error {
	for m.waiting == 0 && m.heap.Len() > 0 && !m.full() {
		if m.sent == 0 && m.offset <= 0 {
			if err := m.out.fieldsFromWorker(m.fields, m.columns); err != nil {
				return err
			}
		}
		c := m.heap.cursors[0]
		row := c.take().vals
		m.lim.release(row)
		if c.has() {
			heap.Fix(&m.heap, 0)
		} else {
			heap.Pop(&m.heap)
			if !c.done {
				m.waiting++
			}
		}
		if m.offset > 0 {
			m.offset--
			continue
		}
		if m.columns > 0 && m.columns < len(row) {
			row = row[:m.columns]
		}
		m.sent++
		if err := m.out.row(row); err != nil {
			return err
		}
	}
	return nil
}

// release forgets a row counted by add that is no longer held.
func (l *limiter) release(row [][]byte) {
	l.rows--
	for _, v := range row {
		l.bytes -= int64(len(v))
	}
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
