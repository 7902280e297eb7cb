package wire

import (
	"encoding/binary"
	"errors"
	"net"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// startupPacket builds a startup packet with the given version code and
// raw body after it.
func startupPacket(version uint32, body []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	b = binary.BigEndian.AppendUint32(b, version)
	return append(b, body...)
}

func params(kv ...string) []byte {
	var b []byte
	for _, s := range kv {
		b = append(b, s...)
		b = append(b, 0)
	}
	return append(b, 0)
}

// expectFatal reads one message, checks it is an ErrorResponse with
// severity FATAL and the code, and that the connection is then closed.
func (rc *rawClient) expectFatal(code string) *pgproto3.ErrorResponse {
	rc.t.Helper()
	m := rc.receive()
	e, ok := m.(*pgproto3.ErrorResponse)
	if !ok || e.Severity != "FATAL" || e.Code != code {
		rc.t.Fatalf("got %s (%+v), want FATAL %s", describeMsg(m), m, code)
	}
	rc.expectClosed()
	return e
}

func (rc *rawClient) write(b []byte) {
	rc.t.Helper()
	if _, err := rc.conn.Write(b); err != nil {
		rc.t.Fatal(err)
	}
}

func TestBadStartupPackets(t *testing.T) {
	ts := startServer(t, Config{})
	for _, tc := range []struct {
		name   string
		packet []byte
		code   string
	}{
		{"too big", binary.BigEndian.AppendUint32(nil, 20000), "08P01"},
		{"negative length", binary.BigEndian.AppendUint32(nil, 0xfffffff0), "08P01"},
		{"too short", binary.BigEndian.AppendUint32(nil, 3), "08P01"},
		{"unknown protocol 2.0", startupPacket(2<<16, params("user", "bob")), "0A000"},
		{"unknown protocol 4.0", startupPacket(4<<16, params("user", "bob")), "0A000"},
		{"no terminator", startupPacket(3<<16, []byte("user\x00bob\x00")), "08P01"},
		{"no user", startupPacket(3<<16, params("database", "x")), "28000"},
		{"odd pairs", startupPacket(3<<16, []byte("user\x00")), "08P01"},
		{"garbage after SSLRequest", append(startupPacket(sslRequestCode, nil), 'x'), "08P01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := dialRaw(t, ts.addr)
			rc.write(tc.packet)
			rc.expectFatal(tc.code)
		})
	}
}

func TestSSLAndGSSRequestsRefusedWithoutTLS(t *testing.T) {
	ts := startServer(t, Config{})
	rc := dialRaw(t, ts.addr)
	for _, code := range []uint32{gssEncRequestCode, sslRequestCode} {
		rc.write(startupPacket(code, nil))
		b := make([]byte, 1)
		if _, err := rc.conn.Read(b); err != nil || b[0] != 'N' {
			t.Fatalf("answer to request %d: %q, %v", code, b, err)
		}
	}
	rc.write(startupPacket(3<<16, params("user", "bob")))
	got := rc.until()
	if got[0] != "AuthenticationOk" || got[len(got)-1] != "RFQ I" || !slices.Contains(got, "BackendKeyData") {
		t.Fatalf("startup: %q", got)
	}
	s := ts.handler.last(t)
	if s.startup.TLS || s.startup.User != "bob" || s.startup.Database != "bob" || s.startup.Params["database"] != "bob" {
		t.Fatalf("startup %+v", s.startup)
	}
}

func TestStartupMessagesInOrder(t *testing.T) {
	ts := startServer(t, Config{})
	rc := dialRaw(t, ts.addr)
	rc.write(startupPacket(3<<16, params("user", "alice", "database", "d", "application_name", "app")))
	got := rc.until()
	want := []string{"AuthenticationOk"}
	for _, k := range []string{"DateStyle", "TimeZone", "client_encoding", "integer_datetimes", "server_encoding", "server_version", "standard_conforming_strings"} {
		_ = k
		want = append(want, "ParameterStatus")
	}
	want = append(want, "BackendKeyData", "RFQ I")
	expectMsgs(t, got, want...)
	s := ts.handler.last(t)
	if s.startup.Params["application_name"] != "app" || s.startup.Database != "d" || s.startup.RemoteAddr == nil {
		t.Fatalf("startup %+v", s.startup)
	}
}

func TestProtocol32NegotiatedDown(t *testing.T) {
	ts := startServer(t, Config{})
	rc := dialRaw(t, ts.addr)
	rc.write(startupPacket(pgproto3.ProtocolVersion32, params("user", "bob", "_pq_.compression", "on")))
	m, ok := rc.receive().(*pgproto3.NegotiateProtocolVersion)
	if !ok || m.NewestMinorProtocol != 0 || !slices.Equal(m.UnrecognizedOptions, []string{"_pq_.compression"}) {
		t.Fatalf("got %+v", m)
	}
	got := rc.until()
	if got[0] != "AuthenticationOk" || got[len(got)-1] != "RFQ I" {
		t.Fatalf("startup after negotiation: %q", got)
	}
	if _, ok := ts.handler.last(t).startup.Params["_pq_.compression"]; ok {
		t.Fatal("protocol option passed to the session as a parameter")
	}
}

func TestStartupTimeout(t *testing.T) {
	ts := startServer(t, Config{StartupTimeout: 100 * time.Millisecond})
	rc := dialRaw(t, ts.addr)
	rc.expectClosed()
}

func TestNewSessionError(t *testing.T) {
	h := &testHandler{fail: &Error{Code: "3D000", Message: `database "nope" does not exist`}}
	ts := startServer(t, Config{Handler: h})
	rc := dialRaw(t, ts.addr)
	rc.write(startupPacket(3<<16, params("user", "bob")))
	e := rc.expectFatal("3D000")
	if !strings.Contains(e.Message, "nope") {
		t.Fatalf("message %q", e.Message)
	}
}

func TestCancelRequest(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	s := ts.handler.last(t)
	rc.send(&pgproto3.Query{String: "SLEEP"})
	rc.flush()
	s.waitCall(t, "SimpleQuery SLEEP")

	// A wrong secret (and an unknown pid) cancels nothing.
	wrong := append([]byte(nil), rc.key...)
	wrong[0] ^= 0xff
	for _, req := range []*pgproto3.CancelRequest{
		{ProcessID: rc.pid, SecretKey: wrong},
		{ProcessID: rc.pid + 1, SecretKey: rc.key},
		{ProcessID: rc.pid, SecretKey: rc.key[:3]},
	} {
		cc := dialRaw(t, ts.addr)
		b, _ := req.Encode(nil)
		cc.write(b)
		cc.expectClosed()
	}
	if slices.Contains(s.Calls(), "Cancel") {
		t.Fatal("cancelled with a wrong key")
	}

	cc := dialRaw(t, ts.addr)
	b, _ := (&pgproto3.CancelRequest{ProcessID: rc.pid, SecretKey: rc.key}).Encode(nil)
	cc.write(b)
	cc.expectClosed()
	expectMsgs(t, rc.until(), "ERROR 57014", "RFQ I")
	if !slices.Contains(s.Calls(), "Cancel") {
		t.Fatal("Session.Cancel not called")
	}
}

func TestTerminateClosesSession(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	rc.send(&pgproto3.Terminate{})
	rc.flush()
	rc.expectClosed()
	s := ts.handler.last(t)
	s.waitCall(t, "Close")
}

func TestShutdownTellsIdleClients(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	ts.stop()
	rc.expectFatal("57P01")
	select {
	case err := <-ts.done:
		if err != nil {
			t.Fatalf("Serve returned %v", err)
		}
		ts.done <- nil // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	if !slices.Contains(ts.handler.last(t).Calls(), "Close") {
		t.Fatal("Session.Close not called before Serve returned")
	}
}

func TestServeReturnsAcceptError(t *testing.T) {
	srv, err := NewServer(Config{Handler: &testHandler{}})
	if err != nil {
		t.Fatal(err)
	}
	ln := &failingListener{err: errors.New("boom")}
	if err := srv.Serve(t.Context(), ln); err == nil || err.Error() != "boom" {
		t.Fatalf("Serve = %v", err)
	}
}

func TestNewServerValidates(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Handler: &testHandler{}, Auth: AuthSCRAM},
		{Handler: &testHandler{}, RequireTLS: true},
		{Handler: &testHandler{}, MaxMessageSize: -1},
		{Handler: &testHandler{}, Auth: AuthMethod(9)},
	} {
		if _, err := NewServer(cfg); err == nil {
			t.Errorf("NewServer(%+v) accepted", cfg)
		}
	}
	if AuthSCRAM.String() != "scram-sha-256" || AuthTrust.String() != "trust" {
		t.Error("AuthMethod.String")
	}
}

func TestServeRetriesTransientAcceptErrors(t *testing.T) {
	if !retryAccept(syscall.EMFILE) || !retryAccept(&net.OpError{Op: "accept", Err: syscall.ECONNABORTED}) || retryAccept(net.ErrClosed) {
		t.Fatal("retryAccept misclassifies errors")
	}
}
