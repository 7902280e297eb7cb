package executor

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgfed/pgfed/wire"
)

// idleListenDelay bounds how long an idle backend goes unread: the listener
// starts at most this long after a request ends. The timer that starts it
// is armed once and left running across requests, so a busy client pays
// for a timer and a listener start only about once per idleListenDelay, not
// once per request; an asynchronous message that arrives while the client
// is idle reaches it at most this much later than PostgreSQL would send it.
const idleListenDelay = time.Millisecond

// listener reads the metadata connection while the client is idle, so that
// notifications (LISTEN), notices and parameter changes reach the client
// when they happen rather than with the next answer.
//
// Only one goroutine uses the connection at a time. finish arms a timer
// unless it is already armed; when it fires with the backend idle, the
// timer's goroutine reads the connection until stopListening (called by the
// next request before it touches the connection) makes its read time out
// and waits for it. A timer that fires while a request runs does nothing,
// and the request's finish arms it again.
type listener struct {
	mu      sync.Mutex
	timer   *time.Timer
	armed   bool          // timer set and its function not yet started
	idle    bool          // the backend is idle: the listener may read
	running bool          // a goroutine reads the connection
	done    chan struct{} // closed when the running goroutine stops reading
	wg      sync.WaitGroup

	err *wire.Error // why the connection broke while idle; set by the reader
}

// listen marks the backend idle and arms the listener's timer if it is not
// armed: within idleListenDelay a goroutine starts reading the backend,
// unless a request is running by then. The backend must be idle and the
// connection unbroken.
func (m *metadataConn) listen() {
	if m.client == nil {
		return
	}
	l := &m.lis
	l.mu.Lock()
	defer l.mu.Unlock()
	l.idle = true
	if l.armed || l.running {
		return
	}
	l.armed = true
	l.wg.Add(1)
	if l.timer == nil {
		l.timer = time.AfterFunc(idleListenDelay, m.listenIdle)
	} else {
		l.timer.Reset(idleListenDelay)
	}
}

// listenIdle is the timer's function: it reads the backend if it is still
// idle.
func (m *metadataConn) listenIdle() {
	l := &m.lis
	defer l.wg.Done()
	l.mu.Lock()
	l.armed = false
	if !l.idle || l.running {
		l.mu.Unlock()
		return
	}
	l.running = true
	l.done = make(chan struct{})
	l.err = nil
	done := l.done
	l.mu.Unlock()
	m.listenLoop(done)
}

// stopListening marks the backend busy (an armed timer then does nothing)
// and stops a running listener by making its read time out, waits for it
// and clears the deadline. A message cut short by the deadline stays in the
// Frontend's buffer and is read whole by the next receive. If the
// connection broke while idle, it is marked broken.
func (m *metadataConn) stopListening() {
	l := &m.lis
	l.mu.Lock()
	l.idle = false
	running, done := l.running, l.done
	l.mu.Unlock()
	if !running {
		return
	}
	m.conn.SetReadDeadline(time.Unix(1, 0))
	<-done
	m.conn.SetReadDeadline(time.Time{})
	l.mu.Lock()
	l.running, l.done = false, nil
	l.mu.Unlock()
	if l.err != nil && m.broken == nil {
		m.broken = l.err
		m.conn.Close()
	}
}

// waitListener disarms the timer and waits for every goroutine the listener
// started; the listener must be stopped.
func (m *metadataConn) waitListener() {
	l := &m.lis
	l.mu.Lock()
	if l.armed && l.timer.Stop() {
		l.armed = false
		l.wg.Done()
	}
	l.mu.Unlock()
	l.wg.Wait()
}

// listenLoop reads asynchronous messages and forwards them with
// Client.Notify until its read times out (stopListening) or the connection
// fails.
func (m *metadataConn) listenLoop(done chan<- struct{}) {
	defer close(done)
	l := &m.lis
	for {
		msg, err := m.fe.Receive()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err) {
				return
			}
			if l.err == nil {
				l.err = connectionLost(err)
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
			if l.err == nil {
				l.err = backendError(msg)
				l.err.Severity = severityFatal
				m.log.Warn("metadata connection ended by the server while idle", "code", msg.Code, "error", msg.Message)
			}
		default:
			if l.err == nil {
				l.err = protocolViolation("while idle", msg)
				m.log.Error("protocol violation by the metadata database", "error", l.err.Message)
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
