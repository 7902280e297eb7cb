package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// benchUnit is what a workload's figure counts.
type benchUnit string

const (
	benchTPS        benchUnit = "tps"    // pgbench transactions per second
	benchRowsPerSec benchUnit = "rows/s" // COPY throughput
	benchSeconds    benchUnit = "s"      // time of one query: lower is better
)

// higherIsBetter reports whether a larger figure means a faster system.
func (u benchUnit) higherIsBetter() bool { return u != benchSeconds }

// benchStatus is the verdict on one workload.
type benchStatus string

const (
	benchMet      benchStatus = "met"
	benchMissed   benchStatus = "missed"
	benchNoTarget benchStatus = "no target"
	benchFailed   benchStatus = "FAILED"
	// benchUndistributed replaces met and missed under --no-distribute:
	// the targets are about distributed tables.
	benchUndistributed benchStatus = "not distributed"
)

// benchSide is what one system (plain PostgreSQL or pgfed) measured for a
// workload over the rounds.
type benchSide struct {
	Samples []float64 `json:"samples"`              // one figure per round, in benchUnit
	Median  float64   `json:"median"`               // median of Samples; 0 when none
	Latency []float64 `json:"latency_ms,omitempty"` // pgbench's average latency per round
	// LatencyMedian is the median of Latency.
	LatencyMedian float64 `json:"latency_median_ms,omitempty"`
	Failed        int64   `json:"failed_transactions,omitempty"`
	Error         string  `json:"error,omitempty"` // why the side could not be measured
}

// add records one round's figure and, for pgbench, its average latency
// (0 for none).
func (s *benchSide) add(figure, latencyMs float64) {
	s.Samples = append(s.Samples, figure)
	s.Median = benchMedian(s.Samples)
	if latencyMs > 0 {
		s.Latency = append(s.Latency, latencyMs)
		s.LatencyMedian = benchMedian(s.Latency)
	}
}

// benchResult is one row of the report.
type benchResult struct {
	ID    string    `json:"id"`
	Name  string    `json:"name"`
	Unit  benchUnit `json:"unit"`
	Plain benchSide `json:"plain"`
	Pgfed benchSide `json:"pgfed"`
	// Ratio is pgfed's speed over plain PostgreSQL's: pgfed/plain for
	// throughputs, plain/pgfed for times. 0 when either side is missing.
	Ratio  float64     `json:"ratio"`
	Target float64     `json:"target,omitempty"` // minimum Ratio asked by the issue; 0 = none
	Status benchStatus `json:"status"`
	Error  string      `json:"error,omitempty"` // the first error of either side
}

// benchTargets are the issue's goals ("Executor ... speed well ahead of
// Citus"), as minimum ratios of pgfed's speed to plain PostgreSQL's,
// measured in the same run.
var benchTargets = map[string]float64{
	"select-prepared-c8": 0.30,
	"select-simple-c8":   0.25,
	"transfer":           0.15,
	"tpcb":               0.10,
	"copy":               0.60,
	"agg-account-top10":  2.2,
	"count-distinct":     2.5,
	"agg-kind":           1.0,
}

// benchMedian returns the median of xs (the mean of the two middle values for an
// even count), 0 for none. xs is not modified.
func benchMedian(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// benchSpeedRatio returns pgfed's speed relative to plain PostgreSQL's for two
// figures in unit u, or 0 when either figure is missing.
func benchSpeedRatio(u benchUnit, plain, pgfed float64) float64 {
	if plain <= 0 || pgfed <= 0 {
		return 0
	}
	if u.higherIsBetter() {
		return pgfed / plain
	}
	return plain / pgfed
}

// finish computes the ratio, the target and the status of r from its
// sides; distributed is false when pgfed's tables were not distributed.
func (r *benchResult) finish(distributed bool) {
	r.Target = benchTargets[r.ID]
	r.Ratio = benchSpeedRatio(r.Unit, r.Plain.Median, r.Pgfed.Median)
	switch {
	case r.Plain.Error != "":
		r.Status, r.Error = benchFailed, "plain: "+r.Plain.Error
	case r.Pgfed.Error != "":
		r.Status, r.Error = benchFailed, "pgfed: "+r.Pgfed.Error
	case r.Ratio == 0:
		r.Status, r.Error = benchFailed, "no measurement"
	case r.Target == 0:
		r.Status = benchNoTarget
	case !distributed:
		r.Status = benchUndistributed
	case r.Ratio >= r.Target:
		r.Status = benchMet
	default:
		r.Status = benchMissed
	}
}

// benchFormatFigure prints a median in its unit, "-" when missing.
func benchFormatFigure(u benchUnit, v float64) string {
	if v <= 0 || math.IsNaN(v) {
		return "-"
	}
	switch u {
	case benchSeconds:
		if v < 1 {
			return fmt.Sprintf("%.1f ms", v*1000)
		}
		return fmt.Sprintf("%.2f s", v)
	case benchRowsPerSec:
		return fmt.Sprintf("%.0f rows/s", v)
	default:
		if v < 10 {
			return fmt.Sprintf("%.2f tps", v)
		}
		return fmt.Sprintf("%.0f tps", v)
	}
}

// benchFormatRatio prints a speed ratio: a fraction for throughputs, "N.NNx" for
// query times (as the issue states those targets).
func benchFormatRatio(u benchUnit, v float64) string {
	if v <= 0 {
		return "-"
	}
	if u == benchSeconds {
		return fmt.Sprintf("%.2fx", v)
	}
	if v < 0.001 {
		return "< 0.001"
	}
	return fmt.Sprintf("%.3f", v)
}

// benchWriteTable prints the results as an aligned table, then each failure's
// error in full below it.
func benchWriteTable(w io.Writer, results []benchResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "workload\tplain\tpgfed\tpgfed/plain\ttarget\tstatus")
	for _, r := range results {
		target := "-"
		if r.Target > 0 {
			target = ">= " + benchFormatRatio(r.Unit, r.Target)
		}
		status := string(r.Status)
		if r.Status == benchFailed {
			status += " (see below)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name,
			benchFormatFigure(r.Unit, r.Plain.Median), benchFormatFigure(r.Unit, r.Pgfed.Median),
			benchFormatRatio(r.Unit, r.Ratio), target, status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, f := range benchGroupFailures(results) {
		fmt.Fprintf(w, "\nFAILED %s:\n    %s\n", strings.Join(f.names, ", "), benchIndent(f.err, "    "))
	}
	return nil
}

// benchFailure is an error and the workloads that failed with it.
type benchFailure struct {
	err   string
	names []string
}

// benchGroupFailures returns the errors of the failed results, each once, with
// the workloads it failed, in the order of the results: when a dataset
// could not be set up, every workload on it fails the same way.
func benchGroupFailures(results []benchResult) []benchFailure {
	var out []benchFailure
	index := map[string]int{}
	for _, r := range results {
		if r.Status != benchFailed {
			continue
		}
		i, ok := index[r.Error]
		if !ok {
			i = len(out)
			index[r.Error] = i
			out = append(out, benchFailure{err: r.Error})
		}
		out[i].names = append(out[i].names, r.ID)
	}
	return out
}

// benchIndent indents every line of s but the first.
func benchIndent(s, indent string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+indent)
}

// benchSummary counts the statuses of results.
func benchSummary(results []benchResult) map[benchStatus]int {
	m := map[benchStatus]int{}
	for _, r := range results {
		m[r.Status]++
	}
	return m
}

// benchReport is the JSON file a run writes.
type benchReport struct {
	Started     time.Time           `json:"started"`
	Finished    time.Time           `json:"finished"`
	Settings    benchSettings       `json:"settings"`
	Distributed bool                `json:"distributed"` // false with --no-distribute
	Results     []benchResult       `json:"results"`
	Summary     map[benchStatus]int `json:"summary"`
	Environment map[string]string   `json:"environment,omitempty"`
}

// benchWriteJSON writes the report to path, atomically.
func benchWriteJSON(path string, rep benchReport) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}
