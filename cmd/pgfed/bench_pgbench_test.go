package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// benchPgbench15Report is the standard output of pgbench 15.18 (Debian) for
// `pgbench -n -T 1 -c 2 -j 2 -S -M prepared`.
const benchPgbench15Report = `pgbench (15.18 (Debian 15.18-0+deb12u1))
transaction type: <builtin: select only>
scaling factor: 1
query mode: prepared
number of clients: 2
number of threads: 2
maximum number of tries: 1
duration: 1 s
number of transactions actually processed: 54742
number of failed transactions: 0 (0.000%)
latency average = 0.037 ms
initial connection time = 4.476 ms
tps = 54789.776685 (without initial connection time)
`

// benchPgbench15Aborted is pgbench 15.18's standard output when every client
// aborted on an error (exit status 2).
const benchPgbench15Aborted = `pgbench (15.18 (Debian 15.18-0+deb12u1))
transaction type: /tmp/bad.sql
scaling factor: 1
query mode: simple
number of clients: 2
number of threads: 1
maximum number of tries: 1
duration: 1 s
number of transactions actually processed: 0
number of failed transactions: 0 (NaN%)
`

func TestBenchParsePgbench(t *testing.T) {
	got, err := benchParsePgbench(benchPgbench15Report)
	if err != nil {
		t.Fatal(err)
	}
	want := benchPgbenchRun{TPS: 54789.776685, LatencyMs: 0.037, Transactions: 54742, Failed: 0}
	if got != want {
		t.Errorf("parsePgbench = %+v, want %+v", got, want)
	}

	// pgbench 13 and older said "excluding connections establishing".
	old := "number of transactions actually processed: 10\nlatency average = 1.5 ms\n" +
		"tps = 666.6 (including connections establishing)\ntps = 700.1 (excluding connections establishing)\n"
	if got, err := benchParsePgbench(old); err != nil || got.TPS != 700.1 || got.LatencyMs != 1.5 {
		t.Errorf("parsePgbench(pgbench 13) = %+v, %v; want tps 700.1, latency 1.5", got, err)
	}

	failed := strings.Replace(benchPgbench15Report, "number of failed transactions: 0 (0.000%)", "number of failed transactions: 12 (0.022%)", 1)
	if got, err := benchParsePgbench(failed); err != nil || got.Failed != 12 {
		t.Errorf("parsePgbench(failed transactions) = %+v, %v; want 12 failed", got, err)
	}

	for name, out := range map[string]string{
		"aborted":  benchPgbench15Aborted,
		"empty":    "",
		"zero tps": "number of transactions actually processed: 0\ntps = 0.000000 (without initial connection time)\n",
	} {
		if got, err := benchParsePgbench(out); err == nil {
			t.Errorf("parsePgbench(%s) = %+v, want an error", name, got)
		}
	}
}

func TestBenchPgbenchFailure(t *testing.T) {
	for _, tc := range []struct {
		name, stderr, want string
	}{
		{
			name: "aborted clients",
			stderr: "pgbench: error: client 0 script 0 aborted in command 4 query 0: ERROR:  function create_reference_table(unknown) does not exist\n" +
				"LINE 1: SELECT create_reference_table('x')\n" +
				"HINT:  No function matches the given name and argument types.\n" +
				"pgbench: error: Run was aborted; the above results are incomplete.\n",
			want: "pgbench: error: client 0 script 0 aborted in command 4 query 0: ERROR:  function create_reference_table(unknown) does not exist\n" +
				"LINE 1: SELECT create_reference_table('x')\n" +
				"HINT:  No function matches the given name and argument types.\n" +
				"pgbench: error: Run was aborted; the above results are incomplete.",
		},
		{
			name:   "connection refused",
			stderr: "pgbench: error: connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?\n",
			want:   "pgbench: error: connection to server at \"127.0.0.1\", port 1 failed: Connection refused\nIs the server running on that host and accepting TCP/IP connections?",
		},
		{
			name:   "psql",
			stderr: "psql:<stdin>:1: ERROR:  relation \"bench_copy\" does not exist\nDETAIL:  more\n",
			want:   "psql:<stdin>:1: ERROR:  relation \"bench_copy\" does not exist\nDETAIL:  more",
		},
		{
			name:   "no error line: the tail",
			stderr: "pgbench: starting\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n",
			want:   "3\n4\n5\n6\n7\n8\n9\n10",
		},
	} {
		if got := benchToolFailure(tc.stderr); got != tc.want {
			t.Errorf("%s: pgbenchFailure =\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}

func TestBenchPgbenchArgs(t *testing.T) {
	sys := &benchSystem{Name: "pgfed", Host: "127.0.0.1", Port: 6432}
	got := strings.Join(benchPgbenchSpec{selectOnly: true, mode: "prepared", clients: 8, threads: 2}.args(sys, 5*time.Second, 10), " ")
	want := "-h 127.0.0.1 -p 6432 -U postgres -n -T 5 -c 8 -j 2 -S -M prepared postgres"
	if got != want {
		t.Errorf("args = %q, want %q", got, want)
	}
	got = strings.Join(benchPgbenchSpec{clients: 8, threads: 2, script: "/t/transfer.sql"}.args(sys, 1500*time.Millisecond, 3), " ")
	want = "-h 127.0.0.1 -p 6432 -U postgres -n -T 2 -c 8 -j 2 -f /t/transfer.sql -s 3 postgres"
	if got != want {
		t.Errorf("args = %q, want %q", got, want)
	}
}

func TestBenchRunToolLimits(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatalf("no sleep program: %v", err)
	}
	began := time.Now()
	_, err = benchRunTool(context.Background(), 100*time.Millisecond, sleep, "30")
	if err == nil || !strings.Contains(err.Error(), "sleep: still running after 100ms (hung?), stopped") {
		t.Errorf("past its limit: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = benchRunTool(ctx, time.Minute, sleep, "30")
	if err == nil || !strings.Contains(err.Error(), "sleep: interrupted") {
		t.Errorf("interrupted: %v", err)
	}
	if d := time.Since(began); d > 20*time.Second {
		t.Errorf("stopping sleep took %s", d)
	}
	out, err := benchRunTool(context.Background(), time.Minute, sleep, "--no-such-flag")
	if err == nil || !strings.Contains(err.Error(), "sleep: exit status") {
		t.Errorf("failing program: %v (output %q)", err, out)
	}
}
