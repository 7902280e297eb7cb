// Package executor runs the statements of pgfed's clients.
//
// The wire server hands every authenticated connection to a Handler, which
// opens a Session: the coordinator-side half of one client connection. A
// Session owns one connection to the metadata database (a metadataConn),
// opened as the client's user on the client's database with the client's
// startup parameters, so the client sees that server's parameters, settings,
// temporary tables, prepared statements and transactions as its own.
//
// Today every statement is passed through: a Query message becomes a Query
// on the metadata connection, Parse/Bind/Execute/Close become the same
// messages under the client's names, and the backend's answer is relayed
// message by message (rows are never decoded), COPY included. Errors keep
// every field of the backend's ErrorResponse. A statement's life is
//
//	wire server -> Session.SimpleQuery / Prepare / Execute / Sync
//	            -> metadataConn: stop the idle listener, send, relay to
//	               ReadyForQuery (or to the Execute's end), restart the
//	               listener when the backend is idle again.
//
// The passthrough is one strategy among those the planner will choose from:
// a prepared statement's handle says where it runs (metaStatement for the
// metadata database) and Session.Execute dispatches on it, so statements on
// distributed tables can later get handles of their own without touching
// the metadata path.
//
// While the client is idle, a goroutine owned by the session reads the
// backend and forwards asynchronous NotificationResponse, NoticeResponse and
// ParameterStatus messages with wire.Client.Notify, which is how LISTEN works
// through pgfed. A timer left armed across requests starts it within a
// millisecond of the end of a request (so a busy client pays for it about
// once a millisecond, not once a statement), and a request stops it (by an
// expired read deadline) before it uses the connection.
//
// The metadata connection runs the client's statements only: a Query sent
// on it on the session's own behalf would destroy the client's unnamed
// statement, and an error would end the client's transaction. Work of the
// coordinator's own (catalog reads, say) belongs on other connections.
//
// Cancellation: Session.Cancel (a client's CancelRequest) and the
// cancellation of a request's context both send a CancelRequest to the
// backend. If the backend dies, the session answers with a FATAL error
// (SQLSTATE 08006, or the backend's own FATAL code such as 57P01) so that
// the wire server closes the client's connection.
package executor
