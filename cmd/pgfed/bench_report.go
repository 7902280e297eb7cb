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
	unitTPS     benchUnit = "tps"    // pgbench transactions per second
	unitRowsSec benchUnit = "rows/s" // COPY throughput
	unitSeconds benchUnit = "s"      // time of one query: lower is better
)

// higherIsBetter reports whether a larger figure means a faster system.
func (u benchUnit) higherIsBetter() bool { return u != unitSeconds }

// benchStatus is the verdict on one workload.
type benchStatus string

const (
	statusMet      benchStatus = "met"
	statusMissed   benchStatus = "missed"
	statusNoTarget benchStatus = "no target"
	statusFailed   benchStatus = "FAILED"
	// statusUndistributed replaces met and missed under --no-distribute:
	// the targets are about distributed tables.
	statusUndistributed benchStatus = "not distributed"
)

// sideResult is what one system (plain PostgreSQL or pgfed) measured for a
// workload over the rounds.
type sideResult struct {
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
func (s *sideResult) add(figure, latencyMs float64) {
	s.Samples = append(s.Samples, figure)
	s.Median = median(s.Samples)
	if latencyMs > 0 {
		s.Latency = append(s.Latency, latencyMs)
		s.LatencyMedian = median(s.Latency)
	}
}

// benchResult is one row of the report.
type benchResult struct {
	ID    string     `json:"id"`
	Name  string     `json:"name"`
	Unit  benchUnit  `json:"unit"`
	Plain sideResult `json:"plain"`
	Pgfed sideResult `json:"pgfed"`
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

// median returns the median of xs (the mean of the two middle values for an
// even count), 0 for none. xs is not modified.
func median(xs []float64) float64 {
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

// speedRatio returns pgfed's speed relative to plain PostgreSQL's for two
// figures in unit u, or 0 when either figure is missing.
func speedRatio(u benchUnit, plain, pgfed float64) float64 {
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
	r.Ratio = speedRatio(r.Unit, r.Plain.Median, r.Pgfed.Median)
	switch {
	case r.Plain.Error != "":
		r.Status, r.Error = statusFailed, "plain: "+r.Plain.Error
	case r.Pgfed.Error != "":
		r.Status, r.Error = statusFailed, "pgfed: "+r.Pgfed.Error
	case r.Ratio == 0:
		r.Status, r.Error = statusFailed, "no measurement"
	case r.Target == 0:
		r.Status = statusNoTarget
	case !distributed:
		r.Status = statusUndistributed
	case r.Ratio >= r.Target:
		r.Status = statusMet
	default:
		r.Status = statusMissed
	}
}

// formatFigure prints a median in its unit, "-" when missing.
func formatFigure(u benchUnit, v float64) string {
	if v <= 0 || math.IsNaN(v) {
		return "-"
	}
	switch u {
	case unitSeconds:
		if v < 1 {
			return fmt.Sprintf("%.1f ms", v*1000)
		}
		return fmt.Sprintf("%.2f s", v)
	case unitRowsSec:
		return fmt.Sprintf("%.0f rows/s", v)
	default:
		return fmt.Sprintf("%.0f tps", v)
	}
}

// formatRatio prints a speed ratio: a fraction for throughputs, "N.NNx" for
// query times (as the issue states those targets).
func formatRatio(u benchUnit, v float64) string {
	if v <= 0 {
		return "-"
	}
	if u == unitSeconds {
		return fmt.Sprintf("%.2fx", v)
	}
	return fmt.Sprintf("%.3f", v)
}

// writeTable prints the results as an aligned table, then each failure's
// error in full below it.
func writeTable(w io.Writer, results []benchResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "workload\tplain\tpgfed\tpgfed/plain\ttarget\tstatus")
	for _, r := range results {
		target := "-"
		if r.Target > 0 {
			target = ">= " + formatRatio(r.Unit, r.Target)
		}
		status := string(r.Status)
		if r.Status == statusFailed {
			status += " (see below)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name,
			formatFigure(r.Unit, r.Plain.Median), formatFigure(r.Unit, r.Pgfed.Median),
			formatRatio(r.Unit, r.Ratio), target, status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, f := range groupFailures(results) {
		fmt.Fprintf(w, "\nFAILED %s:\n    %s\n", strings.Join(f.names, ", "), indentAfterFirst(f.err, "    "))
	}
	return nil
}

// failure is an error and the workloads that failed with it.
type failure struct {
	err   string
	names []string
}

// groupFailures returns the errors of the failed results, each once, with
// the workloads it failed, in the order of the results: when a dataset
// could not be set up, every workload on it fails the same way.
func groupFailures(results []benchResult) []failure {
	var out []failure
	index := map[string]int{}
	for _, r := range results {
		if r.Status != statusFailed {
			continue
		}
		i, ok := index[r.Error]
		if !ok {
			i = len(out)
			index[r.Error] = i
			out = append(out, failure{err: r.Error})
		}
		out[i].names = append(out[i].names, r.ID)
	}
	return out
}

// indentAfterFirst indents every line of s but the first.
func indentAfterFirst(s, indent string) string {
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

// writeJSON writes the report to path, atomically.
func writeJSON(path string, rep benchReport) error {
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
