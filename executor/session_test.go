package executor

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgfed/pgfed/wire"
)

// recorder is a wire.Results that writes what it is sent as text lines.
type recorder struct {
	lines     []string
	failAfter int                        // Send fails once this many messages were sent (0: never)
	copy      []pgproto3.FrontendMessage // what ReceiveCopy returns, in order
}

func (r *recorder) Send(msg pgproto3.BackendMessage) error {
	var line string
	switch m := msg.(type) {
	case *pgproto3.DataRow:
		vals := make([]string, len(m.Values))
		for i, v := range m.Values {
			vals[i] = string(v)
		}
		line = "row " + strings.Join(vals, ",")
	case *pgproto3.CommandComplete:
		line = "complete " + string(m.CommandTag)
	case *pgproto3.RowDescription:
		line = fmt.Sprintf("describe %d", len(m.Fields))
	default:
		line = strings.TrimPrefix(fmt.Sprintf("%T", msg), "*pgproto3.")
	}
	if r.failAfter > 0 && len(r.lines) >= r.failAfter {
		return errClientGone
	}
	r.lines = append(r.lines, line)
	return nil
}

// errClientGone is a recorder's write error.
var errClientGone = errors.New("client gone")

func (r *recorder) ReceiveCopy() (pgproto3.FrontendMessage, error) {
	if len(r.copy) == 0 {
		return nil, errClientGone
	}
	m := r.copy[0]
	r.copy = r.copy[1:]
	return m, nil
}

func (r *recorder) String() string { return strings.Join(r.lines, "; ") }

// notifier is a wire.Client that records the notifications it is given.
type notifier struct {
	mu   sync.Mutex
	msgs []string
}

func (n *notifier) Notify(msg pgproto3.BackendMessage) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if m, ok := msg.(*pgproto3.NotificationResponse); ok {
		n.msgs = append(n.msgs, m.Channel+":"+m.Payload)
	}
	return nil
}

// newSession opens a session straight from the handler, without the wire
// server.
func newSession(t *testing.T, e *env, c wire.Client) *Session {
	t.Helper()
	s, err := e.handler.NewSession(testCtx(t), wire.Startup{
		User:     "postgres",
		Database: "postgres",
		Params:   map[string]string{"user": "postgres", "database": "postgres", "application_name": "session_test"},
	}, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.(*Session)
}

// query runs sql as a simple query and fails the test on error.
func query(t *testing.T, s *Session, sql string) string {
	t.Helper()
	var r recorder
	if err := s.SimpleQuery(testCtx(t), sql, &r); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return r.String()
}

func testSessionPortalSuspended(t *testing.T, e *env) {
	ctx := testCtx(t)
	s := newSession(t, e, nil)
	query(t, s, "BEGIN")
	h, desc, err := s.Prepare(ctx, "five", "SELECT g FROM generate_series(1, $1::int) g", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.ParamOIDs) != 1 || desc.ParamOIDs[0] != 23 || len(desc.Fields) != 1 || string(desc.Fields[0].Name) != "g" {
		t.Fatalf("description %+v", desc)
	}
	st := &wire.Statement{Name: "five", Desc: desc, Handle: h}
	p := &wire.Portal{Name: "cur", Statement: st, Params: [][]byte{[]byte("5")}}
	var got []string
	for i := 0; ; i++ {
		var r recorder
		suspended, err := s.Execute(ctx, p, wire.ExecuteOptions{MaxRows: 2}, &r)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.String())
		if !suspended {
			break
		}
		if i > 5 {
			t.Fatal("portal never completes")
		}
	}
	if want := "row 1; row 2|row 3; row 4|row 5; complete SELECT 1"; strings.Join(got, "|") != want {
		t.Fatalf("got %q, want %q", strings.Join(got, "|"), want)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if s.TxStatus() != 'T' {
		t.Fatalf("status %c inside BEGIN", s.TxStatus())
	}
	if err := s.ClosePortal(ctx, p); err != nil {
		t.Fatal(err)
	}
	if out := query(t, s, "SELECT count(*) FROM pg_cursors WHERE name = 'cur'"); out != "describe 1; row 0; complete SELECT 1" {
		t.Fatalf("portal not closed: %s", out)
	}
	query(t, s, "COMMIT")
	if s.TxStatus() != 'I' {
		t.Fatalf("status %c after COMMIT", s.TxStatus())
	}
}

func testSessionContextCancel(t *testing.T, e *env) {
	s := newSession(t, e, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	var r recorder
	err := s.SimpleQuery(ctx, "SELECT pg_sleep(30)", &r)
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != pgerrcode.QueryCanceled {
		t.Fatalf("got %v, want 57014", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("cancel took %v", elapsed)
	}
	if out := query(t, s, "SELECT 1"); out != "describe 1; row 1; complete SELECT 1" {
		t.Fatalf("after cancel: %s", out)
	}
	// A context already done: nothing reaches the backend.
	err = s.SimpleQuery(ctx, "SELECT 1", &r)
	if !errors.As(err, &we) || we.Code != pgerrcode.QueryCanceled {
		t.Fatalf("got %v, want 57014", err)
	}
	// Cancel with nothing running does nothing.
	s.Cancel()
	if out := query(t, s, "SELECT 2"); out != "describe 1; row 2; complete SELECT 1" {
		t.Fatalf("after idle cancel: %s", out)
	}
}

func testSessionCloseStatement(t *testing.T, e *env) {
	ctx := testCtx(t)
	s := newSession(t, e, nil)
	count := func() string {
		return query(t, s, "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'cs%'")
	}
	var stmts []*wire.Statement
	for i := range 3 {
		name := fmt.Sprint("cs", i)
		h, desc, err := s.Prepare(ctx, name, "SELECT 1", nil)
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, &wire.Statement{Name: name, Desc: desc, Handle: h})
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != "describe 1; row 3; complete SELECT 1" {
		t.Fatalf("prepared: %s", got)
	}
	for _, st := range stmts[:2] {
		if err := s.CloseStatement(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	if got := count(); got != "describe 1; row 1; complete SELECT 1" {
		t.Fatalf("after closing two: %s", got)
	}
	// An error in Prepare leaves the backend skipping to Sync; Sync
	// brings it back.
	if _, _, err := s.Prepare(ctx, "cs_bad", "SELECT FROM nosuch", nil); err == nil {
		t.Fatal("prepare of a bad statement succeeded")
	}
	if err := s.CloseStatement(ctx, stmts[2]); err != nil { // deferred past the Sync
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != "describe 1; row 0; complete SELECT 1" {
		t.Fatalf("after closing the last: %s", got)
	}
}

func testSessionCopyIn(t *testing.T, e *env) {
	s := newSession(t, e, nil)
	query(t, s, "CREATE TEMP TABLE copy_in (v text)")
	r := &recorder{copy: []pgproto3.FrontendMessage{
		&pgproto3.CopyData{Data: []byte("a\nb\n")},
		&pgproto3.CopyData{Data: []byte("c\n")},
		&pgproto3.CopyDone{},
	}}
	if err := s.SimpleQuery(testCtx(t), "COPY copy_in FROM STDIN", r); err != nil {
		t.Fatal(err)
	}
	if r.String() != "CopyInResponse; complete COPY 3" {
		t.Fatalf("copy: %s", r)
	}
	// The client fails the COPY.
	r = &recorder{copy: []pgproto3.FrontendMessage{&pgproto3.CopyData{Data: []byte("d\n")}, &pgproto3.CopyFail{Message: "changed my mind"}}}
	err := s.SimpleQuery(testCtx(t), "COPY copy_in FROM STDIN", r)
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != pgerrcode.QueryCanceled || !strings.Contains(we.Message, "changed my mind") {
		t.Fatalf("got %v, want 57014 naming the client's reason", err)
	}
	// The client disappears in the middle: the backend is told, and the
	// session stays in step with it.
	r = &recorder{copy: []pgproto3.FrontendMessage{&pgproto3.CopyData{Data: []byte("e\n")}}}
	if err := s.SimpleQuery(testCtx(t), "COPY copy_in FROM STDIN", r); err == nil || err.Error() != "client gone" {
		t.Fatalf("got %v, want the client's error", err)
	}
	// COPY through the extended protocol, Sync included.
	ctx := testCtx(t)
	h, desc, err := s.Prepare(ctx, "", "COPY copy_in FROM STDIN", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &wire.Portal{Statement: &wire.Statement{Desc: desc, Handle: h}}
	r = &recorder{copy: []pgproto3.FrontendMessage{&pgproto3.CopyData{Data: []byte("f\n")}, &pgproto3.CopyDone{}}}
	if _, err := s.Execute(ctx, p, wire.ExecuteOptions{SyncFollows: true}, r); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if r.String() != "CopyInResponse; complete COPY 1" {
		t.Fatalf("extended copy: %s", r)
	}
	if out := query(t, s, "SELECT string_agg(v, '' ORDER BY v) FROM copy_in"); out != "describe 1; row abcf; complete SELECT 1" {
		t.Fatalf("table: %s", out)
	}
}

func testSessionNoLeak(t *testing.T, e *env) {
	before := runtime.NumGoroutine()
	n := &notifier{}
	for range 5 {
		s, err := e.handler.NewSession(testCtx(t), wire.Startup{User: "postgres", Database: "postgres"}, n)
		if err != nil {
			t.Fatal(err)
		}
		ss := s.(*Session)
		query(t, ss, "LISTEN leak_chan")
		query(t, ss, "NOTIFY leak_chan, 'x'")
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	n.mu.Lock()
	got := len(n.msgs)
	n.mu.Unlock()
	if got != 0 {
		// Notifications during a request go with its answer, not Notify.
		t.Fatalf("%d notifications through Notify, want 0", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testSessionClientGone(t *testing.T, e *env) {
	s := newSession(t, e, nil)
	// The client stops reading in the middle of a large result: the
	// statement is canceled on the backend instead of being relayed to the
	// end, and the session stays in step with the backend.
	r := &recorder{failAfter: 100}
	start := time.Now()
	err := s.SimpleQuery(testCtx(t), "SELECT generate_series(1, 50000000), repeat('x', 100)", r)
	if !errors.Is(err, errClientGone) {
		t.Fatalf("got %v, want the client's error", err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Fatalf("took %v: the statement was not canceled", elapsed)
	}
	if out := query(t, s, "SELECT 3"); out != "describe 1; row 3; complete SELECT 1" {
		t.Fatalf("after the client went away: %s", out)
	}
}

func testSessionNotifyIdle(t *testing.T, e *env) {
	n := &notifier{}
	listener := newSession(t, e, n)
	query(t, listener, "LISTEN idle_chan")
	other := newSession(t, e, nil)
	for i := range 3 {
		query(t, other, fmt.Sprintf("NOTIFY idle_chan, 'hi %d'", i))
	}
	waitFor(t, func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		return len(n.msgs) == 3
	})
	n.mu.Lock()
	got := strings.Join(n.msgs, ",")
	n.mu.Unlock()
	if got != "idle_chan:hi 0,idle_chan:hi 1,idle_chan:hi 2" {
		t.Fatalf("notifications %q", got)
	}
	// The listener stops for the next request and the session is fine.
	if out := query(t, listener, "SELECT 4"); out != "describe 1; row 4; complete SELECT 1" {
		t.Fatalf("after idle notifications: %s", out)
	}
	if v := listener.ParameterStatus()["server_version"]; v == "" {
		t.Fatalf("server_version %q", v)
	}
}

func testSessionBackendHung(t *testing.T, e *env) {
	// A backend that answers nothing, not even a cancel (stopped with
	// SIGSTOP): once the request's context ends, the session gives the
	// connection up after cancelGrace rather than hanging.
	saved := cancelGrace
	cancelGrace = 300 * time.Millisecond
	t.Cleanup(func() { cancelGrace = saved })
	s := newSession(t, e, nil)
	var pid int
	if _, err := fmt.Sscanf(query(t, s, "SELECT pg_backend_pid()"), "describe 1; row %d;", &pid); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatalf("cannot stop the backend: %v", err)
	}
	t.Cleanup(func() {
		syscall.Kill(pid, syscall.SIGCONT)
		syscall.Kill(pid, syscall.SIGTERM)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	var r recorder
	err := s.SimpleQuery(ctx, "SELECT 1", &r)
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != pgerrcode.QueryCanceled || !isFatal(we) {
		t.Fatalf("got %v, want FATAL 57014", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("gave up after %v", elapsed)
	}
	// The session stays broken.
	if err := s.SimpleQuery(testCtx(t), "SELECT 1", &r); !errors.As(err, &we) || !isFatal(we) {
		t.Fatalf("next request: got %v, want the FATAL error again", err)
	}
}
