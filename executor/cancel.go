package executor

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// cancelTimeout bounds dialing the backend's server to send a CancelRequest
// and waiting for it to take it.
const cancelTimeout = 5 * time.Second

// cancelGrace is how long a request whose context ended may still wait for
// the backend to answer after the cancel was sent; then the connection is
// given up so that the session never hangs. A variable for tests.
var cancelGrace = 10 * time.Second

// request is the cancel state of the request running on a metadataConn.
// Its fields are guarded by mu, since Cancel comes from any goroutine.
type request struct {
	mu       sync.Mutex
	active   bool          // a request is running on the connection
	canceled bool          // a CancelRequest was sent for it
	expired  bool          // its deadline was forced after cancelGrace
	done     chan struct{} // closed when it ends; made by the context watcher

	onDone  func()         // the context watcher, made once
	stop    func() bool    // stops the context.AfterFunc watching ctx
	watcher sync.WaitGroup // the AfterFunc, once it has started
}

// watch marks a request as running and arranges for the end of ctx to
// cancel it on the backend.
func (m *metadataConn) watch(ctx context.Context) {
	q := &m.req
	q.mu.Lock()
	q.active, q.canceled, q.expired = true, false, false
	q.mu.Unlock()
	if ctx.Done() != nil {
		if q.onDone == nil {
			q.onDone = func() {
				defer q.watcher.Done()
				m.onContextDone()
			}
		}
		q.watcher.Add(1)
		q.stop = context.AfterFunc(ctx, q.onDone)
	}
}

// unwatch marks the request as ended and waits for a context watcher that
// already started.
func (m *metadataConn) unwatch() {
	q := &m.req
	q.mu.Lock()
	q.active = false
	if q.done != nil {
		close(q.done)
		q.done = nil
	}
	q.mu.Unlock()
	if q.stop != nil {
		if q.stop() {
			q.watcher.Done() // the watcher will never run
		}
		q.stop = nil
	}
	q.watcher.Wait()
}

// waitWatcher waits for a context watcher still running.
func (q *request) waitWatcher() { q.watcher.Wait() }

// timedOut reports whether the running request's read failed because the
// backend did not answer a cancel in time.
func (q *request) timedOut() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.expired
}

// onContextDone cancels the request whose context ended; if the backend has
// not answered within cancelGrace, it forces the connection's reads and
// writes to fail so that the request returns instead of hanging.
func (m *metadataConn) onContextDone() {
	q := &m.req
	q.mu.Lock()
	if !q.active {
		q.mu.Unlock()
		return
	}
	done := make(chan struct{})
	q.done = done
	q.mu.Unlock()
	m.cancelRunning()
	t := time.NewTimer(cancelGrace)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.active && q.done == done {
		q.expired = true
		m.conn.SetDeadline(time.Unix(1, 0))
	}
}

// cancelRunning sends a CancelRequest for the running request, once; it
// does nothing when no request runs. Safe from any goroutine.
func (m *metadataConn) cancelRunning() {
	q := &m.req
	q.mu.Lock()
	if !q.active || q.canceled {
		q.mu.Unlock()
		return
	}
	q.canceled = true
	q.mu.Unlock()
	if err := m.sendCancel(); err != nil {
		m.log.Warn("cannot send a cancel request to the metadata database", "error", err)
		return
	}
	m.log.Debug("cancel request sent", "backend_pid", m.pid)
}

// sendCancel sends a CancelRequest with the backend's key to its server and
// waits for the server to close that connection, which it does once the
// cancel signal has gone to the backend.
func (m *metadataConn) sendCancel() error {
	if m.cancelAddr == "" {
		return errors.New("the metadata connection has no remote address")
	}
	d := net.Dialer{Timeout: cancelTimeout}
	c, err := d.Dial(m.cancelNet, m.cancelAddr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(cancelTimeout))
	buf, err := (&pgproto3.CancelRequest{ProcessID: m.pid, SecretKey: m.key}).Encode(nil)
	if err != nil {
		return err
	}
	if _, err := c.Write(buf); err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, c)
	return err
}
