package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDevClusterRegistersWorkers checks that `pgfed dev` records its
// workers in the catalog, once: a restart finds them and adds none.
func TestDevClusterRegistersWorkers(t *testing.T) {
	bin := buildPgfed(t)
	dir := filepath.Join(t.TempDir(), "cluster")
	d := startDev(t, bin, dir)
	const q = "SELECT count(*) FROM pgfed.node WHERE isactive"
	if got := strings.TrimSpace(d.mustPsql("-At", "-c", q)); got != "2" {
		t.Fatalf("active nodes after the first start: %q, want 2", got)
	}
	d.stop()
	d2 := startDev(t, bin, dir)
	if got := strings.TrimSpace(d2.mustPsql("-At", "-c", q)); got != "2" {
		t.Fatalf("active nodes after a restart: %q, want 2", got)
	}
}
