package wire

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// testServer is a Server listening on a loopback port with a testHandler.
type testServer struct {
	srv     *Server
	handler *testHandler
	addr    string
	stop    context.CancelFunc
	done    chan error
}

// startServer starts a server with cfg (Handler is filled in) and stops it
// at the end of the test, checking that Serve returned nil.
func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	h := &testHandler{}
	if cfg.Handler == nil {
		cfg.Handler = h
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ts := &testServer{srv: srv, handler: h, addr: ln.Addr().String(), stop: stop, done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-ts.done:
			if err != nil {
				t.Errorf("Serve returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after its context was cancelled")
		}
	})
	return ts
}

// url returns a connection URL for user with extra query parameters.
func (ts *testServer) url(user, extra string) string {
	u := fmt.Sprintf("postgres://%s@%s/testdb?sslmode=disable", user, ts.addr)
	if extra != "" {
		u += "&" + extra
	}
	return u
}

// rawClient is a protocol-level client over a real connection.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	fe   *pgproto3.Frontend
	pid  uint32
	key  []byte
}

// dialRaw connects without starting up.
func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawClient{t: t, conn: c, fe: pgproto3.NewFrontend(c, c)}
}

// connectRaw connects and starts up as user "bob" with trust auth.
func connectRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	rc := dialRaw(t, addr)
	rc.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "bob", "database": "db"}})
	rc.flush()
	for {
		switch m := rc.receive().(type) {
		case *pgproto3.BackendKeyData:
			rc.pid, rc.key = m.ProcessID, append([]byte(nil), m.SecretKey...)
		case *pgproto3.ReadyForQuery:
			return rc
		case *pgproto3.ErrorResponse:
			t.Fatalf("startup failed: %+v", m)
		}
	}
}

func (rc *rawClient) send(msgs ...pgproto3.FrontendMessage) {
	for _, m := range msgs {
		rc.fe.Send(m)
	}
}

func (rc *rawClient) flush() {
	rc.t.Helper()
	if err := rc.fe.Flush(); err != nil {
		rc.t.Fatal(err)
	}
}

func (rc *rawClient) receive() pgproto3.BackendMessage {
	rc.t.Helper()
	m, err := rc.fe.Receive()
	if err != nil {
		rc.t.Fatalf("receive: %v", err)
	}
	return m
}

// until receives messages up to and including ReadyForQuery (or a FATAL
// error) and returns them as short strings.
func (rc *rawClient) until() []string {
	rc.t.Helper()
	var out []string
	for {
		m := rc.receive()
		out = append(out, describeMsg(m))
		switch m := m.(type) {
		case *pgproto3.ReadyForQuery:
			return out
		case *pgproto3.ErrorResponse:
			if m.Severity == "FATAL" {
				return out
			}
		}
	}
}

// expectClosed checks that the server closed the connection.
func (rc *rawClient) expectClosed() {
	rc.t.Helper()
	m, err := rc.fe.Receive()
	if err == nil {
		rc.t.Fatalf("expected the connection closed, got %s", describeMsg(m))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		rc.t.Fatalf("connection was not closed: %v", err)
	}
}

// describeMsg prints a backend message compactly for comparisons.
func describeMsg(m pgproto3.BackendMessage) string {
	switch m := m.(type) {
	case *pgproto3.ReadyForQuery:
		return "RFQ " + string(m.TxStatus)
	case *pgproto3.ErrorResponse:
		return m.Severity + " " + m.Code
	case *pgproto3.DataRow:
		s := "Row"
		for _, v := range m.Values {
			s += " " + string(v)
		}
		return s
	case *pgproto3.CommandComplete:
		return "Complete " + string(m.CommandTag)
	case *pgproto3.RowDescription:
		s := "RowDesc"
		for _, f := range m.Fields {
			s += fmt.Sprintf(" %s/%d/%d", f.Name, f.DataTypeOID, f.Format)
		}
		return s
	case *pgproto3.ParameterDescription:
		return fmt.Sprint("ParamDesc ", m.ParameterOIDs)
	case *pgproto3.NotificationResponse:
		return "Notify " + m.Channel + " " + m.Payload
	default:
		return fmt.Sprintf("%T", m)[len("*pgproto3."):]
	}
}

// failingListener is a net.Listener whose Accept always fails.
type failingListener struct{ err error }

func (l *failingListener) Accept() (net.Conn, error) { return nil, l.err }
func (l *failingListener) Close() error              { return nil }
func (l *failingListener) Addr() net.Addr            { return &net.TCPAddr{} }
