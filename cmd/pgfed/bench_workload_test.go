package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// benchTestSystems returns a plain and a pgfed system with no servers.
func benchTestSystems() [2]*benchSystem {
	return [2]*benchSystem{
		{Name: "plain", setupErr: map[string]error{}},
		{Name: "pgfed", Distribute: true, setupErr: map[string]error{}},
	}
}

func TestBenchRunWorkloadAlternates(t *testing.T) {
	var calls []string
	figures := map[string][]float64{"plain": {100, 300, 200}, "pgfed": {10, 30, 20}}
	w := benchWorkload{id: "select-prepared-c8", name: "n", unit: benchTPS, dataset: benchDataPgbench,
		run: func(_ context.Context, sys *benchSystem) (benchMeasurement, error) {
			calls = append(calls, sys.Name)
			f := figures[sys.Name][0]
			figures[sys.Name] = figures[sys.Name][1:]
			return benchMeasurement{figure: f, latencyMs: f / 100}, nil
		}}
	var progress strings.Builder
	r := benchRunWorkload(context.Background(), w, benchTestSystems(), 3, &progress)
	if got, want := strings.Join(calls, " "), "plain pgfed plain pgfed plain pgfed"; got != want {
		t.Errorf("runs in order %s, want %s", got, want)
	}
	if r.Plain.Median != 200 || r.Pgfed.Median != 20 || r.Pgfed.LatencyMedian != 0.2 {
		t.Errorf("medians plain %v pgfed %v (latency %v), want 200, 20 (0.2)", r.Plain.Median, r.Pgfed.Median, r.Pgfed.LatencyMedian)
	}
	if r.Ratio != 0.1 || r.Status != benchMissed {
		t.Errorf("ratio %v status %q, want 0.1 missed", r.Ratio, r.Status)
	}
	if n := strings.Count(progress.String(), "\n"); n != 6 {
		t.Errorf("%d progress lines, want 6:\n%s", n, progress.String())
	}
}

func TestBenchRunWorkloadFailures(t *testing.T) {
	// A dataset pgfed could not set up: pgfed never runs, plain still does.
	systems := benchTestSystems()
	systems[1].setupErr[benchDataPgbench] = errors.New("function create_reference_table(unknown) does not exist")
	var calls []string
	ok := func(_ context.Context, sys *benchSystem) (benchMeasurement, error) {
		calls = append(calls, sys.Name)
		return benchMeasurement{figure: 1000}, nil
	}
	r := benchRunWorkload(context.Background(), benchWorkload{id: "tpcb", unit: benchTPS, dataset: benchDataPgbench, run: ok}, systems, 2, io.Discard)
	if got := strings.Join(calls, " "); got != "plain plain" {
		t.Errorf("runs %s, want plain plain", got)
	}
	if r.Status != benchFailed || r.Plain.Median != 1000 ||
		r.Error != "pgfed: set up the pgbench dataset: function create_reference_table(unknown) does not exist" {
		t.Errorf("status %q plain %v error %q", r.Status, r.Plain.Median, r.Error)
	}

	// A run that fails is not repeated on that system.
	calls = nil
	failing := func(_ context.Context, sys *benchSystem) (benchMeasurement, error) {
		calls = append(calls, sys.Name)
		if sys.Name == "pgfed" {
			return benchMeasurement{}, errors.New("pgbench: exit status 2: ERROR: boom")
		}
		return benchMeasurement{figure: 1000}, nil
	}
	r = benchRunWorkload(context.Background(), benchWorkload{id: "transfer", unit: benchTPS, dataset: benchDataPgbench, run: failing}, benchTestSystems(), 3, io.Discard)
	if got := strings.Join(calls, " "); got != "plain pgfed plain plain" {
		t.Errorf("runs %s, want plain pgfed plain plain", got)
	}
	if r.Status != benchFailed || r.Error != "pgfed: pgbench: exit status 2: ERROR: boom" {
		t.Errorf("status %q error %q", r.Status, r.Error)
	}
}

func TestBenchRunWorkloadChecksAnswers(t *testing.T) {
	answers := map[string]string{"plain": "42", "pgfed": "41"}
	var runs int
	w := benchWorkload{id: "count-distinct", unit: benchSeconds, dataset: benchDataAnalytic, warmup: true,
		run: func(_ context.Context, sys *benchSystem) (benchMeasurement, error) {
			runs++
			return benchMeasurement{figure: 0.5, answer: answers[sys.Name]}, nil
		}}
	r := benchRunWorkload(context.Background(), w, benchTestSystems(), 2, io.Discard)
	if runs != 6 {
		t.Errorf("%d runs, want 6 (a warm-up and 2 rounds on each system)", runs)
	}
	if r.Status != benchFailed || !strings.Contains(r.Error, "wrong answer") {
		t.Errorf("different answers: status %q error %q", r.Status, r.Error)
	}
}

func TestBenchRunWorkloadInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	w := benchWorkload{id: "copy", unit: benchRowsPerSec, dataset: benchDataCopy,
		run: func(ctx context.Context, sys *benchSystem) (benchMeasurement, error) {
			cancel() // as if SIGINT came during the first run
			return benchMeasurement{}, ctx.Err()
		}}
	r := benchRunWorkload(ctx, w, benchTestSystems(), 3, io.Discard)
	if r.Status != benchFailed || r.Pgfed.Error != "interrupted" {
		t.Errorf("status %q, pgfed error %q; want FAILED, interrupted", r.Status, r.Pgfed.Error)
	}
}

func TestBenchRunWorkloadChecks(t *testing.T) {
	var checked []string
	w := benchWorkload{id: "transfer", unit: benchTPS, dataset: benchDataPgbench,
		run: func(context.Context, *benchSystem) (benchMeasurement, error) {
			return benchMeasurement{figure: 100}, nil
		},
		check: func(_ context.Context, sys *benchSystem) error {
			checked = append(checked, sys.Name)
			if sys.Name == "pgfed" {
				return benchBalancesAgree([]string{"5", "5", "7", "5"})
			}
			return nil
		}}
	r := benchRunWorkload(context.Background(), w, benchTestSystems(), 2, io.Discard)
	if got := strings.Join(checked, " "); got != "plain pgfed plain" {
		t.Errorf("checked %s, want plain pgfed plain", got)
	}
	want := "pgfed: money created or lost: the balances disagree after the run (accounts 5, tellers 5, branches 7, history 5): a transaction was applied in part, or lost"
	if r.Status != benchFailed || r.Error != want || len(r.Pgfed.Samples) != 0 {
		t.Errorf("status %q error %q samples %v; want FAILED %q and no sample", r.Status, r.Error, r.Pgfed.Samples, want)
	}
	if err := benchBalancesAgree([]string{"-12", "-12", "-12", "-12"}); err != nil {
		t.Errorf("equal sums: %v", err)
	}
}
