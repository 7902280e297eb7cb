package difftest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgfed/pgfed/executor/pgcluster"
)

// Environment variables that steer the suite.
const (
	// EnvRandom is how long TestDifferential runs random queries after the
	// corpus (a Go duration; default 10s, 0 for none).
	EnvRandom = "PGFED_DIFFTEST_RANDOM"
	// EnvSeed is the random generator's seed (default 1).
	EnvSeed = "PGFED_DIFFTEST_SEED"
	// EnvMatch keeps only the corpus queries whose "file:line name"
	// matches this regular expression.
	EnvMatch = "PGFED_DIFFTEST_MATCH"
	// EnvReport names a file that receives the full report.
	EnvReport = "PGFED_DIFFTEST_REPORT"
	// EnvProtocol is "simple" (default) or "extended": how TestDifferential
	// sends queries to pgfed.
	EnvProtocol = "PGFED_DIFFTEST_PROTOCOL"
)

func protocol(t testing.TB) Protocol {
	switch p := os.Getenv(EnvProtocol); p {
	case "", "simple":
		return Simple
	case "extended":
		return Extended
	default:
		t.Fatalf("difftest: %s: %q is neither simple nor extended", EnvProtocol, p)
		return Simple
	}
}

// corpus loads the queries of testdata/difftest/queries, filtered by
// $PGFED_DIFFTEST_MATCH.
func corpus(t testing.TB) []Query {
	t.Helper()
	qs, err := LoadCorpus(filepath.Join(testdataDir(t), "queries"))
	if err != nil {
		t.Fatalf("difftest: %v", err)
	}
	root := filepath.Join(testdataDir(t), "..", "..")
	for i := range qs {
		if rel, err := filepath.Rel(root, qs[i].File); err == nil {
			qs[i].File = rel // testdata/difftest/queries/...
		}
	}
	if m := os.Getenv(EnvMatch); m != "" {
		re, err := regexp.Compile(m)
		if err != nil {
			t.Fatalf("difftest: %s: %v", EnvMatch, err)
		}
		var keep []Query
		for _, q := range qs {
			if re.MatchString(q.Where() + " " + q.Name) {
				keep = append(keep, q)
			}
		}
		qs = keep
	}
	return qs
}

func randomBudget(t testing.TB) time.Duration {
	s := os.Getenv(EnvRandom)
	if s == "" {
		return 10 * time.Second
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("difftest: %s: %v", EnvRandom, err)
	}
	return d
}

func randomSeed(t testing.TB) uint64 {
	s := os.Getenv(EnvSeed)
	if s == "" {
		return 1
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("difftest: %s: %v", EnvSeed, err)
	}
	return n
}

// writeReport writes the report to $PGFED_DIFFTEST_REPORT when set.
func writeReport(t testing.TB, text string) {
	if p := os.Getenv(EnvReport); p != "" {
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Errorf("difftest: write the report: %v", err)
		} else {
			t.Logf("difftest: report written to %s", p)
		}
	}
}

// planVariant are settings under which the oracle must give the same
// answers: another plan for the same query. A query whose answer changes is
// not deterministic (an unordered LIMIT, a float sum, DISTINCT over values
// that are equal but print differently) and cannot be compared.
const planVariant = `SET enable_hashagg = off; SET enable_hashjoin = off; SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2`

// TestCorpusOracle checks the corpus on one plain PostgreSQL: every query
// runs, returns rows unless marked @empty, and gives the same answer under
// another plan. It needs no cluster, so it runs whatever the state of the
// distributed executor.
func TestCorpusOracle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv := pgcluster.StartForTest(t, pgcluster.ServerSpec{Name: "oracle", Settings: serverSettings()})[0]
	conn := connect(ctx, t, srv.ConnString("postgres"))
	loadOracle(ctx, t, conn, Generate(dataSeed, DefaultScale))
	variant := connect(ctx, t, srv.ConnString("postgres"))
	if _, err := variant.Exec(ctx, planVariant); err != nil {
		t.Fatal(err)
	}
	qs := corpus(t)
	r := &Runner{Oracle: conn, Cluster: variant}
	for _, q := range qs {
		out := r.Check(ctx, q)
		if out.Verdict != Pass {
			t.Errorf("%s %s: %s: %s", q.Where(), q.Name, out.Verdict, out.Detail)
		}
	}
	for _, q := range qs {
		if q.Empty {
			continue
		}
		res, err := Run(ctx, conn, q.SQL)
		if err == nil && len(res.Rows) == 0 {
			t.Errorf("%s %s: no rows (mark it @empty if that is intended)", q.Where(), q.Name)
		}
	}
	t.Logf("difftest: %d corpus queries on the oracle: %s", len(qs), r.Summary())
}

// TestRandomOracle checks that the random generator's queries run on the
// oracle and are deterministic (same answer under another plan).
func TestRandomOracle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv := pgcluster.StartForTest(t, pgcluster.ServerSpec{Name: "oracle", Settings: serverSettings()})[0]
	conn := connect(ctx, t, srv.ConnString("postgres"))
	loadOracle(ctx, t, conn, Generate(dataSeed, DefaultScale))
	variant := connect(ctx, t, srv.ConnString("postgres"))
	if _, err := variant.Exec(ctx, planVariant); err != nil {
		t.Fatal(err)
	}
	seed, budget := randomSeed(t), randomBudget(t)
	g := NewGenerator(seed)
	r := &Runner{Oracle: conn, Cluster: variant}
	for deadline := time.Now().Add(budget); time.Now().Before(deadline); {
		q := g.Next()
		if out := r.Check(ctx, q); out.Verdict != Pass {
			t.Errorf("seed %d, query %d: %s: %s\n%s", seed, q.Line, out.Verdict, out.Detail, q.SQL)
		}
	}
	t.Logf("difftest: random queries (seed %d, %v) on the oracle: %s", seed, budget, r.Summary())
}

// TestDifferential is the differential suite: the same rows in a plain
// PostgreSQL (the oracle) and in a pgfed cluster (a metadata server, two
// workers and a coordinator), every corpus query and random queries for
// $PGFED_DIFFTEST_RANDOM run on both; every answer must be the same
// multiset of rows (the same sequence for queries marked @ordered), with
// the same column names and types. The corpus queries listed in
// testdata/difftest/known_failures.txt must fail instead (they are
// reported as KNOWN); a listed query that passes fails the test, so the
// list only shrinks. The failure lists every difference.
func TestDifferential(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	settings := serverSettings()
	servers := pgcluster.StartForTest(t,
		pgcluster.ServerSpec{Name: "oracle", Settings: settings},
		pgcluster.ServerSpec{Name: "metadata", Settings: settings},
		pgcluster.ServerSpec{Name: "worker1", Settings: settings},
		pgcluster.ServerSpec{Name: "worker2", Settings: settings},
	)
	tables := Generate(dataSeed, DefaultScale)
	oracle := connect(ctx, t, servers[0].ConnString("postgres"))
	loadOracle(ctx, t, oracle, tables)

	cl := startCoordinator(ctx, t, servers[1], servers[2:])
	pgfed := connect(ctx, t, cl.connString())
	var setup []string
	for _, f := range []string{"schema.sql", "views_before.sql"} {
		if err := ExecScript(ctx, pgfed, f, readFile(t, f)); err != nil {
			t.Fatalf("difftest: %s through pgfed: %v", f, err)
		}
	}
	if err := LoadData(ctx, pgfed, tables); err != nil {
		t.Fatalf("difftest: data through pgfed: %v", err)
	}
	for _, st := range Statements(readFile(t, "distribute.sql")) {
		if _, err := pgfed.Exec(ctx, st.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
			setup = append(setup, fmt.Sprintf("distribute.sql:%d: %v", st.Line, err))
			if pgfed.IsClosed() {
				pgfed = connect(ctx, t, cl.connString())
			}
		}
	}
	setup = append(setup, checkDistributed(ctx, t, servers[1], tables)...)
	if err := ExecScript(ctx, pgfed, "views.sql", readFile(t, "views.sql")); err != nil {
		setup = append(setup, fmt.Sprintf("views.sql through pgfed: %v", err))
	}

	r := &Runner{Oracle: oracle, Cluster: pgfed, ClusterConn: cl.connString(), Protocol: protocol(t)}
	qs := corpus(t)
	for _, q := range qs {
		r.Check(ctx, q)
	}
	corpusSummary := r.Summary()
	nCorpus := len(r.Outcomes)

	seed, budget := randomSeed(t), randomBudget(t)
	g := NewGenerator(seed)
	for deadline := time.Now().Add(budget); time.Now().Before(deadline) && ctx.Err() == nil; {
		r.Check(ctx, g.Next())
	}
	random := &Runner{Outcomes: r.Outcomes[nCorpus:]}

	var b strings.Builder
	fmt.Fprintf(&b, "corpus (%s protocol): %s\n", r.Protocol, corpusSummary)
	fmt.Fprintf(&b, "random (seed %d, %v): %s\n", seed, budget, random.Summary())
	if len(setup) > 0 {
		fmt.Fprintf(&b, "setup problems (comparisons below may prove nothing):\n  %s\n", strings.Join(setup, "\n  "))
	}
	if causes := r.Causes(15); len(causes) > 0 {
		fmt.Fprintf(&b, "main causes:\n%s\n", strings.Join(causes, "\n"))
	}
	j := Judge(r.Outcomes, knownFailures(t), os.Getenv(EnvMatch) == "")
	b.WriteString(j.String())
	summary := b.String()
	t.Log("difftest:\n" + summary)
	report := summary + "\n" + r.Report()
	writeReport(t, report)
	if len(setup) > 0 || !j.OK() {
		t.Errorf("difftest: pgfed and the oracle disagree beyond %s (set %s=<file> to keep this report):\n%s",
			KnownFailuresFile, EnvReport, report)
	}
}

// knownFailures reads testdata/difftest/known_failures.txt.
func knownFailures(t testing.TB) []KnownFailure {
	t.Helper()
	known, err := ParseKnownFailures(readFile(t, KnownFailuresFile))
	if err != nil {
		t.Fatalf("difftest: %v", err)
	}
	return known
}

// checkDistributed reports the tables of distribute.sql whose rows are
// still in the metadata database's shell table: queries on them would run
// there and compare PostgreSQL with itself.
func checkDistributed(ctx context.Context, t testing.TB, meta *pgcluster.Server, tables []Table) []string {
	t.Helper()
	conn := connect(ctx, t, meta.ConnString("postgres"))
	var out []string
	for _, tb := range tables {
		if tb.Name == "segment_info" {
			continue
		}
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+tb.Name).Scan(&n); err != nil {
			out = append(out, fmt.Sprintf("%s: count the shell's rows: %v", tb.Name, err))
			continue
		}
		if n > 0 {
			out = append(out, fmt.Sprintf("%s: its %d rows are still in the metadata database (not distributed)", tb.Name, n))
		}
	}
	return out
}
