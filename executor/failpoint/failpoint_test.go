package failpoint

import (
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	m, err := Parse(" 2pc-after-prepare=exit, ,2pc-mid-commit=error,x=exit,x=off")
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 || m[AfterPrepare] != Exit || m[MidCommit] != Fail {
		t.Fatalf("Parse = %v", m)
	}
	for _, bad := range []string{"noaction", "=exit", "a=crash"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
	if m, err := Parse(""); err != nil || len(m) != 0 {
		t.Errorf("Parse(\"\") = %v, %v", m, err)
	}
}

func TestHitOffCostsNothing(t *testing.T) {
	if Enabled() {
		t.Skip("failpoints enabled in this process")
	}
	if err := Hit(AfterPrepare); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = Hit(MidCommit) }); n != 0 {
		t.Fatalf("Hit allocates %v times when off", n)
	}
}

// helperEnv makes the test binary act as a process with failpoints.
const helperEnv = "PGFED_FAILPOINT_TEST_HELPER"

// TestHelperProcess is not a test: run with helperEnv set, it hits two
// failpoints and reports what happened through its exit status.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("helper process")
	}
	var fe *Error
	if err := Hit(BeforePrepare); !errors.As(err, &fe) || fe.Name != BeforePrepare || fe.SQLState() != "XX000" {
		os.Exit(10)
	}
	_ = Hit(AfterDecision) // exits with ExitCode
	os.Exit(11)
}

func TestFromEnvironment(t *testing.T) {
	cases := []struct {
		spec string
		code int
	}{
		{"2pc-before-prepare=error,2pc-after-decision=exit", ExitCode},
		{"2pc-before-prepare=error", 11},
		{"2pc-after-decision=exit", 10},
	}
	for _, c := range cases {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.timeout=30s")
		cmd.Env = append(os.Environ(), helperEnv+"=1", Env+"="+c.spec)
		cmd.WaitDelay = 10 * time.Second
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != c.code {
			t.Errorf("%s: %v, want exit status %d", c.spec, err, c.code)
		}
	}
}

func TestSet(t *testing.T) {
	if Enabled() {
		t.Skip("failpoints enabled in this process")
	}
	t.Cleanup(func() { Set("") })
	if err := Set("fed-after-submit=error"); err != nil {
		t.Fatal(err)
	}
	var fe *Error
	if err := Hit(FedAfterSubmit); !Enabled() || !errors.As(err, &fe) || fe.Name != FedAfterSubmit {
		t.Fatalf("Hit after Set = %v", err)
	}
	if err := Hit(FedAfterPrepare); err != nil {
		t.Fatalf("a point not set: %v", err)
	}
	if got := Active(); len(got) != 1 || got[0] != "fed-after-submit=error" {
		t.Fatalf("Active = %v", got)
	}
	if err := Set("bad"); err == nil || !Enabled() {
		t.Fatalf("a malformed spec: %v, enabled %v", err, Enabled())
	}
	if err := Set(""); err != nil || Enabled() || Hit(FedAfterSubmit) != nil {
		t.Fatalf("Set(\"\") left failpoints on: %v", err)
	}
}
