package wire

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

func TestOversizeMessage(t *testing.T) {
	ts := startServer(t, Config{MaxMessageSize: 1024})
	rc := connectRaw(t, ts.addr)
	rc.send(&pgproto3.Query{String: "SELECT " + strings.Repeat("1", 2000)})
	rc.flush()
	e := rc.expectFatal("08P01")
	if !strings.Contains(e.Detail, "limit is 1024") {
		t.Fatalf("detail %q", e.Detail)
	}
	ts.handler.last(t).waitCall(t, "Close")

	// Messages without user data have PostgreSQL's small limit whatever
	// MaxMessageSize says: a Sync claiming 1 MB is refused at once.
	rc = connectRaw(t, ts.addr)
	rc.write([]byte{'S', 0, 0x10, 0, 0})
	rc.expectFatal("08P01")
}

func TestMalformedMessages(t *testing.T) {
	ts := startServer(t, Config{})
	for _, tc := range []struct {
		name string
		raw  []byte
	}{
		{"unknown type", []byte{'z', 0, 0, 0, 4}},
		{"password outside authentication", []byte{'p', 0, 0, 0, 5, 0}},
		{"length below 4", []byte{'Q', 0, 0, 0, 3}},
		{"negative length", []byte{'Q', 0xff, 0xff, 0xff, 0xff}},
		{"describe without NUL", []byte{'D', 0, 0, 0, 6, 'S', 'x'}},
		{"query without NUL", []byte{'Q', 0, 0, 0, 5, 'x'}},
		{"bind with short parameter", []byte{'B', 0, 0, 0, 14, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := connectRaw(t, ts.addr)
			rc.write(tc.raw)
			rc.expectFatal("08P01")
		})
	}
}

func TestSessionErrors(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	for _, tc := range []struct{ query, want string }{
		{"PLAIN", "ERROR XX000"},
		{"STATE 42P01", "ERROR 42P01"},
		{"ERROR not-a-code", "ERROR XX000"},
		{"nonsense", "ERROR 42601"},
	} {
		rc.send(&pgproto3.Query{String: tc.query})
		rc.flush()
		expectMsgs(t, rc.until(), tc.want, "RFQ I")
	}
	// An error inside a transaction block: status E, and no skipping in
	// the simple protocol.
	rc.send(&pgproto3.Query{String: "BEGIN; ERROR 22012"})
	rc.flush()
	expectMsgs(t, rc.until(), "Complete BEGIN", "ERROR 22012", "RFQ E")
	rc.send(&pgproto3.Query{String: "ROLLBACK"})
	rc.flush()
	expectMsgs(t, rc.until(), "Complete ROLLBACK", "RFQ I")

	rc.send(&pgproto3.Query{String: "FATAL"})
	rc.flush()
	rc.expectFatal("57P01")
	ts.handler.last(t).waitCall(t, "Close")
}

func TestPanicClosesConnection(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	rc.send(&pgproto3.Query{String: "PANIC"})
	rc.flush()
	rc.expectFatal("XX000")
	ts.handler.last(t).waitCall(t, "Close")

	// The server goes on.
	rc = connectRaw(t, ts.addr)
	rc.send(&pgproto3.Parse{Query: "PANIC"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
	rc.flush()
	got := rc.until()
	if got[len(got)-1] != "FATAL XX000" {
		t.Fatalf("extended panic: %q", got)
	}
}

func TestEmptyQuery(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	rc.send(&pgproto3.Query{String: " \n\t"})
	rc.flush()
	expectMsgs(t, rc.until(), "EmptyQueryResponse", "RFQ I")
	if calls := ts.handler.last(t).Calls(); len(calls) != 0 {
		t.Fatalf("whitespace reached the session: %q", calls)
	}
	rc.send(&pgproto3.Query{String: "-- just a comment"})
	rc.flush()
	expectMsgs(t, rc.until(), "EmptyQueryResponse", "RFQ I")
}

func TestNotifyDuringRequestWaitsForReadyForQuery(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	rc.send(&pgproto3.Query{String: "NOTIFYME"})
	rc.flush()
	expectMsgs(t, rc.until(), "Complete NOTIFYME", "Notify chan during", "RFQ I")

	// Queued in the middle of an extended batch, it waits for the Sync.
	rc.send(&pgproto3.Parse{Query: "NOTIFYME"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Flush{})
	rc.flush()
	for _, want := range []string{"ParseComplete", "BindComplete", "Complete NOTIFYME"} {
		if got := describeMsg(rc.receive()); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
	rc.send(&pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "Notify chan during", "RFQ I")
}

func TestNotifyQueueLimit(t *testing.T) {
	w := newWriter(&bytes.Buffer{}, 2, nil)
	n := &pgproto3.NoticeResponse{Message: "x"}
	if err := w.notify(n); err != nil {
		t.Fatal(err)
	}
	if err := w.notify(n); err != nil {
		t.Fatal(err)
	}
	if err := w.notify(n); err != ErrNotifyQueueFull {
		t.Fatalf("third queued notify: %v", err)
	}
	w.close()
	if err := w.notify(n); err != ErrConnClosed {
		t.Fatalf("notify after close: %v", err)
	}
}

func TestCopyInRaw(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	rc.send(&pgproto3.Query{String: "COPY t FROM STDIN"})
	rc.flush()
	if got := describeMsg(rc.receive()); got != "CopyInResponse" {
		t.Fatalf("got %s", got)
	}
	rc.send(
		&pgproto3.CopyData{Data: []byte("1\n2\n")},
		&pgproto3.Flush{}, // ignored during COPY
		&pgproto3.CopyData{Data: []byte("3\n")},
		&pgproto3.Sync{}, // ignored during COPY
		&pgproto3.CopyDone{},
	)
	rc.flush()
	expectMsgs(t, rc.until(), "Complete COPY 3", "RFQ I")

	// CopyFail: the session's error, then a usable connection.
	rc.send(&pgproto3.Query{String: "COPY t FROM STDIN"})
	rc.flush()
	rc.receive()
	rc.send(&pgproto3.CopyData{Data: []byte("1\n")}, &pgproto3.CopyFail{Message: "client gave up"})
	rc.flush()
	expectMsgs(t, rc.until(), "ERROR 57014", "RFQ I")

	// Another message during COPY is a protocol error (not FATAL).
	rc.send(&pgproto3.Query{String: "COPY t FROM STDIN"})
	rc.flush()
	rc.receive()
	rc.send(&pgproto3.Describe{ObjectType: 'S', Name: "x"})
	rc.flush()
	expectMsgs(t, rc.until(), "ERROR 08P01", "RFQ I")

	// COPY through the extended protocol. A Sync sent during COPY is
	// ignored, so the client sends its Sync after CopyDone.
	rc.send(&pgproto3.Parse{Query: "COPY t FROM STDIN"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Flush{})
	rc.flush()
	for _, want := range []string{"ParseComplete", "BindComplete", "CopyInResponse"} {
		if got := describeMsg(rc.receive()); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
	rc.send(&pgproto3.CopyData{Data: []byte("1\n")}, &pgproto3.CopyDone{}, &pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "Complete COPY 1", "RFQ I")

	// A failed extended COPY: the error, then everything up to Sync
	// (here stray COPY data and an Execute) is skipped.
	rc.send(&pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Flush{})
	rc.flush()
	rc.receive()
	rc.receive()
	rc.send(&pgproto3.CopyFail{Message: "no"}, &pgproto3.CopyData{Data: []byte("2\n")}, &pgproto3.Execute{}, &pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "ERROR 57014", "RFQ I")
}

func TestFunctionCallRefused(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	rc.send(&pgproto3.FunctionCall{Function: 1})
	rc.flush()
	expectMsgs(t, rc.until(), "ERROR 0A000", "RFQ I")
}

func TestSyncFollowsOnlyWhenBuffered(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	// Execute then Flush: the Sync comes later, in another packet.
	rc.send(&pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Flush{})
	rc.flush()
	for range 4 {
		rc.receive()
	}
	rc.send(&pgproto3.Sync{})
	rc.flush()
	expectMsgs(t, rc.until(), "RFQ I")
	calls := ts.handler.last(t).Calls()
	if !slices.Contains(calls, `Execute "" max=0 sync=false`) {
		t.Fatalf("calls %q", calls)
	}
	var hdr [5]byte
	hdr[0] = 'S'
	binary.BigEndian.PutUint32(hdr[1:], 4)
	r := newReader(bytes.NewReader(append([]byte{'H', 0, 0, 0, 4}, hdr[:]...)), 100)
	if _, err := r.receive(); err != nil {
		t.Fatal(err)
	}
	if !r.syncBuffered() {
		t.Fatal("buffered Sync not seen")
	}
}

// countingWriter counts the writes it gets.
type countingWriter struct {
	writes int
	bytes  int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	w.bytes += len(p)
	return len(p), nil
}

func TestResultsStreamPastThreshold(t *testing.T) {
	cw := &countingWriter{}
	w := newWriter(cw, 10, nil)
	row := &pgproto3.DataRow{Values: [][]byte{bytes.Repeat([]byte("x"), 1000)}}
	for range 100 {
		if err := w.send(row); err != nil {
			t.Fatal(err)
		}
	}
	// 100 rows of ~1 KB: written in ~32 KiB pieces before any flush.
	if cw.writes < 2 || cw.writes > 4 {
		t.Fatalf("%d writes before flush, want about 3", cw.writes)
	}
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	if cw.bytes != 100*(1000+11) {
		t.Fatalf("wrote %d bytes", cw.bytes)
	}
}

func TestShutdownCancelsRunningStatement(t *testing.T) {
	ts := startServer(t, Config{})
	rc := connectRaw(t, ts.addr)
	s := ts.handler.last(t)
	rc.send(&pgproto3.Query{String: "SLEEP"})
	rc.flush()
	s.waitCall(t, "SimpleQuery SLEEP")
	ts.stop()
	select {
	case err := <-ts.done:
		ts.done <- err
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return: the statement's context was not cancelled")
	}
	if calls := s.Calls(); calls[len(calls)-1] != "Close" {
		t.Fatalf("calls %q", calls)
	}
	if slices.Contains(s.Calls(), "Cancel") {
		t.Fatal("shutdown went through Session.Cancel instead of the context")
	}
}
