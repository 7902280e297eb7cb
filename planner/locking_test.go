package planner

import "testing"

func TestSpaceLockWait(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 1 FROM a FOR UPDATE OF aNOWAIT":                                 "SELECT 1 FROM a FOR UPDATE OF a NOWAIT",
		`SELECT 1 FROM "A" FOR SHARE OF "A"SKIP LOCKED`:                         `SELECT 1 FROM "A" FOR SHARE OF "A" SKIP LOCKED`,
		"SELECT 1 FROM a, b FOR UPDATE OF a, bSKIP LOCKED FOR SHARE OF bNOWAIT": "SELECT 1 FROM a, b FOR UPDATE OF a, b SKIP LOCKED FOR SHARE OF b NOWAIT",
		"SELECT 1 FROM a FOR UPDATE NOWAIT":                                     "SELECT 1 FROM a FOR UPDATE NOWAIT",
		"SELECT 1 FROM a":                                                       "SELECT 1 FROM a",
	} {
		if got := spaceLockWait(in); got != want {
			t.Errorf("spaceLockWait(%q) = %q, want %q", in, got, want)
		}
	}
}
