package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgfed/pgfed/executor/federation"
)

// startupTimeout bounds the startup negotiation.
const startupTimeout = 30 * time.Second

// bufSize is the size of the relay's buffers.
const bufSize = 32 << 10

// maxErrorResponse bounds the ErrorResponse the backend reader reads
// whole to recognize an injected statement's error; larger ones stream.
const maxErrorResponse = 1 << 20

// conn is one relayed client connection and its worker connection.
//
// Two goroutines relay it: relayClient (client -> worker) reads each
// message's header, decodes and inspects only Query and Parse, refuses
// FunctionCall, and streams everything else; relayBackend (worker ->
// client) streams the worker's messages unchanged (it only looks into
// ErrorResponse and ParameterStatus). A refused statement is never sent: in its
// place the worker gets a statement that fails for sure (a syntax error
// carrying a random token), so the worker's transaction state becomes
// exactly what PostgreSQL's would be after an error (a transaction block
// is aborted, an extended-protocol batch skips to Sync), and its answers
// keep their order with the ones still in flight; relayBackend swaps that
// error for the gateway's refusal (42501) and relays the rest, the
// ReadyForQuery with the worker's own transaction status included.
//
// The injected statement's error is recognized by its token: PostgreSQL
// parses a statement before anything else, so a syntax error is what it
// answers even in an aborted transaction block; and it answers nothing
// when it skips the statement (an earlier message of the batch failed:
// the client then gets that error, as it would without the gateway).
// Counting ReadyForQuery messages instead would go wrong, as a Sync sent
// during COPY FROM STDIN is ignored by the worker.
type conn struct {
	g      *Gateway
	r      Route
	id     uint64
	log    hclog.Logger
	client net.Conn
	cw     *bufio.Writer // to the client, guarded by wmu
	wmu    sync.Mutex

	mu      sync.Mutex
	backend net.Conn
	subs    []substitution
	closed  bool
	// wrote: the worker's transaction may have written table data, so a
	// PREPARE TRANSACTION of the coordinator's own two-phase commit is
	// refused; sent counts the messages the worker answers with
	// ReadyForQuery (the startup packet, Query, Sync, FunctionCall),
	// answered the ReadyForQuery messages relayed; an idle ReadyForQuery
	// answering everything sent clears wrote (catalog2pc.go).
	wrote          bool
	sent, answered uint64
	// fedPrepare: a federated PREPARE TRANSACTION was let through and its
	// CommandComplete not seen yet (see preparedNotifier).
	fedPrepare bool

	// stmtWrites says, by prepared statement name, whether the statement
	// parsed under that name may write (relayClient's goroutine only).
	stmtWrites map[string]bool
}

// substitution replaces the error an injected statement gets with the
// refusal.
type substitution struct {
	token string // in the injected statement's error message
	msg   []byte // the refusal's ErrorResponse
}

// maxSubstitutions bounds the substitutions waiting for their error (the
// ones of skipped statements go when a later one is matched).
const maxSubstitutions = 256

func newConn(g *Gateway, r Route, nc net.Conn, id uint64) *conn {
	return &conn{g: g, r: r, id: id, client: nc, cw: bufio.NewWriterSize(nc, bufSize),
		log: g.log.With("conn", id, "worker", r.Worker), sent: 1, stmtWrites: map[string]bool{}}
}

// close closes both connections (safe to call more than once, from any
// goroutine).
func (c *conn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	c.client.Close()
	if c.backend != nil {
		c.backend.Close()
	}
}

// run serves the connection until either side ends.
func (c *conn) run(ctx context.Context) {
	defer c.close()
	_ = c.client.SetDeadline(time.Now().Add(startupTimeout))
	pkt, err := c.startup()
	if err != nil {
		if !errors.Is(err, errCancelled) && !errors.Is(err, io.EOF) {
			c.log.Debug("startup failed", "err", err)
		}
		return
	}
	_ = c.client.SetDeadline(time.Time{})
	d := net.Dialer{Timeout: c.g.cfg.DialTimeout}
	be, err := d.DialContext(ctx, "tcp", c.r.Addr)
	if err != nil {
		c.log.Warn("cannot reach the worker", "addr", c.r.Addr, "err", err)
		c.fatal(pgerrcode.ConnectionFailure, c.message(fmt.Sprintf("cannot reach the worker: %v", err)))
		return
	}
	c.mu.Lock()
	c.backend = be
	closed := c.closed
	c.mu.Unlock()
	if closed {
		be.Close()
		return
	}
	if _, err := be.Write(pkt); err != nil {
		return
	}
	c.log.Debug("connection relayed")
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.relayBackend(bufio.NewReaderSize(be, bufSize))
		c.close()
	}()
	c.relayClient(ctx, bufio.NewReaderSize(c.client, bufSize), bufio.NewWriterSize(be, bufSize))
	c.close()
	<-done
}

// message is the text of a refusal: it names the gateway, the
// organization and the worker.
func (c *conn) message(reason string) string {
	return fmt.Sprintf("pgfed gateway of organization %s (worker %s): %s", c.g.org, c.r.Worker, reason)
}

// header reads a message header: its type and body length.
func header(r *bufio.Reader) (byte, int, error) {
	var h [5]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, 0, err
	}
	n := int(int32(binary.BigEndian.Uint32(h[1:]))) - 4
	if n < 0 {
		return 0, 0, fmt.Errorf("message %q with length %d", h[0], n+4)
	}
	return h[0], n, nil
}

func putHeader(w *bufio.Writer, typ byte, n int) error {
	var h [5]byte
	h[0] = typ
	binary.BigEndian.PutUint32(h[1:], uint32(n+4))
	_, err := w.Write(h[:])
	return err
}

// complete reports whether r holds the whole next message: if not, what
// was written must be flushed before reading blocks.
func complete(r *bufio.Reader) bool {
	if r.Buffered() < 5 {
		return false
	}
	h, _ := r.Peek(5)
	return r.Buffered() >= 1+int(binary.BigEndian.Uint32(h[1:]))
}

// relayClient relays the client's messages to the worker, inspecting
// statements, until the client or the worker goes away.
func (c *conn) relayClient(ctx context.Context, cr *bufio.Reader, bw *bufio.Writer) {
	skip := false // a Parse was refused: drop until Sync, as PostgreSQL does
	for {
		typ, n, err := header(cr)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.log.Debug("client read failed", "err", err)
			}
			return
		}
		switch {
		case typ == 'Q' || typ == 'P':
			if n > c.g.cfg.MaxStatement {
				c.fatal(pgerrcode.ProgramLimitExceeded, c.message(fmt.Sprintf("statement of %d bytes is larger than the gateway inspects (%d)", n, c.g.cfg.MaxStatement)))
				return
			}
			body := make([]byte, n)
			if _, err := io.ReadFull(cr, body); err != nil {
				return
			}
			if skip {
				break // dropped until Sync, as PostgreSQL ignores it too
			}
			name, sql, err := statementText(typ, body)
			if err != nil {
				c.fatal(pgerrcode.ProtocolViolation, c.message(err.Error()))
				return
			}
			w, ref := c.inspect(ctx, sql)
			if ref == nil {
				if typ == 'P' {
					if c.stmtWrites == nil {
						c.stmtWrites = map[string]bool{}
					}
					c.stmtWrites[name] = w
				}
				c.sending(typ == 'Q', w)
				if putHeader(bw, typ, n) != nil {
					return
				}
				if _, err := bw.Write(body); err != nil {
					return
				}
				break
			}
			c.sending(typ == 'Q', false)
			if c.inject(bw, ref, typ == 'Q') != nil {
				return
			}
			skip = typ == 'P'
		case typ == 'F':
			if _, err := cr.Discard(n); err != nil {
				return
			}
			if skip {
				break
			}
			ref := refused("function calls through the fastpath protocol are refused")
			c.log.Warn("statement refused", "reason", ref.Reason)
			c.sending(true, false)
			if c.inject(bw, ref, true) != nil {
				return
			}
		case skip && typ != 'S' && typ != 'X' && typ != 'H':
			if _, err := cr.Discard(n); err != nil {
				return
			}
		case typ == 'B' && n <= maxBindInspected:
			body := make([]byte, n)
			if _, err := io.ReadFull(cr, body); err != nil {
				return
			}
			w, known := c.stmtWrites[boundStatement(body)]
			c.sending(false, w || !known)
			if putHeader(bw, typ, n) != nil {
				return
			}
			if _, err := bw.Write(body); err != nil {
				return
			}
		default:
			if typ == 'S' {
				skip = false
			}
			// A Sync is answered with ReadyForQuery; a Bind too large to
			// read whole counts as a write.
			c.sending(typ == 'S', typ == 'B')
			if putHeader(bw, typ, n) != nil {
				return
			}
			if _, err := io.CopyN(bw, cr, int64(n)); err != nil {
				return
			}
			if typ == 'X' {
				_ = bw.Flush()
				return
			}
		}
		if !complete(cr) {
			if bw.Flush() != nil {
				return
			}
		}
	}
}

// maxBindInspected bounds the Bind messages read whole to find their
// statement's name; a larger one is streamed and counted as a write.
const maxBindInspected = 1 << 20

// statementText decodes the SQL text of a Query or Parse, and the name a
// Parse gives its statement.
func statementText(typ byte, body []byte) (name, sql string, err error) {
	if typ == 'Q' {
		var q pgproto3.Query
		if err := q.Decode(body); err != nil {
			return "", "", fmt.Errorf("invalid Query message: %w", err)
		}
		return "", q.String, nil
	}
	var p pgproto3.Parse
	if err := p.Decode(body); err != nil {
		return "", "", fmt.Errorf("invalid Parse message: %w", err)
	}
	return p.Name, p.Query, nil
}

// boundStatement returns the name of the prepared statement a Bind
// message's body binds (the second string; "\x00" when malformed, a name
// no Parse gives, so the Bind counts as a write).
func boundStatement(body []byte) string {
	i := bytes.IndexByte(body, 0)
	if i < 0 {
		return "\x00"
	}
	j := bytes.IndexByte(body[i+1:], 0)
	if j < 0 {
		return "\x00"
	}
	return string(body[i+1 : i+1+j])
}

// sending records, before a message goes to the worker, whether the
// worker will answer it with ReadyForQuery and whether it may write table
// data.
func (c *conn) sending(answered, writes bool) {
	if !answered && !writes {
		return
	}
	c.mu.Lock()
	if answered {
		c.sent++
	}
	if writes {
		c.wrote = true
	}
	c.mu.Unlock()
}

// ready records a ReadyForQuery from the worker: an idle session that has
// answered everything sent has ended every transaction that wrote.
func (c *conn) ready(status byte) {
	c.mu.Lock()
	c.answered++
	if status == 'I' && c.answered >= c.sent {
		c.wrote = false
	}
	c.mu.Unlock()
}

// inspect classifies a statement text and asks the validator about its
// PREPARE TRANSACTIONs; it returns whether the text may write table data
// and the refusal, if any, after logging it.
func (c *conn) inspect(ctx context.Context, sql string) (bool, *Refusal) {
	v, ref := c.g.cache.classify(c.g.policy, sql)
	if ref == nil && len(v.CoordinatorPrepares) > 0 {
		c.mu.Lock()
		wrote := c.wrote
		c.mu.Unlock()
		if wrote || v.Writes {
			ref = refused("PREPARE TRANSACTION %q is refused: the transaction wrote table data, and only the organization's validator commits writes across workers (federated gids %q)", v.CoordinatorPrepares[0], federation.GIDPrefix)
		}
	}
	if ref == nil {
		for _, gid := range v.Prepares {
			if err := c.g.cfg.Keeper.CheckPrepare(ctx, c.r.Worker, gid, c.g.cfg.PrepareWait); err != nil {
				ref = refused("PREPARE TRANSACTION %q is refused: %v", gid, err)
				break
			}
		}
		if ref == nil && len(v.Prepares) > 0 {
			c.mu.Lock()
			c.fedPrepare = true
			c.mu.Unlock()
		}
	}
	if ref != nil {
		c.log.Warn("statement refused", "reason", ref.Reason, "sqlstate", ref.Code)
	}
	return v.Writes, ref
}

// inject sends the worker, instead of a refused statement, one that fails
// with a fresh token in its error message (a simple Query, or a Parse of
// the unnamed statement), and registers the substitution of that error
// by the refusal.
func (c *conn) inject(bw *bufio.Writer, ref *Refusal, simple bool) error {
	var tok [8]byte
	_, _ = rand.Read(tok[:])
	token := "pgfed_gateway_refused_" + hex.EncodeToString(tok[:])
	msg, err := (&pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: ref.Code,
		Message: c.message(ref.Reason)}).Encode(nil)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if len(c.subs) == maxSubstitutions {
		c.subs = c.subs[1:]
	}
	c.subs = append(c.subs, substitution{token: token, msg: msg})
	c.mu.Unlock()
	var out []byte
	if simple {
		out, err = (&pgproto3.Query{String: token}).Encode(nil)
	} else {
		out, err = (&pgproto3.Parse{Query: token}).Encode(nil)
	}
	if err != nil {
		return err
	}
	_, err = bw.Write(out)
	return err
}

// substitute returns the refusal that replaces an ErrorResponse with body,
// if it is an injected statement's error; the substitutions before it are
// dropped (the worker skipped their statements, and answers in order).
func (c *conn) substitute(body []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, s := range c.subs {
		if bytes.Contains(body, []byte(s.token)) {
			c.subs = c.subs[i+1:]
			return s.msg
		}
	}
	return nil
}

// pending reports whether an injected statement's error may be on its way.
func (c *conn) pending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.subs) > 0
}

// relayBackend relays the worker's messages to the client unchanged, but
// for the errors of injected statements.
func (c *conn) relayBackend(br *bufio.Reader) {
	for {
		typ, n, err := header(br)
		if err != nil {
			return
		}
		c.wmu.Lock()
		err = c.relayOne(br, typ, n)
		if err == nil && !complete(br) {
			err = c.cw.Flush()
		}
		c.wmu.Unlock()
		if err != nil {
			return
		}
	}
}

// errUnsafeSetting ends a session whose worker reports a lexing setting
// the gateway cannot read statements under (settings.go).
var errUnsafeSetting = errors.New("unsafe setting reported")

// preparedNotifier is a Gatekeeper that wants to hear at once that a
// worker answered a federated PREPARE TRANSACTION the gateway relayed
// (federation.App.Prepared): its validator then looks at the worker's
// prepared transactions now rather than at its next tick. The hint only
// saves time; the validator votes on what pg_prepared_xacts says.
type preparedNotifier interface {
	Prepared(worker string)
}

// prepareTag is the CommandComplete of a PREPARE TRANSACTION that
// succeeded (one that fails answers ROLLBACK).
var prepareTag = []byte("PREPARE TRANSACTION\x00")

// prepared reports whether a CommandComplete body answers a federated
// PREPARE TRANSACTION, clearing the mark.
func (c *conn) prepared(body []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.fedPrepare || !bytes.Equal(body, prepareTag) {
		return false
	}
	c.fedPrepare = false
	return true
}

// relayOne relays one worker message (under wmu).
func (c *conn) relayOne(br *bufio.Reader, typ byte, n int) error {
	if typ == 'C' && n == len(prepareTag) {
		body := make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			return err
		}
		if c.prepared(body) {
			if pn, ok := c.g.cfg.Keeper.(preparedNotifier); ok {
				pn.Prepared(c.r.Worker)
			}
		}
		if err := putHeader(c.cw, typ, n); err != nil {
			return err
		}
		_, err := c.cw.Write(body)
		return err
	}
	if typ == 'S' && n <= maxErrorResponse {
		body := make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			return err
		}
		var ps pgproto3.ParameterStatus
		if ps.Decode(body) == nil && lexSettings[ps.Name] {
			if why := unsafeSetting(ps.Name, ps.Value); why != "" {
				c.log.Warn("session closed", "reason", why, "setting", ps.Name, "value", ps.Value)
				msg, _ := (&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: pgerrcode.InsufficientPrivilege,
					Message: c.message(why)}).Encode(nil)
				_, _ = c.cw.Write(msg)
				_ = c.cw.Flush()
				return errUnsafeSetting
			}
		}
		if err := putHeader(c.cw, typ, n); err != nil {
			return err
		}
		_, err := c.cw.Write(body)
		return err
	}
	if typ == 'Z' && n == 1 {
		var status [1]byte
		if _, err := io.ReadFull(br, status[:]); err != nil {
			return err
		}
		c.ready(status[0])
		if err := putHeader(c.cw, typ, n); err != nil {
			return err
		}
		_, err := c.cw.Write(status[:])
		return err
	}
	if typ == 'E' && n <= maxErrorResponse && c.pending() {
		body := make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			return err
		}
		if msg := c.substitute(body); msg != nil {
			_, err := c.cw.Write(msg)
			return err
		}
		if err := putHeader(c.cw, typ, n); err != nil {
			return err
		}
		_, err := c.cw.Write(body)
		return err
	}
	if err := putHeader(c.cw, typ, n); err != nil {
		return err
	}
	_, err := io.CopyN(c.cw, br, int64(n))
	return err
}
