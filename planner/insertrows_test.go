package planner

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
)

// TestInsertRowsConcurrentBind binds one deferred multi-row INSERT from
// many goroutines at once (the plan is shared through the cache): every
// binding gets the tasks of its own values, and the statement tree the
// plan keeps is never modified (run with -race).
func TestInsertRowsConcurrentBind(t *testing.T) {
	p, err := testPlanner(`node 1 a1:5432 org bank_a
node 2 b1:5432 org bank_b
node 3 c1:5432 org bank_c
org accounts(bank text, id int8, balance numeric) by bank hash id shards 2`)
	if err != nil {
		t.Fatal(err)
	}
	const sql = `INSERT INTO accounts VALUES ($1, $2, 0), ($3, $4, 0), ($5, $6, 0)`
	pl, err := p.Plan(sql)
	if err != nil || !pl.Deferred {
		t.Fatalf("plan %v, %v", pl, err)
	}
	banks := []string{"bank_a", "bank_b", "bank_c"}
	// want returns the shard ids that the rows of binding i go to, one
	// task per distinct shard, as single-row plans say.
	want := func(vals []Param) map[int64]int {
		out := map[int64]int{}
		for r := 0; r < 3; r++ {
			one, err := p.Plan(fmt.Sprintf("INSERT INTO accounts VALUES ('%s', %s, 0)", vals[2*r].Value, vals[2*r+1].Value))
			if err != nil {
				t.Error(err)
				return nil
			}
			out[one.Tasks[0].ShardIDs[0]]++
		}
		return out
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				var vals []Param
				for r := 0; r < 3; r++ {
					vals = append(vals, Param{Value: []byte(banks[(g+i+r*i)%3])}, Param{Value: []byte(strconv.Itoa(g*100 + i + r))})
				}
				b, err := pl.Bind(vals)
				if err != nil {
					t.Error(err)
					return
				}
				got := map[int64]int{}
				rows := 0
				for _, task := range b.Tasks {
					n := 1
					if task.Params != nil {
						n = len(task.Params) / 2
					} else {
						n = 3
					}
					got[task.ShardIDs[0]] += n
					rows += n
				}
				if w := want(vals); fmt.Sprint(got) != fmt.Sprint(w) || rows != 3 {
					t.Errorf("binding %v: rows per shard %v, want %v", vals, got, w)
					return
				}
			}
		}()
	}
	wg.Wait()
	if again, err := p.Plan(sql); err != nil || again.String() != pl.String() {
		t.Fatalf("the cached plan changed: %v, %v", again, err)
	}
}

// BenchmarkBindOrganization measures Bind of prepared statements on an
// organization table: a one-row INSERT, a point read, and a three-row
// INSERT split over two banks (the fragment cut once per row set, then
// reused).
func BenchmarkBindOrganization(b *testing.B) {
	p, err := testPlanner(`node 1 a1:5432 org bank_a
node 2 b1:5432 org bank_b
org accounts(bank text, id int8, balance numeric) by bank hash id shards 2`)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, sql string
		vals      []string
	}{
		{"insert", `INSERT INTO accounts VALUES ($1, $2, $3)`, []string{"bank_b", "7", "100"}},
		{"select", `SELECT balance FROM accounts WHERE bank = $1 AND id = $2`, []string{"bank_a", "7"}},
		{"insert3", `INSERT INTO accounts VALUES ($1, $2, 0), ($3, $4, 0), ($5, $6, 0)`, []string{"bank_a", "1", "bank_b", "2", "bank_a", "3"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			pl, err := p.Plan(c.sql)
			if err != nil {
				b.Fatal(err)
			}
			vals := make([]Param, len(c.vals))
			for i, v := range c.vals {
				vals[i] = Param{Value: []byte(v)}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pl.Bind(vals); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
