// Package wire is pgfed's server side of the PostgreSQL frontend/backend
// protocol, version 3.0.
//
// It accepts connections, negotiates TLS, authenticates (trust or
// SCRAM-SHA-256), answers CancelRequests, and runs the simple and extended
// query sub-protocols: it keeps the client's prepared statements and portals,
// skips to Sync after an error, and writes ReadyForQuery with the session's
// transaction status. What a statement means is not its business: every
// statement goes to a Session, created per connection by a Handler. The
// package knows nothing about shards, workers or SQL.
//
// # A connection's life
//
// Server.Serve accepts connections and gives each a goroutine that it waits
// for. The startup phase (bounded by Config.StartupTimeout) answers
// SSLRequest with 'S' and a TLS handshake when Config.TLSConfig is set and
// 'N' otherwise, GSSENCRequest with 'N', and a CancelRequest by calling
// Session.Cancel on the session whose process id and secret it names
// (compared in constant time), then closing. A StartupMessage for protocol
// 3.x is accepted; a minor version above 0, or _pq_ options, get a
// NegotiateProtocolVersion (newest minor 0, the options listed), as
// PostgreSQL 15 answers pgx's request for 3.2. Then authentication,
// Handler.NewSession, AuthenticationOk, the session's ParameterStatus,
// BackendKeyData (random process id, 4-byte secret) and ReadyForQuery.
//
// The main loop reads one message, handles it to the end (calling the
// session), and reads the next. Answers are buffered and written when the
// buffer passes 32 KiB (so large results stream), at Flush, and at
// ReadyForQuery. Each message gets a context that is a child of the
// connection's; the connection's context is cancelled when a write to the
// client fails or the server shuts down.
//
// # Decisions
//
//   - A Query of only whitespace is answered with EmptyQueryResponse by the
//     server; other empty statements (only comments or semicolons) are the
//     session's to answer.
//   - As in PostgreSQL, a Query destroys the unnamed statement and portal;
//     unnamed ones are replaced silently by Parse and Bind, named
//     duplicates fail (42P05, 42P03), unknown names fail (26000, 34000),
//     Close of an unknown name succeeds. Portals are closed (ClosePortal)
//     whenever ReadyForQuery is about to report status 'I'. A session that
//     implements Cursors is asked about portal names the server does not
//     know (Describe, Execute, Close): SQL cursors (DECLARE) are portals
//     in PostgreSQL, and only the session sees them.
//   - An error answering an extended-protocol message makes the server skip
//     every message but Terminate until Sync; Session.Sync is still called.
//     Errors in a simple Query do not start skipping.
//   - During COPY FROM STDIN, Flush and Sync are ignored (the protocol says
//     so); outside COPY, stray CopyData, CopyDone and CopyFail are ignored,
//     since a client keeps sending after a COPY failed.
//   - An error from the session becomes an ErrorResponse: *Error with all
//     its fields; else the code of a SQLState() method (with Detail() and
//     Hint() when present) and err.Error() as message; else
//     context.Canceled or DeadlineExceeded as 57014; else XX000. FATAL
//     closes the connection after sending it. A panic in a session call is
//     recovered at the connection boundary, logged, answered FATAL XX000.
//   - Malformed messages, unknown message types, a length over
//     Config.MaxMessageSize (64 MiB by default; 10000 bytes for messages
//     that carry no user data, as in PostgreSQL): FATAL 08P01, then the
//     connection is closed after a short linger so the client reads it.
//   - Client.Notify writes at once while the connection waits for the
//     client after ReadyForQuery, and otherwise queues (up to
//     Config.NotifyQueue messages) until just before the next
//     ReadyForQuery.
//   - On shutdown, idle clients get FATAL 57P01 before their connection
//     closes, as from a PostgreSQL "fast" shutdown.
package wire
