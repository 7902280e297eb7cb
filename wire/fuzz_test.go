package wire

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Fuzz targets. Their seed corpora live in testdata/fuzz/<FuzzName>/ and
// run as ordinary tests; `go test -fuzz=FuzzSession ./wire` explores more.

// FuzzReader feeds arbitrary bytes to the message reader: it must return
// messages or errors, never panic, and every error that is not an I/O error
// must be a FATAL 08P01 for the client.
func FuzzReader(f *testing.F) {
	f.Add(encodeFrontend(&pgproto3.Query{String: "SELECT 1"}, &pgproto3.Sync{}))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := newReader(newBytesReader(data), 1<<16)
		for range 1000 {
			_, err := r.receive()
			if err == nil {
				_ = r.syncBuffered()
				continue
			}
			var e *Error
			if errors.As(err, &e) {
				if e.Code != "08P01" || e.Severity != "FATAL" {
					t.Fatalf("reader error %+v", e)
				}
			} else if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("reader error %v", err)
			}
			return
		}
	})
}

// FuzzStartup sends arbitrary bytes as the start of a connection.
func FuzzStartup(f *testing.F) {
	f.Add(startupPacket(3<<16, params("user", "bob")))
	f.Fuzz(func(t *testing.T, data []byte) {
		runFuzzConn(t, data)
	})
}

// FuzzSession starts a connection properly, then sends arbitrary bytes:
// it drives the simple and extended query state machine with the test
// session. The server must never panic (the session's PANIC command aside,
// which is recovered) and must finish once the client is gone.
func FuzzSession(f *testing.F) {
	f.Add(encodeFrontend(&pgproto3.Parse{Query: "SELECT 2"}, &pgproto3.Bind{}, &pgproto3.Execute{MaxRows: 1}, &pgproto3.Sync{}))
	f.Fuzz(func(t *testing.T, data []byte) {
		runFuzzConn(t, append(startupPacket(3<<16, params("user", "bob")), data...))
	})
}

// runFuzzConn serves one connection over net.Pipe, writes data from the
// client side while draining the answers, closes the client, and checks
// that the server finishes.
func runFuzzConn(t *testing.T, data []byte) {
	srv, err := NewServer(Config{Handler: &testHandler{}, StartupTimeout: 2 * time.Second, MaxMessageSize: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	client, server := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeConn(ctx, server)
	}()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		_, _ = io.Copy(io.Discard, client)
	}()
	_ = client.SetWriteDeadline(time.Now().Add(2 * time.Second))
	_, _ = client.Write(data)
	time.Sleep(time.Millisecond)
	client.Close()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("server did not finish after the client left")
	}
	<-drained
}

func encodeFrontend(msgs ...pgproto3.FrontendMessage) []byte {
	var b []byte
	for _, m := range msgs {
		var err error
		if b, err = m.Encode(b); err != nil {
			panic(err)
		}
	}
	return b
}

// bytesReader is an io.Reader over a byte slice that returns small reads,
// to exercise message framing across reads.
type bytesReader struct{ b []byte }

func newBytesReader(b []byte) *bytesReader { return &bytesReader{b: b} }

func (r *bytesReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 7)], r.b)
	r.b = r.b[n:]
	return n, nil
}
