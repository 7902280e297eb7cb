package executor

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/planner"
)

// TestKwayMergeStreams feeds the merge sorted task rows in random batches
// and interleavings, and checks the rows it sends against a sort of all
// of them (after OFFSET, up to LIMIT), that it sends a row as soon as every
// task still running has one, and that it holds only the rows not merged
// yet.
func TestKwayMergeStreams(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		tasks := 1 + rng.IntN(6)
		desc := rng.IntN(2) == 0
		keys := []planner.SortKey{{Column: 1, Type: catalog.TypeInt8, Desc: desc, NullsFirst: desc}}
		// Each task's rows: (key, task, index), sorted by key; some keys NULL.
		var all [][][]byte
		rows := make([][][][]byte, tasks)
		for i := range rows {
			n := rng.IntN(40)
			vals := make([]int, n)
			for j := range vals {
				vals[j] = rng.IntN(30) - 10
			}
			slices.Sort(vals)
			if desc {
				slices.Reverse(vals)
			}
			nulls := rng.IntN(3)
			for j := range n {
				key := []byte(strconv.Itoa(vals[j]))
				row := [][]byte{key, []byte(strconv.Itoa(i)), []byte(strconv.Itoa(j))}
				rows[i] = append(rows[i], row)
			}
			for j := range nulls {
				row := [][]byte{nil, []byte(strconv.Itoa(i)), []byte("n" + strconv.Itoa(j))}
				if desc {
					rows[i] = append([][][]byte{row}, rows[i]...)
				} else {
					rows[i] = append(rows[i], row)
				}
			}
			all = append(all, rows[i]...)
		}
		limit, offset := int64(-1), int64(-1)
		if rng.IntN(2) == 0 {
			limit = int64(rng.IntN(len(all) + 3))
		}
		if rng.IntN(2) == 0 {
			offset = int64(rng.IntN(len(all) + 3))
		}
		want := wantMerged(t, keys, all, limit, offset)

		dp := &distPortal{}
		out := &output{buffer: dp}
		lim := &limiter{maxRows: 1 << 40, maxBytes: 1 << 40}
		m := newKwayMerge(keys, tasks, nil, lim, out, 2)
		m.limit, m.offset = limit, offset
		next := make([]int, tasks)
		ended := make([]bool, tasks)
		for left := tasks; left > 0; {
			i := rng.IntN(tasks)
			if ended[i] {
				continue
			}
			k := min(next[i]+rng.IntN(4), len(rows[i]))
			bt := taskBatch{task: i, rows: rows[i][next[i]:k]}
			if next[i] == 0 {
				bt.fields = testFields(3)
			}
			next[i] = k
			if k == len(rows[i]) && rng.IntN(2) == 0 {
				bt.last, ended[i] = true, true
				left--
			}
			if err := m.add(bt); err != nil {
				t.Fatal(err)
			}
			if err := m.emit(); err != nil {
				t.Fatal(err)
			}
			// Streaming: the merge waits only for tasks running without a
			// held row; the rows it holds are the ones not merged yet.
			if m.waiting == 0 && m.heap.Len() > 0 && !m.full() {
				t.Fatalf("seed %d: every running task holds a row, yet none was sent", seed)
			}
			held := int64(0)
			for _, c := range m.cursors {
				held += int64(len(c.rows) - c.next)
			}
			if lim.rows != held {
				t.Fatalf("seed %d: the limiter counts %d rows, the merge holds %d", seed, lim.rows, held)
			}
		}
		got := make([]string, len(dp.rows))
		for i, r := range dp.rows {
			if len(r) != 2 {
				t.Fatalf("seed %d: row of %d columns, want 2", seed, len(r))
			}
			got[i] = string(r[0]) + "/" + string(r[1])
		}
		if !slices.Equal(got, want) || m.sent != int64(len(want)) {
			t.Fatalf("seed %d (tasks %d, desc %v, limit %d, offset %d):\n got  %v (sent %d)\n want %v", seed, tasks, desc, limit, offset, got, m.sent, want)
		}
	}
}

// wantMerged is the merge's expected output: rows stably sorted by keys
// (ties in task order), after offset, up to limit, as "key/task".
func wantMerged(t *testing.T, keys []planner.SortKey, rows [][][]byte, limit, offset int64) []string {
	t.Helper()
	dec := keyDecoder{typ: catalog.TypeInt8}
	sorted := make([]sortedRow, len(rows))
	for i, r := range rows {
		v, err := dec.decode(r[0])
		if err != nil {
			t.Fatal(err)
		}
		sorted[i] = sortedRow{vals: r, keys: []sortValue{v}}
	}
	slices.SortStableFunc(sorted, func(a, b sortedRow) int { return compareRows(keys, &a, &b) })
	out := []string{}
	for i, r := range sorted {
		if offset > 0 && int64(i) < offset {
			continue
		}
		if limit >= 0 && int64(len(out)) >= limit {
			break
		}
		out = append(out, string(r.vals[0])+"/"+string(r.vals[1]))
	}
	return out
}

// testFields describes n text columns.
func testFields(n int) []pgconn.FieldDescription {
	f := make([]pgconn.FieldDescription, n)
	for i := range f {
		f[i] = pgconn.FieldDescription{Name: "c" + strconv.Itoa(i+1), DataTypeOID: 25}
	}
	return f
}
