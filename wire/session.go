package wire

import (
	"context"
	"net"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Startup is what a client said in its StartupMessage, after authentication.
type Startup struct {
	User       string
	Database   string
	Params     map[string]string // every startup parameter, user and database included
	RemoteAddr net.Addr
	TLS        bool // the connection is encrypted
}

// Handler creates a Session for each authenticated connection. It is the only
// thing the server needs from the layers above it.
type Handler interface {
	// NewSession is called once authentication has succeeded. An error is
	// sent to the client as an ErrorResponse and the connection is closed.
	// The client lets the session push asynchronous messages (notifications,
	// notices, parameter changes) while the connection is idle.
	NewSession(ctx context.Context, s Startup, c Client) (Session, error)
}

// Client is the session's handle on its connection for messages that are not
// the answer to a request: NotificationResponse, NoticeResponse and
// ParameterStatus. It is safe to call from any goroutine; messages are written
// between the answers to requests, never inside one.
type Client interface {
	Notify(msg pgproto3.BackendMessage) error
}

// StatementDescription describes a prepared statement: the types of its
// parameters and the columns it returns (nil Fields means NoData).
type StatementDescription struct {
	ParamOIDs []uint32
	Fields    []pgproto3.FieldDescription
}

// Statement is a prepared statement as the server keeps it. Handle is the
// session's own value for it, returned by Session.Prepare.
type Statement struct {
	Name   string
	SQL    string
	Desc   StatementDescription
	Handle any
}

// Portal is a bound statement ready to execute. State belongs to the session:
// it may keep there whatever it needs between Execute calls on a suspended
// portal (for example, that the portal is already open on a worker).
type Portal struct {
	Name          string
	Statement     *Statement
	ParamFormats  []int16
	Params        [][]byte
	ResultFormats []int16
	State         any
}

// ExecuteOptions sharpen one Execute.
type ExecuteOptions struct {
	// MaxRows is the row limit of the Execute message (0 means all rows).
	MaxRows uint32
	// SyncFollows says that the next message the client already sent is
	// Sync, so the session may finish the implicit transaction together
	// with the statement and save a round trip. Sync is still called.
	SyncFollows bool
}

// Results receives what a statement produces, in protocol order:
// RowDescription (simple query only; the extended protocol describes
// through Describe), DataRow, CommandComplete, EmptyQueryResponse,
// NoticeResponse, CopyInResponse, CopyOutResponse, CopyData, CopyDone.
// The server buffers what is sent and flushes it as it fills, so rows stream.
type Results interface {
	Send(msg pgproto3.BackendMessage) error
	// ReceiveCopy reads the client's next COPY message once the session has
	// sent CopyInResponse: *pgproto3.CopyData, *pgproto3.CopyDone or
	// *pgproto3.CopyFail. The message stays valid until the next call.
	ReceiveCopy() (pgproto3.FrontendMessage, error)
}

// Session runs a client's statements. The server calls its methods from one
// goroutine, one at a time, except Cancel. Errors returned are sent to the
// client as ErrorResponse (see Error); the server then skips extended
// protocol messages until Sync, as PostgreSQL does.
type Session interface {
	// ParameterStatus returns the parameters reported to the client at
	// startup (server_version, server_encoding, client_encoding, DateStyle,
	// TimeZone, integer_datetimes, standard_conforming_strings, ...).
	ParameterStatus() map[string]string

	// SimpleQuery runs a Query message: one or more statements. The server
	// sends ReadyForQuery afterwards.
	SimpleQuery(ctx context.Context, sql string, r Results) error

	// Prepare handles Parse: it checks sql, describes it and returns the
	// session's handle for it. paramOIDs are the types the client gave
	// (0 = unspecified). name is "" for the unnamed statement, which the
	// server replaces (calling CloseStatement on the old one). For a named
	// statement the session is the authority on whether the name is free:
	// the client may have dropped the statement with SQL (DEALLOCATE,
	// DISCARD ALL), which the server cannot see. The session returns 42P05
	// (duplicate_prepared_statement) when the name is taken; on success the
	// server forgets any Statement it held under that name without calling
	// CloseStatement.
	Prepare(ctx context.Context, name, sql string, paramOIDs []uint32) (handle any, desc StatementDescription, err error)

	// Execute runs a portal, sending at most opts.MaxRows rows when that
	// is not 0. It returns suspended=true when rows remain; the server then
	// sends PortalSuspended and the portal can be executed again.
	Execute(ctx context.Context, p *Portal, opts ExecuteOptions, r Results) (suspended bool, err error)

	// CloseStatement and ClosePortal tell the session that the client
	// closed (or replaced) a statement or portal.
	CloseStatement(ctx context.Context, s *Statement) error
	ClosePortal(ctx context.Context, p *Portal) error

	// Abort tells the session that the server itself rejected a message of
	// an extended-protocol batch (an unknown statement or portal, a
	// malformed Bind, ...) with err, which the server reports to the
	// client. PostgreSQL aborts the current transaction on any error in a
	// batch, so the session must too: the Sync that ends the batch then
	// rolls back an implicit transaction, and a transaction block is left
	// failed ('E'). Errors the session returns itself need no Abort.
	Abort(ctx context.Context, err error)

	// Sync ends an extended-protocol batch: an implicit transaction is
	// committed (or rolled back after an error) as PostgreSQL does.
	Sync(ctx context.Context) error

	// TxStatus is the transaction status for ReadyForQuery: 'I' idle,
	// 'T' in a transaction block, 'E' in a failed transaction block.
	TxStatus() byte

	// Cancel asks the statement running now, if any, to stop (a client's
	// CancelRequest). It may be called from any goroutine.
	Cancel()

	// Close releases the session when the connection ends.
	Close() error
}

// Cursors is implemented by a Session whose SQL cursors (DECLARE ...
// CURSOR) are portals too, as they are in PostgreSQL: a client may
// Describe ('P'), Execute and Close a cursor it opened with DECLARE
// (psycopg 3's server-side cursors describe theirs that way). The server
// knows only the portals of Bind; for a name it does not know it asks the
// session, which answers for its cursors, or with an error of SQLSTATE
// 34000 (invalid_cursor_name) when there is none. The server keeps
// nothing for a cursor. An error the session returns here needs no Abort
// (the session saw it).
type Cursors interface {
	// DescribeCursor returns the columns of the cursor name, with the
	// formats it returns them in (nil: the cursor returns no rows).
	DescribeCursor(ctx context.Context, name string) ([]pgproto3.FieldDescription, error)
	// ExecuteCursor fetches the next rows of the cursor name, at most
	// opts.MaxRows when that is not 0, and returns suspended=true when
	// rows remain, as Execute does.
	ExecuteCursor(ctx context.Context, name string, opts ExecuteOptions, r Results) (suspended bool, err error)
	// CloseCursor closes the cursor name; closing one that does not
	// exist is not an error.
	CloseCursor(ctx context.Context, name string) error
}
