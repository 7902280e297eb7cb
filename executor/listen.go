package executor

import (
	"errors"
	"net"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgfed/pgfed/wire"
)

// listener is the goroutine that reads the metadata connection while the
// client is idle, so that notifications (LISTEN), notices and parameter
// changes reach the client when they happen rather than with the next
// answer. Only one goroutine uses the connection at a time: listen starts
// the listener after a request, stopListening stops it, and waits for it,
// before the next.
type listener struct {
	done chan struct{} // closed when the goroutine has returned; nil when none runs
	err  *wire.Error   // why the connection broke while idle, set by the goroutine
}

// listen starts the listener. The backend must be idle and the connection
// unbroken.
func (m *metadataConn) listen() {
	if m.lis.done != nil || m.client == nil {
		return
	}
	done := make(chan struct{})
	m.lis.done = done
	m.lis.err = nil
	go m.listenLoop(done)
}

// stopListening stops the listener by making its read time out, waits for
// it and clears the deadline. A message cut short by the deadline stays in
// the Frontend's buffer and is read whole by the next receive. If the
// connection broke while idle, it is marked broken.
func (m *metadataConn) stopListening() {
	if m.lis.done == nil {
		return
	}
	m.conn.SetReadDeadline(time.Unix(1, 0))
	<-m.lis.done
	m.lis.done = nil
	m.conn.SetReadDeadline(time.Time{})
	if m.lis.err != nil && m.broken == nil {
		m.broken = m.lis.err
		m.conn.Close()
	}
}

// listenLoop reads asynchronous messages and forwards them with
// Client.Notify until its read times out (stopListening) or the connection
// fails.
func (m *metadataConn) listenLoop(done chan<- struct{}) {
	defer close(done)
	for {
		msg, err := m.fe.Receive()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err) {
				return
			}
			if m.lis.err == nil {
				m.lis.err = connectionLost(err)
				m.log.Warn("lost the metadata connection while idle", "error", err)
			}
			return
		}
		switch msg := msg.(type) {
		case *pgproto3.NotificationResponse, *pgproto3.NoticeResponse:
			m.notify(msg)
		case *pgproto3.ParameterStatus:
			m.setParam(msg.Name, msg.Value)
			m.notify(msg)
		case *pgproto3.ErrorResponse:
			// A FATAL error while idle: the server is terminating the
			// backend (pg_terminate_backend, shutdown). EOF follows.
			if m.lis.err == nil {
				m.lis.err = backendError(msg)
				m.lis.err.Severity = severityFatal
				m.log.Warn("metadata connection ended by the server while idle", "code", msg.Code, "error", msg.Message)
			}
		default:
			if m.lis.err == nil {
				m.lis.err = protocolViolation("while idle", msg)
				m.log.Error("protocol violation by the metadata database", "error", m.lis.err.Message)
			}
			return
		}
	}
}

// isTimeout reports whether err is a network timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
