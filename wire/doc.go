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
package wire
