package executor

import (
	"context"
	"maps"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgfed/pgfed/wire"
)

// closeTimeout bounds the Terminate message written when a session ends.
const closeTimeout = time.Second

// metadataConn is a session's own connection to the metadata database,
// spoken to directly in the v3 protocol so that the backend's messages are
// relayed to the client as they come.
//
// It is used by one goroutine at a time: the wire server's (through the
// Session), or, while the client is idle, the listener goroutine, which the
// next request stops before it touches the connection. Cancel state is the
// only part other goroutines touch (see cancel.go).
type metadataConn struct {
	log    hclog.Logger
	client wire.Client
	conn   net.Conn
	fe     *pgproto3.Frontend

	// pid and key are the backend's cancel key; cancelNet and cancelAddr
	// are where to send a CancelRequest.
	pid        uint32
	key        []byte
	cancelNet  string
	cancelAddr string

	paramsMu sync.Mutex
	params   map[string]string // the backend's latest ParameterStatus values

	txStatus byte // from the last ReadyForQuery
	// pendingBegin is a client's BEGIN the session answered itself; it is
	// sent before the next request, if one comes before the block ends
	// (see lazybegin.go).
	pendingBegin string
	broken       *wire.Error // set once the connection is unusable; every request returns it

	// Extended-protocol state. inBatch: messages were sent since the last
	// ReadyForQuery, so Sync has work to do. aborted: the backend reported
	// an error in the batch and skips messages until Sync.
	inBatch bool
	aborted bool

	// closes are Close messages deferred to go out with the next request;
	// unacked counts the CloseComplete messages still to be read.
	closes  []pgproto3.Close
	unacked int

	lis listener
	req request
}

// dialMetadata opens the metadata connection with cfg and takes it over from
// pgconn once it is ready for queries.
func dialMetadata(ctx context.Context, cfg *pgconn.Config, client wire.Client, log hclog.Logger) (*metadataConn, error) {
	pc, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, connectError(err)
	}
	if err := pc.SyncConn(ctx); err != nil {
		pc.Close(context.Background())
		return nil, connectError(err)
	}
	hc, err := pc.Hijack()
	if err != nil {
		pc.Close(context.Background())
		return nil, connectError(err)
	}
	m := &metadataConn{
		log:      log,
		client:   client,
		conn:     hc.Conn,
		pid:      hc.PID,
		key:      hc.SecretKey,
		params:   maps.Clone(hc.ParameterStatuses),
		txStatus: hc.TxStatus,
	}
	if m.txStatus == 0 {
		m.txStatus = 'I'
	}
	// SyncConn left pgconn's reader empty and stopped, so a Frontend of our
	// own on the raw connection starts exactly at the next message.
	m.fe = pgproto3.NewFrontend(hc.Conn, hc.Conn)
	if ra := hc.Conn.RemoteAddr(); ra != nil && ra.String() != "" {
		m.cancelNet, m.cancelAddr = ra.Network(), ra.String()
	}
	return m, nil
}

// parameterStatus returns a copy of the backend's reported parameters.
func (m *metadataConn) parameterStatus() map[string]string {
	m.paramsMu.Lock()
	defer m.paramsMu.Unlock()
	return maps.Clone(m.params)
}

// setParam records a ParameterStatus from the backend.
func (m *metadataConn) setParam(name, value string) {
	m.paramsMu.Lock()
	m.params[name] = value
	m.paramsMu.Unlock()
}

// begin readies the connection for a request: it stops the idle listener,
// fails fast when the connection is broken or ctx is done, re-synchronizes a
// backend left skipping to Sync, queues the deferred Close messages and
// watches ctx. Every successful begin is paired with finish.
func (m *metadataConn) begin(ctx context.Context) error {
	m.stopListening()
	if m.broken != nil {
		return m.broken
	}
	if err := ctx.Err(); err != nil {
		m.finish() // nothing was sent: listen again
		return canceledError(context.Cause(ctx))
	}
	m.watch(ctx)
	if m.aborted {
		// The wire server skips to Sync after an error, so this only
		// happens if a call came in between: without a Sync the backend
		// would ignore the request and we would wait forever.
		m.log.Warn("request on a backend that skips to sync; syncing first")
		if err := m.syncBackend(); err != nil && m.broken != nil {
			m.finish()
			return m.broken
		}
	}
	m.sendCloses()
	if m.pendingBegin != "" {
		if err := m.flushPendingBegin(); err != nil {
			m.finish()
			return err
		}
	}
	return nil
}

// finish ends a request: it stops watching the request's context and, when
// the backend is idle (nothing sent since its last ReadyForQuery), listens
// for asynchronous messages until the next request.
func (m *metadataConn) finish() {
	m.unwatch()
	if m.broken == nil && !m.inBatch {
		m.listen()
	}
}

// sendCloses queues the deferred Close messages in front of the request
// about to be sent, unless the backend skips to Sync (it would ignore them;
// they then go with the request after the Sync).
func (m *metadataConn) sendCloses() {
	if m.aborted || len(m.closes) == 0 {
		return
	}
	for i := range m.closes {
		m.fe.SendClose(&m.closes[i])
	}
	m.unacked += len(m.closes)
	m.inBatch = true
	m.closes = m.closes[:0]
}

// deferClose records a Close message to send with the next request.
func (m *metadataConn) deferClose(kind byte, name string) {
	m.closes = append(m.closes, pgproto3.Close{ObjectType: kind, Name: name})
}

// flush writes the queued messages; a failure breaks the connection.
func (m *metadataConn) flush() error {
	if err := m.fe.Flush(); err != nil {
		return m.ioFailed(err)
	}
	return nil
}

// receive reads the backend's next message, consuming the CloseComplete of
// deferred closes and recording ParameterStatus values. The message is valid
// until the next receive. A read failure breaks the connection, as does a
// FATAL ErrorResponse (returned as the error).
func (m *metadataConn) receive() (pgproto3.BackendMessage, error) {
	for {
		msg, err := m.fe.Receive()
		if err != nil {
			return nil, m.ioFailed(err)
		}
		switch msg := msg.(type) {
		case *pgproto3.CloseComplete:
			if m.unacked > 0 {
				m.unacked--
				continue
			}
		case *pgproto3.ParameterStatus:
			m.setParam(msg.Name, msg.Value)
		case *pgproto3.ReadyForQuery:
			m.txStatus = msg.TxStatus
			m.inBatch, m.aborted, m.unacked = false, false, 0
		case *pgproto3.ErrorResponse:
			if e := backendError(msg); isFatal(e) {
				m.log.Warn("metadata connection ended by the server", "code", e.Code, "error", e.Message)
				m.broken = e
				m.conn.Close()
				return nil, e
			}
		}
		return msg, nil
	}
}

// ioFailed breaks the connection after a read or write error: the backend
// did not answer a cancel in time (the watcher forced the deadline), or the
// connection failed.
func (m *metadataConn) ioFailed(err error) *wire.Error {
	if m.broken == nil && m.req.timedOut() {
		m.broken = cancelTimedOutError()
		m.log.Warn("gave up the metadata connection after a cancel went unanswered")
		m.conn.Close()
	}
	return m.lose(err)
}

// lose marks the connection broken by cause and closes it.
func (m *metadataConn) lose(cause error) *wire.Error {
	if m.broken == nil {
		m.broken = connectionLost(cause)
		m.log.Warn("lost the metadata connection", "error", cause)
		m.conn.Close()
	}
	return m.broken
}

// notify forwards an asynchronous message (notice, notification, parameter
// change) read outside of any Results to the client. The message is copied:
// the wire server may queue it past the next receive.
func (m *metadataConn) notify(msg pgproto3.BackendMessage) {
	if m.client == nil {
		return
	}
	var c pgproto3.BackendMessage
	switch msg := msg.(type) {
	case *pgproto3.NotificationResponse:
		v := *msg
		c = &v
	case *pgproto3.NoticeResponse:
		v := *msg
		c = &v
	case *pgproto3.ParameterStatus:
		v := *msg
		c = &v
	default:
		return
	}
	if err := m.client.Notify(c); err != nil {
		m.log.Debug("cannot forward an asynchronous message", "error", err)
	}
}

// close ends the connection: it stops the listener, says Terminate and
// closes the socket.
func (m *metadataConn) close() error {
	m.stopListening()
	m.waitListener()
	m.req.waitWatcher()
	if m.broken != nil {
		return nil
	}
	m.broken = &wire.Error{Severity: severityFatal, Code: pgerrcode.ConnectionDoesNotExist, Message: "session closed"}
	m.conn.SetWriteDeadline(time.Now().Add(closeTimeout))
	m.fe.Send(&pgproto3.Terminate{})
	m.fe.Flush()
	return m.conn.Close()
}
