package wire

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgproto3"
)

// This file holds an in-memory Session for the tests: a test double for the
// session layer (not a database). Its "SQL" is a handful of commands:
//
//	SELECT <n>          n rows of one int4 column "n": 1..n (text)
//	ECHO $1 $2 ...      extended only: one row with the parameters, text columns
//	ERROR <code>        fails with that SQLSTATE (at Prepare time when extended)
//	EXECERROR <code>    extended: prepares fine, fails at Execute
//	PLAIN               fails with an error that has no SQLSTATE
//	STATE <code>        fails with a non-*Error error that has SQLState()
//	FATAL               fails with a FATAL error
//	PANIC               panics
//	SLEEP               blocks until Session.Cancel (57014) or ctx is done
//	NOTIFYME            sends a notification through Client.Notify while running
//	BEGIN/COMMIT/ROLLBACK  move the transaction status
//	COPY ...            COPY FROM STDIN: counts the lines it receives
//	SET ...             "SET"
//	-- comment, ;       EmptyQueryResponse
//
// It records the calls the server makes, in order.

const int4OID, textOID = 23, 25

type testHandler struct {
	mu       sync.Mutex
	sessions []*testSession
	fail     error // returned by NewSession when set
}

func (h *testHandler) NewSession(ctx context.Context, s Startup, c Client) (Session, error) {
	if h.fail != nil {
		return nil, h.fail
	}
	ts := &testSession{startup: s, client: c, cancel: make(chan struct{}, 1), status: 'I'}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sessions = append(h.sessions, ts)
	return ts, nil
}

// last returns the most recent session.
func (h *testHandler) last(t *testing.T) *testSession {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.sessions) == 0 {
		t.Fatal("no session was created")
	}
	return h.sessions[len(h.sessions)-1]
}

type testSession struct {
	startup Startup
	client  Client
	cancel  chan struct{}

	mu     sync.Mutex
	calls  []string
	status byte
	names  map[string]bool // named statements the session holds
}

func (s *testSession) record(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, fmt.Sprintf(format, args...))
}

// Calls returns a copy of the recorded calls.
func (s *testSession) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// waitCall waits until a call with the given prefix has been recorded.
func (s *testSession) waitCall(t *testing.T, prefix string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, c := range s.Calls() {
			if strings.HasPrefix(c, prefix) {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no call %q; calls: %q", prefix, s.Calls())
}

func (s *testSession) ParameterStatus() map[string]string {
	return map[string]string{
		"server_version":              "15.0 (pgfed test)",
		"server_encoding":             "UTF8",
		"client_encoding":             "UTF8",
		"DateStyle":                   "ISO, MDY",
		"TimeZone":                    "UTC",
		"integer_datetimes":           "on",
		"standard_conforming_strings": "on",
	}
}

func intField(name string) pgproto3.FieldDescription {
	return pgproto3.FieldDescription{Name: []byte(name), DataTypeOID: int4OID, DataTypeSize: 4, TypeModifier: -1}
}

func textField(name string) pgproto3.FieldDescription {
	return pgproto3.FieldDescription{Name: []byte(name), DataTypeOID: textOID, DataTypeSize: -1, TypeModifier: -1}
}

func (s *testSession) SimpleQuery(ctx context.Context, sql string, r Results) error {
	s.record("SimpleQuery %s", sql)
	for _, stmt := range strings.Split(sql, ";") {
		stmt = strings.TrimSpace(stmt)
		if stmt == "" && strings.TrimSpace(sql) != ";" {
			continue
		}
		if strings.HasPrefix(stmt, "SELECT ") {
			if err := r.Send(&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{intField("n")}}); err != nil {
				return err
			}
		}
		if _, err := s.run(ctx, stmt, nil, 0, 0, false, r); err != nil {
			if s.status == 'T' {
				s.status = 'E'
			}
			return err
		}
	}
	return nil
}

// run executes one command from row `from`, sending at most max rows (0:
// all). It returns the next row when it stopped early.
func (s *testSession) run(ctx context.Context, stmt string, params [][]byte, from, max int, binary bool, r Results) (next int, err error) {
	word, arg, _ := strings.Cut(stmt, " ")
	switch {
	case stmt == "" || strings.HasPrefix(stmt, "--"):
		return 0, r.Send(&pgproto3.EmptyQueryResponse{})
	case word == "SELECT":
		n, err := strconv.Atoi(arg)
		if err != nil {
			return 0, &Error{Code: pgerrcode.SyntaxError, Message: "bad SELECT"}
		}
		for i := from; i < n; i++ {
			if max > 0 && i-from == max {
				return i, nil
			}
			v := []byte(strconv.Itoa(i + 1))
			if binary {
				v = binaryInt4(int32(i + 1))
			}
			if err := r.Send(&pgproto3.DataRow{Values: [][]byte{v}}); err != nil {
				return 0, err
			}
		}
		return 0, r.Send(&pgproto3.CommandComplete{CommandTag: []byte("SELECT " + strconv.Itoa(n-from))})
	case word == "ECHO":
		if err := r.Send(&pgproto3.DataRow{Values: params}); err != nil {
			return 0, err
		}
		return 0, r.Send(&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")})
	case word == "ERROR" || word == "EXECERROR":
		return 0, &Error{Code: arg, Message: "requested error", Detail: "detail", Hint: "hint"}
	case word == "PLAIN":
		return 0, fmt.Errorf("plain failure")
	case word == "STATE":
		return 0, stateErr(arg)
	case word == "FATAL":
		return 0, &Error{Severity: "FATAL", Code: pgerrcode.AdminShutdown, Message: "requested fatal"}
	case word == "PANIC":
		panic("requested panic")
	case word == "SLEEP":
		select {
		case <-s.cancel:
			return 0, &Error{Code: pgerrcode.QueryCanceled, Message: "canceling statement due to user request"}
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Second):
			return 0, fmt.Errorf("SLEEP was never cancelled")
		}
	case word == "NOTIFYME":
		done := make(chan error)
		go func() {
			done <- s.client.Notify(&pgproto3.NotificationResponse{PID: 1, Channel: "chan", Payload: "during"})
		}()
		if err := <-done; err != nil {
			return 0, err
		}
		return 0, r.Send(&pgproto3.CommandComplete{CommandTag: []byte("NOTIFYME")})
	case stmt == "DEALLOCATE ALL":
		clear(s.names)
		return 0, r.Send(&pgproto3.CommandComplete{CommandTag: []byte("DEALLOCATE ALL")})
	case word == "BEGIN":
		s.status = 'T'
		return 0, r.Send(&pgproto3.CommandComplete{CommandTag: []byte("BEGIN")})
	case word == "COMMIT" || word == "ROLLBACK":
		s.status = 'I'
		return 0, r.Send(&pgproto3.CommandComplete{CommandTag: []byte(word)})
	case word == "SET":
		return 0, r.Send(&pgproto3.CommandComplete{CommandTag: []byte("SET")})
	case word == "COPY":
		if err := r.Send(&pgproto3.CopyInResponse{OverallFormat: 0, ColumnFormatCodes: []uint16{0}}); err != nil {
			return 0, err
		}
		lines := 0
		for {
			msg, err := r.ReceiveCopy()
			if err != nil {
				return 0, err
			}
			switch m := msg.(type) {
			case *pgproto3.CopyData:
				lines += strings.Count(string(m.Data), "\n")
			case *pgproto3.CopyDone:
				return 0, r.Send(&pgproto3.CommandComplete{CommandTag: []byte("COPY " + strconv.Itoa(lines))})
			case *pgproto3.CopyFail:
				return 0, &Error{Code: pgerrcode.QueryCanceled, Message: "COPY from stdin failed: " + m.Message}
			}
		}
	default:
		return 0, &Error{Code: pgerrcode.SyntaxError, Message: fmt.Sprintf("syntax error at or near %q", word)}
	}
}

func binaryInt4(v int32) []byte {
	return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

// stateErr is an error that is not *Error but has a SQLSTATE.
type stateErr string

func (e stateErr) Error() string    { return "state error " + string(e) }
func (e stateErr) SQLState() string { return string(e) }

func (s *testSession) Prepare(ctx context.Context, name, sql string, paramOIDs []uint32) (any, StatementDescription, error) {
	s.record("Prepare %q %s", name, sql)
	word, arg, _ := strings.Cut(sql, " ")
	var desc StatementDescription
	if name != "" {
		if s.names[name] {
			return nil, desc, &Error{Code: "42P05", Message: fmt.Sprintf("prepared statement %q already exists", name)}
		}
		if word != "ERROR" {
			if s.names == nil {
				s.names = make(map[string]bool)
			}
			s.names[name] = true
		}
	}
	switch word {
	case "ERROR":
		return nil, desc, &Error{Code: arg, Message: "requested error"}
	case "SELECT":
		desc.ParamOIDs = []uint32{}
		desc.Fields = []pgproto3.FieldDescription{intField("n")}
	case "ECHO":
		n := strings.Count(sql, "$")
		desc.ParamOIDs = make([]uint32, n)
		for i := range n {
			desc.ParamOIDs[i] = textOID
			if i < len(paramOIDs) && paramOIDs[i] != 0 {
				desc.ParamOIDs[i] = paramOIDs[i]
			}
			desc.Fields = append(desc.Fields, textField(fmt.Sprintf("p%d", i+1)))
		}
	default:
		desc.ParamOIDs = []uint32{}
	}
	return sql, desc, nil
}

func (s *testSession) Execute(ctx context.Context, p *Portal, opts ExecuteOptions, r Results) (bool, error) {
	s.record("Execute %q max=%d sync=%v", p.Name, opts.MaxRows, opts.SyncFollows)
	from, _ := p.State.(int)
	next, err := s.run(ctx, p.Statement.Handle.(string), p.Params, from, int(opts.MaxRows), p.ResultFormat(0) == 1, r)
	if err != nil {
		if s.status == 'T' {
			s.status = 'E'
		}
		return false, err
	}
	p.State = next
	return next > 0, nil
}

func (s *testSession) CloseStatement(ctx context.Context, st *Statement) error {
	s.record("CloseStatement %q", st.Name)
	delete(s.names, st.Name)
	return nil
}

func (s *testSession) Abort(ctx context.Context, err error) {
	code := ""
	if e, ok := err.(*Error); ok {
		code = e.Code
	}
	s.record("Abort %s", code)
	if s.status == 'T' {
		s.status = 'E'
	}
}

func (s *testSession) ClosePortal(ctx context.Context, p *Portal) error {
	s.record("ClosePortal %q", p.Name)
	return nil
}

func (s *testSession) Sync(ctx context.Context) error {
	s.record("Sync")
	return nil
}

func (s *testSession) TxStatus() byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

func (s *testSession) Cancel() {
	s.record("Cancel")
	select {
	case s.cancel <- struct{}{}:
	default:
	}
}

func (s *testSession) Close() error {
	s.record("Close")
	return nil
}

// cursorHandler makes cursorSessions: test sessions with SQL cursors
// (Cursors). "DECLARE <name> <n>" opens a cursor over the rows 1..n.
type cursorHandler struct{ testHandler }

func (h *cursorHandler) NewSession(ctx context.Context, s Startup, c Client) (Session, error) {
	ts, err := h.testHandler.NewSession(ctx, s, c)
	if err != nil {
		return nil, err
	}
	return &cursorSession{testSession: ts.(*testSession), cursors: map[string]*testCursor{}}, nil
}

type cursorSession struct {
	*testSession
	cursors map[string]*testCursor
}

type testCursor struct{ next, n int }

var _ Cursors = (*cursorSession)(nil)

func (s *cursorSession) SimpleQuery(ctx context.Context, sql string, r Results) error {
	if rest, ok := strings.CutPrefix(sql, "DECLARE "); ok {
		s.record("SimpleQuery %s", sql)
		name, count, _ := strings.Cut(rest, " ")
		n, _ := strconv.Atoi(count)
		s.cursors[name] = &testCursor{n: n}
		return r.Send(&pgproto3.CommandComplete{CommandTag: []byte("DECLARE CURSOR")})
	}
	return s.testSession.SimpleQuery(ctx, sql, r)
}

func (s *cursorSession) DescribeCursor(ctx context.Context, name string) ([]pgproto3.FieldDescription, error) {
	s.record("DescribeCursor %q", name)
	if _, ok := s.cursors[name]; !ok {
		if s.status == 'T' {
			s.status = 'E' // an error aborts the transaction
		}
		return nil, &Error{Code: pgerrcode.InvalidCursorName, Message: fmt.Sprintf("portal %q does not exist", name)}
	}
	return []pgproto3.FieldDescription{intField("n")}, nil
}

func (s *cursorSession) ExecuteCursor(ctx context.Context, name string, opts ExecuteOptions, r Results) (bool, error) {
	s.record("ExecuteCursor %q max=%d", name, opts.MaxRows)
	c, ok := s.cursors[name]
	if !ok {
		return false, &Error{Code: pgerrcode.InvalidCursorName, Message: fmt.Sprintf("portal %q does not exist", name)}
	}
	sent := 0
	for c.next < c.n && (opts.MaxRows == 0 || sent < int(opts.MaxRows)) {
		c.next++
		sent++
		if err := r.Send(&pgproto3.DataRow{Values: [][]byte{[]byte(strconv.Itoa(c.next))}}); err != nil {
			return false, err
		}
	}
	if c.next < c.n {
		return true, nil
	}
	return false, r.Send(&pgproto3.CommandComplete{CommandTag: []byte("SELECT " + strconv.Itoa(sent))})
}

func (s *cursorSession) CloseCursor(ctx context.Context, name string) error {
	s.record("CloseCursor %q", name)
	delete(s.cursors, name)
	return nil
}
