package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestBenchMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		in := append([]float64(nil), tc.in...)
		if got := benchMedian(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Errorf("median reordered its input: %v", tc.in)
			}
		}
	}
}

func TestBenchSpeedRatio(t *testing.T) {
	for _, tc := range []struct {
		unit         benchUnit
		plain, pgfed float64
		want         float64
	}{
		{benchTPS, 40000, 12000, 0.3},
		{benchRowsPerSec, 1000000, 600000, 0.6},
		{benchSeconds, 2.0, 0.8, 2.5}, // a time: plain's over pgfed's
		{benchTPS, 0, 100, 0},
		{benchSeconds, 1, 0, 0},
	} {
		if got := benchSpeedRatio(tc.unit, tc.plain, tc.pgfed); got < tc.want-1e-9 || got > tc.want+1e-9 {
			t.Errorf("speedRatio(%s, %v, %v) = %v, want %v", tc.unit, tc.plain, tc.pgfed, got, tc.want)
		}
	}
}

// benchTestResult makes a benchResult with one sample per side (0: none).
func benchTestResult(id string, unit benchUnit, plain, pgfed float64) benchResult {
	r := benchResult{ID: id, Name: id, Unit: unit}
	if plain > 0 {
		r.Plain.add(plain, 0)
	}
	if pgfed > 0 {
		r.Pgfed.add(pgfed, 0)
	}
	return r
}

func TestBenchStatus(t *testing.T) {
	for _, tc := range []struct {
		name        string
		r           benchResult
		distributed bool
		want        benchStatus
		wantTarget  float64
	}{
		{"prepared c8 met", benchTestResult("select-prepared-c8", benchTPS, 57000, 17100), true, benchMet, 0.30},
		{"prepared c8 missed", benchTestResult("select-prepared-c8", benchTPS, 57000, 17000), true, benchMissed, 0.30},
		{"simple c8", benchTestResult("select-simple-c8", benchTPS, 38000, 9500), true, benchMet, 0.25},
		{"tpcb", benchTestResult("tpcb", benchTPS, 5700, 500), true, benchMissed, 0.10},
		{"transfer", benchTestResult("transfer", benchTPS, 8500, 1300), true, benchMet, 0.15},
		{"copy", benchTestResult("copy", benchRowsPerSec, 1100000, 600000), true, benchMissed, 0.6},
		{"top10 2.2x faster", benchTestResult("agg-account-top10", benchSeconds, 2.2, 1.0), true, benchMet, 2.2},
		{"top10 2x faster", benchTestResult("agg-account-top10", benchSeconds, 2.0, 1.0), true, benchMissed, 2.2},
		{"count distinct", benchTestResult("count-distinct", benchSeconds, 1.5, 0.5), true, benchMet, 2.5},
		{"group by kind slower", benchTestResult("agg-kind", benchSeconds, 0.5, 0.6), true, benchMissed, 1.0},
		{"no target", benchTestResult("select-simple-c1", benchTPS, 17600, 5000), true, benchNoTarget, 0},
		{"not distributed", benchTestResult("select-prepared-c8", benchTPS, 57000, 30000), false, benchUndistributed, 0.30},
		{"pgfed missing", benchTestResult("transfer", benchTPS, 8500, 0), true, benchFailed, 0.15},
	} {
		tc.r.finish(tc.distributed)
		if tc.r.Status != tc.want || tc.r.Target != tc.wantTarget {
			t.Errorf("%s: status %q target %v, want %q target %v (ratio %v)", tc.name, tc.r.Status, tc.r.Target, tc.want, tc.wantTarget, tc.r.Ratio)
		}
	}

	r := benchTestResult("tpcb", benchTPS, 5700, 0)
	r.Pgfed.Error = "set up the pgbench dataset: boom"
	r.finish(true)
	if r.Status != benchFailed || r.Error != "pgfed: set up the pgbench dataset: boom" {
		t.Errorf("failed pgfed side: status %q error %q", r.Status, r.Error)
	}
	r = benchTestResult("tpcb", benchTPS, 0, 100)
	r.Plain.Error = "no pgbench"
	r.finish(true)
	if r.Status != benchFailed || r.Error != "plain: no pgbench" {
		t.Errorf("failed plain side: status %q error %q", r.Status, r.Error)
	}
}

func TestBenchTable(t *testing.T) {
	results := []benchResult{
		benchTestResult("select-prepared-c8", benchTPS, 57000, 20000),
		benchTestResult("agg-account-top10", benchSeconds, 2.0, 0.8),
		benchTestResult("tpcb", benchTPS, 5700, 0),
		benchTestResult("transfer", benchTPS, 8500, 0),
		benchTestResult("copy", benchRowsPerSec, 1100000, 500000),
		benchTestResult("select-simple-c1", benchTPS, 17000, 0.4),
	}
	results[2].Pgfed.Error = "set up the pgbench dataset: ERROR: function create_reference_table(unknown) does not exist (SQLSTATE 42883)"
	results[3].Pgfed.Error = results[2].Pgfed.Error
	for i := range results {
		results[i].finish(true)
	}
	var b strings.Builder
	if err := benchWriteTable(&b, results); err != nil {
		t.Fatal(err)
	}
	want := `workload            plain           pgfed          pgfed/plain  target    status
select-prepared-c8  57000 tps       20000 tps      0.351        >= 0.300  met
agg-account-top10   2.00 s          800.0 ms       2.50x        >= 2.20x  met
tpcb                5700 tps        -              -            >= 0.100  FAILED (see below)
transfer            8500 tps        -              -            >= 0.150  FAILED (see below)
copy                1100000 rows/s  500000 rows/s  0.455        >= 0.600  missed
select-simple-c1    17000 tps       0.40 tps       < 0.001      -         no target

FAILED tpcb, transfer:
    pgfed: set up the pgbench dataset: ERROR: function create_reference_table(unknown) does not exist (SQLSTATE 42883)
`
	if got := b.String(); got != want {
		t.Errorf("writeTable =\n%s\nwant\n%s", got, want)
	}
	sum := benchSummary(results)
	if sum[benchMet] != 2 || sum[benchMissed] != 1 || sum[benchFailed] != 2 || sum[benchNoTarget] != 1 {
		t.Errorf("benchSummary = %v", sum)
	}
}

func TestBenchWorkloads(t *testing.T) {
	cfg := benchConfig{copyRows: 2000000, analyticRows: 4000000}
	var ids []string
	for _, w := range benchWorkloads(cfg) {
		ids = append(ids, w.id)
	}
	want := "select-simple-c1 select-simple-c8 select-extended-c1 select-extended-c8 select-prepared-c1 select-prepared-c8 " +
		"tpcb transfer copy agg-kind agg-account-top10 count-distinct"
	if got := strings.Join(ids, " "); got != want {
		t.Errorf("workloads = %s\nwant %s", got, want)
	}
	for id := range benchTargets {
		if !strings.Contains(" "+want+" ", " "+id+" ") {
			t.Errorf("target %s names no workload", id)
		}
	}
	cfg.only = regexp.MustCompile(`^select-.*-c8$|copy`)
	ids = ids[:0]
	for _, w := range benchWorkloads(cfg) {
		ids = append(ids, w.id)
	}
	if got, want := strings.Join(ids, " "), "select-simple-c8 select-extended-c8 select-prepared-c8 copy"; got != want {
		t.Errorf("workloads with --only = %s, want %s", got, want)
	}
}

func TestBenchFactsCSV(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	for _, p := range []string{a, b} {
		if err := benchWriteFactsCSV(p, 1000, 10); err != nil {
			t.Fatal(err)
		}
	}
	ba, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if string(ba) != string(bb) {
		t.Error("two files generated with the same arguments differ")
	}
	line := regexp.MustCompile(`^([0-9]+),([0-9]+),([0-3]),[0-9]{1,4}\.[0-9]{2}$`)
	sc := bufio.NewScanner(strings.NewReader(string(ba)))
	n := 0
	accounts := map[string]bool{}
	for sc.Scan() {
		n++
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Fatalf("line %d %q is not id,account,kind,amount", n, sc.Text())
		}
		if m[1] != strconv.Itoa(n) {
			t.Fatalf("line %d has id %s", n, m[1])
		}
		accounts[m[2]] = true
	}
	if n != 1000 || len(accounts) != 10 {
		t.Errorf("%d lines over %d accounts, want 1000 over 10", n, len(accounts))
	}
}

func TestBenchSameAnswer(t *testing.T) {
	q := benchQueries[1] // top 10: the sums only
	plain := q.answer([][]string{{"7", "100.00"}, {"3", "100.00"}, {"9", "50.00"}})
	pgfed := q.answer([][]string{{"3", "100.00"}, {"7", "100.00"}, {"9", "50.00"}})
	if err := benchSameAnswer(plain, pgfed); err != nil {
		t.Errorf("accounts tied on their sum in another order: %v", err)
	}
	if err := benchSameAnswer(plain, q.answer([][]string{{"3", "100.00"}, {"7", "99.00"}})); err == nil {
		t.Error("different sums were accepted")
	}
	byKind := benchQueries[0]
	if err := benchSameAnswer(byKind.answer([][]string{{"0", "1", "2"}, {"1", "3", "4"}}), byKind.answer([][]string{{"1", "3", "4"}, {"0", "1", "2"}})); err != nil {
		t.Errorf("GROUP BY rows in another order: %v", err)
	}
}
