package executor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// psql runs psql against the coordinator with one -c per command and
// returns its output; it fails the test when psql fails.
func psql(t *testing.T, e *env, cmds ...string) string {
	t.Helper()
	out, err := runPsql(t, e, cmds...)
	if err != nil {
		t.Fatalf("psql %q: %v\n%s", cmds, err, out)
	}
	return out
}

// runPsql runs psql and returns its combined output and error.
func runPsql(t *testing.T, e *env, cmds ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("psql")
	if err != nil {
		t.Fatalf("psql not found: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := []string{"-X", "-v", "ON_ERROR_STOP=1", "-h", e.host, "-p", strconv.Itoa(e.port), "-U", "postgres", "-d", "postgres"}
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PGSSLMODE=disable")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func testPsql(t *testing.T, e *env) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(in, []byte("1,alpha\n2,beta\n3,\"gamma, delta\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := psql(t, e,
		"CREATE TABLE psql_t (id int PRIMARY KEY, label text)",
		"INSERT INTO psql_t VALUES (10, 'ten')",
		`\copy psql_t FROM '`+in+`' WITH (FORMAT csv)`,
		"SELECT count(*) AS n FROM psql_t",
	)
	for _, want := range []string{"CREATE TABLE", "INSERT 0 1", "COPY 3", " 4\n"} {
		if !strings.Contains(out, want) {
			t.Fatalf("psql output lacks %q:\n%s", want, out)
		}
	}
	// psql's \d runs catalog queries on the metadata database.
	out = psql(t, e, `\d psql_t`)
	for _, want := range []string{`Table "public.psql_t"`, "id", "integer", "label", "text", "psql_t_pkey"} {
		if !strings.Contains(out, want) {
			t.Fatalf(`\d output lacks %q:`+"\n%s", want, out)
		}
	}
	out = psql(t, e, `\dt psql_*`)
	if !strings.Contains(out, "psql_t") || !strings.Contains(out, "table") {
		t.Fatalf(`\dt output:`+"\n%s", out)
	}
	// A transaction rolled back, in one psql session.
	out = psql(t, e, "BEGIN; DELETE FROM psql_t; ROLLBACK;", "SELECT label FROM psql_t WHERE id = 3")
	if !strings.Contains(out, "gamma, delta") {
		t.Fatalf("rollback lost the row:\n%s", out)
	}
	// \copy to a file.
	outFile := filepath.Join(dir, "out.csv")
	psql(t, e, `\copy (SELECT id, label FROM psql_t ORDER BY id) TO '`+outFile+`' WITH (FORMAT csv)`)
	data, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	if want := "1,alpha\n2,beta\n3,\"gamma, delta\"\n10,ten\n"; string(data) != want {
		t.Fatalf("copied out %q, want %q", data, want)
	}
	// An error stops psql with the server's message and code.
	out, err = runPsql(t, e, "\\set VERBOSITY verbose", "SELECT * FROM psql_nosuch")
	if err == nil {
		t.Fatalf("psql succeeded on a missing table:\n%s", out)
	}
	if !strings.Contains(out, "42P01") || !strings.Contains(out, `relation "psql_nosuch" does not exist`) {
		t.Fatalf("psql error output:\n%s", out)
	}
}
