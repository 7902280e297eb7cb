package failpoint

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgerrcode"
)

// Env is the environment variable naming the failpoints to enable, as
// comma-separated name=action pairs.
const Env = "PGFED_FAILPOINTS"

// ExitCode is the status a process exits with at an "exit" failpoint.
const ExitCode = 3

// Name names a failpoint.
type Name string

// The failpoints of two-phase commit, in the order a commit reaches them.
const (
	// BeforePrepare is reached when a transaction that wrote on several
	// workers starts to commit, before anything is prepared.
	BeforePrepare Name = "2pc-before-prepare"
	// AfterPrepare is reached when every written worker has prepared and
	// no decision is durable yet.
	AfterPrepare Name = "2pc-after-prepare"
	// AfterDecision is reached when the commit decision is durable in the
	// metadata database and no worker has committed yet.
	AfterDecision Name = "2pc-after-decision"
	// MidCommit is reached after COMMIT PREPARED has been sent to some
	// workers, not all.
	MidCommit Name = "2pc-mid-commit"
)

// The failpoints of the federated commit (executor/dtx, federated.go), in
// the order a commit reaches them. What "error" does at each is the
// commit's own business; there it stands for the coordinator failing at
// that step, and the validators deciding without it.
const (
	// FedBeforeSubmit is reached when a federated transaction starts to
	// commit, its request signed, before it is submitted to the
	// validators.
	FedBeforeSubmit Name = "fed-before-submit"
	// FedAfterSubmit is reached once a validator has the request and
	// before any PREPARE TRANSACTION is sent.
	FedAfterSubmit Name = "fed-after-submit"
	// FedAfterPrepare is reached when every written worker has prepared
	// its part and the coordinator has not yet asked for the decision.
	FedAfterPrepare Name = "fed-after-prepare"
	// FedBeforeWait is reached just before the coordinator waits for the
	// validators' decision, whether the PREPAREs succeeded or not.
	FedBeforeWait Name = "fed-before-wait"
)

// Action is what a failpoint does when reached.
type Action uint8

// The actions.
const (
	// Off does nothing.
	Off Action = iota
	// Exit ends the process at once with ExitCode, as a crash would: no
	// deferred function runs, no connection is closed politely.
	Exit
	// Fail makes Hit return an *Error, so the step fails.
	Fail
)

// String returns the spelling of the action in Env: "off", "exit" or
// "error".
func (a Action) String() string {
	switch a {
	case Off:
		return "off"
	case Exit:
		return "exit"
	case Fail:
		return "error"
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// parseAction reads an action's spelling.
func parseAction(s string) (Action, bool) {
	switch s {
	case "off":
		return Off, true
	case "exit":
		return Exit, true
	case "error":
		return Fail, true
	}
	return Off, false
}

// Error is returned by Hit at a failpoint whose action is "error". Its
// SQLSTATE is XX000 (internal_error): it stands for a failure of pgfed
// itself.
type Error struct {
	// Name is the failpoint reached.
	Name Name
}

// Error returns "failpoint <name>: injected error".
func (e *Error) Error() string { return fmt.Sprintf("failpoint %s: injected error", e.Name) }

// SQLState returns XX000.
func (e *Error) SQLState() string { return pgerrcode.InternalError }

var (
	// enabled is set when at least one failpoint is active; the only cost
	// of Hit when it is not.
	enabled atomic.Bool
	// points holds the active failpoints; replaced whole (init, Set),
	// never modified in place.
	points atomic.Pointer[map[Name]Action]
	// loadErr is the error of parsing Env, if any.
	loadErr error
)

func init() {
	m, err := Parse(os.Getenv(Env))
	if err != nil {
		m, loadErr = nil, err
	}
	store(m)
}

// store makes m the active failpoints.
func store(m map[Name]Action) {
	points.Store(&m)
	enabled.Store(len(m) > 0)
}

// Set replaces the active failpoints of this process with spec (Parse's
// syntax; "" turns them all off). It is for tests that run the code under
// test in their own process and cannot set Env before it starts; a
// malformed spec changes nothing. Hits running concurrently see either
// the old set or the new one.
func Set(spec string) error {
	m, err := Parse(spec)
	if err != nil {
		return err
	}
	store(m)
	return nil
}

// Parse reads a failpoint specification such as
// "2pc-after-prepare=exit,2pc-mid-commit=error". Empty items are ignored;
// a name given twice keeps the last action.
func Parse(spec string) (map[Name]Action, error) {
	m := make(map[Name]Action)
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, act, ok := strings.Cut(item, "=")
		name, act = strings.TrimSpace(name), strings.TrimSpace(act)
		if !ok || name == "" {
			return nil, fmt.Errorf("failpoint: %s: %q is not name=action", Env, item)
		}
		a, ok := parseAction(act)
		if !ok {
			return nil, fmt.Errorf("failpoint: %s: %q: action must be exit, error or off", Env, item)
		}
		if a == Off {
			delete(m, Name(name))
			continue
		}
		m[Name(name)] = a
	}
	return m, nil
}

// Err returns the error found in Env at start, or nil.
func Err() error { return loadErr }

// Enabled reports whether any failpoint is active.
func Enabled() bool { return enabled.Load() }

// Active returns the active failpoints as "name=action" strings, sorted,
// for logging at start.
func Active() []string {
	var s []string
	for n, a := range *points.Load() {
		s = append(s, string(n)+"="+a.String())
	}
	sort.Strings(s)
	return s
}

// Hit is called at a failpoint. With no failpoint active it returns nil at
// the cost of one atomic load. If the point's action is Exit the process
// exits with ExitCode at once; if it is Fail, Hit returns an *Error.
func Hit(name Name) error {
	if !enabled.Load() {
		return nil
	}
	switch (*points.Load())[name] {
	case Exit:
		fmt.Fprintf(os.Stderr, "failpoint %s: exit\n", name)
		os.Exit(ExitCode)
	case Fail:
		return &Error{Name: name}
	}
	return nil
}
