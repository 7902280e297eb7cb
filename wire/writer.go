package wire

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/jackc/pgx/v5/pgproto3"
)

// ErrConnClosed is returned by Client.Notify and Results.Send once the
// connection has ended.
var ErrConnClosed = errors.New("wire: connection closed")

// ErrNotifyQueueFull is returned by Client.Notify when a request is running
// and Config.NotifyQueue messages already wait for it to end.
var ErrNotifyQueueFull = errors.New("wire: notify queue full")

// writer buffers backend messages and writes them to the connection. Its
// mutex serialises the connection's own goroutine and Client.Notify callers.
// While the connection is idle (ReadyForQuery sent, waiting for the client)
// Notify writes at once; otherwise it queues until the next ReadyForQuery.
type writer struct {
	mu         sync.Mutex
	w          io.Writer
	buf        []byte
	pending    []byte // encoded messages queued by Notify
	npending   int
	maxPending int
	idle       bool
	closed     bool
	err        error       // first write error; sticky
	onError    func(error) // called once with the first write error
}

// newWriter returns a writer to w; onError is told about the first write
// failure (the connection is then dead).
func newWriter(w io.Writer, maxPending int, onError func(error)) *writer {
	return &writer{w: w, maxPending: maxPending, onError: onError}
}

// setDest replaces the destination (after the TLS upgrade).
func (w *writer) setDest(dst io.Writer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.w = dst
}

// encode appends msg to dst.
func encode(dst []byte, msg pgproto3.BackendMessage) ([]byte, error) {
	out, err := msg.Encode(dst)
	if err != nil {
		return dst, fmt.Errorf("wire: encode %T: %w", msg, err)
	}
	return out, nil
}

// send buffers msg and writes the buffer once it passes flushThreshold.
func (w *writer) send(msg pgproto3.BackendMessage) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	var err error
	if w.buf, err = encode(w.buf, msg); err != nil {
		return err
	}
	if len(w.buf) >= flushThreshold {
		return w.flushLocked()
	}
	return nil
}

// flush writes what is buffered.
func (w *writer) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	return w.flushLocked()
}

// usable returns the reason the writer cannot be written to, if any.
func (w *writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrConnClosed
	}
	return nil
}

func (w *writer) flushLocked() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.w.Write(w.buf)
	if cap(w.buf) > 4*flushThreshold {
		w.buf = nil
	} else {
		w.buf = w.buf[:0]
	}
	if err != nil {
		w.err = fmt.Errorf("wire: write to client: %w", err)
		if w.onError != nil {
			w.onError(w.err)
		}
		return w.err
	}
	return nil
}

// readyForQuery writes the queued notifications, then ReadyForQuery, flushes,
// and marks the connection idle.
func (w *writer) readyForQuery(status byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	w.buf = append(w.buf, w.pending...)
	w.pending, w.npending = nil, 0
	var err error
	if w.buf, err = encode(w.buf, &pgproto3.ReadyForQuery{TxStatus: status}); err != nil {
		return err
	}
	if err := w.flushLocked(); err != nil {
		return err
	}
	w.idle = true
	return nil
}

// busy marks the connection as handling a request: Notify queues from now
// until the next ReadyForQuery.
func (w *writer) busy() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.idle = false
}

// notify writes an asynchronous message at once when the connection is idle
// and queues it otherwise.
func (w *writer) notify(msg pgproto3.BackendMessage) error {
	switch msg.(type) {
	case *pgproto3.NotificationResponse, *pgproto3.NoticeResponse, *pgproto3.ParameterStatus:
	default:
		return fmt.Errorf("wire: Notify: %T is not an asynchronous message", msg)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	if !w.idle {
		if w.npending >= w.maxPending {
			return ErrNotifyQueueFull
		}
		var err error
		if w.pending, err = encode(w.pending, msg); err != nil {
			return err
		}
		w.npending++
		return nil
	}
	var err error
	if w.buf, err = encode(w.buf, msg); err != nil {
		return err
	}
	return w.flushLocked()
}

// fatalIfIdle writes msg and flushes only if the connection is idle, so that
// it never lands inside the answer to a request. It reports whether it did.
func (w *writer) fatalIfIdle(msg pgproto3.BackendMessage) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.idle || w.usable() != nil {
		return false
	}
	var err error
	if w.buf, err = encode(w.buf, msg); err != nil {
		return false
	}
	return w.flushLocked() == nil
}

// close marks the writer closed: later writes fail with ErrConnClosed.
func (w *writer) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	w.pending, w.buf = nil, nil
}
