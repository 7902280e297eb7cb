package pgcluster

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// benchRoot opens a fresh test root, stopped and removed at cleanup.
func benchRoot(b *testing.B) *Root {
	b.Helper()
	r, err := openTestRoot(hclog.NewNullLogger())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := closeTestRoot(r, false); err != nil {
			b.Error(err)
		}
	})
	return r
}

// BenchmarkInitdb measures building a template: one initdb --no-sync.
func BenchmarkInitdb(b *testing.B) {
	r := benchRoot(b)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		base := filepath.Join(r.Dir(), "tmpl"+strconv.Itoa(i))
		if err := os.Mkdir(base, 0o755); err != nil {
			b.Fatal(err)
		}
		if _, _, err := ensureTemplate(ctx, r.binDir, base, r.acct, hclog.NewNullLogger()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCopyTemplate measures making a data folder from the template.
func BenchmarkCopyTemplate(b *testing.B) {
	r := benchRoot(b)
	ctx := context.Background()
	tmpl, _, err := ensureTemplate(ctx, r.binDir, r.templateBase, r.acct, r.log)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		if err := copyTree(ctx, tmpl, filepath.Join(r.Dir(), "copy"+strconv.Itoa(i)), r.acct); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStartStop measures a start (until it accepts connections) and a
// fast stop of an existing server.
func BenchmarkStartStop(b *testing.B) {
	r := benchRoot(b)
	ctx := context.Background()
	s, err := r.Server(ctx, ServerSpec{Name: "w"})
	if err != nil {
		b.Fatal(err)
	}
	var start, stop time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := s.Stop(ctx); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := s.Start(ctx); err != nil {
			b.Fatal(err)
		}
		stop += t1.Sub(t0)
		start += time.Since(t1)
	}
	b.ReportMetric(float64(start.Milliseconds())/float64(b.N), "start-ms/op")
	b.ReportMetric(float64(stop.Milliseconds())/float64(b.N), "stop-ms/op")
}

// BenchmarkNewServer measures Root.Server for a new name: copy plus start.
func BenchmarkNewServer(b *testing.B) {
	r := benchRoot(b)
	ctx := context.Background()
	if _, _, err := ensureTemplate(ctx, r.binDir, r.templateBase, r.acct, r.log); err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		s, err := r.Server(ctx, ServerSpec{Name: "s" + strconv.Itoa(i)})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.StopImmediate(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
