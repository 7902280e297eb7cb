package executor

import (
	"context"

	"github.com/hashicorp/go-hclog"

	"github.com/pgfed/pgfed/wire"
)

// Session is the coordinator's side of one client connection; it implements
// wire.Session. It owns a connection to the metadata database, where every
// statement runs for now (see metadataConn). The wire server calls its
// methods from one goroutine, one at a time, except Cancel.
//
// Statement handles say where a statement runs: a *metaStatement runs on
// the metadata database under the client's name. The planner's statements
// will get handles of their own, and the methods below dispatch on them.
type Session struct {
	log  hclog.Logger
	meta *metadataConn
}

var _ wire.Session = (*Session)(nil)

// ParameterStatus returns the metadata database's parameters as reported to
// this session's backend (server_version, client_encoding, DateStyle,
// TimeZone, ...), with the latest values it reported.
func (s *Session) ParameterStatus() map[string]string {
	return s.meta.parameterStatus()
}

// SimpleQuery runs the Query on the metadata database and relays the answer
// to r: results before an error are relayed, and the first error is
// returned with every field of the backend's ErrorResponse. COPY FROM STDIN
// reads the client's data from r.
func (s *Session) SimpleQuery(ctx context.Context, sql string, r wire.Results) error {
	return s.meta.simpleQuery(ctx, sql, r)
}

// Prepare parses and describes sql on the metadata database under the
// client's statement name, so the statement has PostgreSQL's lifetime
// rules (the unnamed statement is replaced by the next one). The handle is
// a *metaStatement.
func (s *Session) Prepare(ctx context.Context, name, sql string, paramOIDs []uint32) (any, wire.StatementDescription, error) {
	st, desc, err := s.meta.prepare(ctx, name, sql, paramOIDs)
	if err != nil {
		return nil, desc, err
	}
	return st, desc, nil
}

// Execute binds the portal on its first use and runs it where its statement
// was prepared.
func (s *Session) Execute(ctx context.Context, p *wire.Portal, opts wire.ExecuteOptions, r wire.Results) (bool, error) {
	switch h := p.Statement.Handle.(type) {
	case *metaStatement:
		return s.meta.execute(ctx, h, p, opts, r)
	default:
		return false, internalError("portal %q has a statement handle of unknown type %T", p.Name, h)
	}
}

// CloseStatement closes the statement where it was prepared. On the
// metadata database the Close goes out with the next request.
func (s *Session) CloseStatement(ctx context.Context, st *wire.Statement) error {
	if h, ok := st.Handle.(*metaStatement); ok {
		s.meta.closeStatement(h)
	}
	return nil
}

// ClosePortal closes the portal where it was bound, if it was. On the
// metadata database the Close goes out with the next request.
func (s *Session) ClosePortal(ctx context.Context, p *wire.Portal) error {
	if p.Statement != nil {
		if _, ok := p.Statement.Handle.(*metaStatement); !ok {
			return nil
		}
	}
	s.meta.closePortal(p)
	return nil
}

// Abort aborts the metadata database's transaction after the wire server
// rejected a message of the batch itself (see wire.Session.Abort). A
// failure is logged: it breaks the connection, which the next request
// reports.
func (s *Session) Abort(ctx context.Context, err error) {
	if aerr := s.meta.abort(ctx); aerr != nil {
		s.log.Warn("cannot abort the metadata transaction", "cause", err, "error", aerr)
	}
}

// Sync ends the extended-protocol batch on the metadata database: its
// implicit transaction commits, or rolls back after an error.
func (s *Session) Sync(ctx context.Context) error {
	return s.meta.sync(ctx)
}

// TxStatus is the metadata database's transaction status from its last
// ReadyForQuery: 'I', 'T' or 'E'.
func (s *Session) TxStatus() byte {
	return s.meta.txStatus
}

// Cancel sends a CancelRequest for the statement running on the metadata
// database, if one is. Safe from any goroutine.
func (s *Session) Cancel() {
	s.meta.cancelRunning()
}

// Close ends the session: it stops its goroutines and closes the metadata
// connection.
func (s *Session) Close() error {
	err := s.meta.close()
	s.log.Debug("session closed")
	return err
}
