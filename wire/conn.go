package wire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgproto3"
)

// lingerTimeout bounds how long a connection closed after a FATAL error
// keeps reading (and discarding) what the client still sends, so that the
// client reads the error instead of a connection reset.
const lingerTimeout = 500 * time.Millisecond

// errTerminate ends a connection whose client sent Terminate.
var errTerminate = errors.New("wire: client terminated the connection")

// errClosing ends a connection quietly after a message that ends it has
// been handled (a CancelRequest, or a FATAL error already sent).
var errClosing = errors.New("wire: connection closing")

// conn is one client connection. Its goroutine reads a message, handles it
// to the end and reads the next; only Client.Notify, shutdown and
// CancelRequests (through cancelKeys) reach it from other goroutines, and
// those only touch the writer, the net.Conn and Session.Cancel.
type conn struct {
	srv *Server
	nc  net.Conn // the accepted connection
	rw  net.Conn // nc, or the TLS connection over it
	r   *reader
	w   *writer
	log hclog.Logger

	startup Startup
	sess    Session
	pid     uint32

	// readErr is a read error met inside a session call (while it reads
	// COPY data); it ends the connection once the call returns.
	readErr error

	ext   extended
	certs certCapture // the TLS certificate sent, for channel binding
}

// newConn wraps an accepted connection.
func newConn(s *Server, nc net.Conn) *conn {
	id := s.connID.Add(1)
	c := &conn{
		srv: s,
		nc:  nc,
		rw:  nc,
		r:   newReader(nc, s.cfg.MaxMessageSize),
		log: s.log.With("conn", id, "remote", nc.RemoteAddr().String()),
	}
	c.w = newWriter(nc, s.cfg.NotifyQueue, nil)
	c.ext.init()
	return c
}

// Notify implements Client.
func (c *conn) Notify(msg pgproto3.BackendMessage) error { return c.w.notify(msg) }

// shutdown ends the connection from another goroutine: an idle client is
// told FATAL 57P01 first, then the connection is closed, which makes the
// connection's goroutine return.
func (c *conn) shutdown() {
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	c.w.fatalIfIdle(&pgproto3.ErrorResponse{
		Severity:            "FATAL",
		SeverityUnlocalized: "FATAL",
		Code:                pgerrcode.AdminShutdown,
		Message:             "terminating connection due to administrator command",
	})
	_ = c.nc.Close()
}

// serve runs the connection to its end.
func (c *conn) serve(ctx context.Context) {
	ctx, cancel := context.WithCancelCause(ctx)
	c.w.mu.Lock()
	c.w.onError = cancel
	c.w.mu.Unlock()

	defer func() {
		if p := recover(); p != nil {
			c.log.Error("panic serving connection", "panic", p, "stack", string(debug.Stack()))
			c.fail(&Error{Severity: "FATAL", Code: pgerrcode.InternalError, Message: fmt.Sprintf("internal error: %v", p)})
		}
		cancel(ErrConnClosed)
		c.w.close()
		_ = c.nc.Close()
		c.closeSession()
	}()

	err := c.handshake(ctx)
	if err == nil {
		c.log.Debug("session started", "user", c.startup.User, "database", c.startup.Database, "tls", c.startup.TLS)
		err = c.loop(ctx)
	}
	c.end(err)
}

// end reports why the connection ends: a protocol or FATAL error is sent
// to the client, anything else is only logged.
func (c *conn) end(err error) {
	var e *Error
	switch {
	case err == nil, errors.Is(err, errTerminate), errors.Is(err, errClosing):
	case errors.As(err, &e):
		c.log.Debug("closing connection", "error", err)
		c.fail(err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		c.log.Debug("client disconnected", "error", err)
	default:
		c.log.Debug("connection failed", "error", err)
	}
}

// fail sends err as a FATAL ErrorResponse and lingers briefly so that the
// client can read it before the connection is closed.
func (c *conn) fail(err error) {
	r := errorResponse(err)
	if !isFatal(r) {
		r.Severity, r.SeverityUnlocalized = "FATAL", "FATAL"
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	if c.w.send(r) != nil || c.w.flush() != nil {
		return
	}
	c.linger()
}

// linger half-closes the connection and discards what the client still
// sends for a short while.
func (c *conn) linger() {
	cw, ok := c.rw.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(lingerTimeout))
	_, _ = io.CopyN(io.Discard, c.rw, 1<<20)
}

// closeSession releases the session, if one was created.
func (c *conn) closeSession() {
	if c.sess == nil {
		return
	}
	if c.pid != 0 {
		c.srv.keys.unregister(c.pid)
	}
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("panic in Session.Close", "panic", p, "stack", string(debug.Stack()))
		}
	}()
	if err := c.sess.Close(); err != nil {
		c.log.Warn("closing session failed", "error", err)
	}
}

// loop reads and handles messages until the connection ends.
func (c *conn) loop(ctx context.Context) error {
	for {
		msg, err := c.r.receive()
		if err != nil {
			return err
		}
		c.w.busy()
		if err := c.handle(ctx, msg); err != nil {
			return err
		}
		if c.readErr != nil {
			return c.readErr
		}
	}
}

// handle handles one message. An error it returns ends the connection.
func (c *conn) handle(ctx context.Context, msg pgproto3.FrontendMessage) error {
	if c.ext.skip {
		switch msg.(type) {
		case *pgproto3.Sync:
		case *pgproto3.Terminate:
			return errTerminate
		default:
			return nil
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	switch m := msg.(type) {
	case *pgproto3.Query:
		return c.simpleQuery(ctx, m.String)
	case *pgproto3.Parse:
		return c.parse(ctx, m)
	case *pgproto3.Bind:
		return c.bind(ctx, m)
	case *pgproto3.Describe:
		return c.describe(ctx, m)
	case *pgproto3.Execute:
		return c.execute(ctx, m)
	case *pgproto3.Close:
		return c.closeMsg(ctx, m)
	case *pgproto3.Sync:
		return c.sync(ctx)
	case *pgproto3.Flush:
		return c.w.flush()
	case *pgproto3.Terminate:
		return errTerminate
	case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
		// A COPY that failed leaves the client sending its data: ignore
		// it, as PostgreSQL does.
		return nil
	case *pgproto3.FunctionCall:
		if err := c.report(&Error{Code: pgerrcode.FeatureNotSupported, Message: "fastpath function calls are not supported"}); err != nil {
			return err
		}
		return c.readyForQuery(ctx)
	default:
		return protocolViolation("unexpected message %T", msg)
	}
}

// report sends err to the client as an ErrorResponse. It returns an error,
// ending the connection, when err is FATAL or the write fails.
func (c *conn) report(err error) error {
	r := errorResponse(err)
	if isFatal(r) {
		c.log.Debug("fatal error from session", "error", err)
		if c.w.send(r) == nil && c.w.flush() == nil {
			c.linger()
		}
		return errClosing
	}
	if r.Code == pgerrcode.InternalError {
		c.log.Warn("internal error", "error", err)
	}
	return c.w.send(r)
}

// readyForQuery ends a request: portals die with the transaction, queued
// notifications go out, then ReadyForQuery with the session's status.
func (c *conn) readyForQuery(ctx context.Context) error {
	status := c.sess.TxStatus()
	if status == 'I' {
		c.dropPortals(ctx)
	}
	return c.w.readyForQuery(status)
}
