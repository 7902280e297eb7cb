package executor

import (
	"context"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgfed/pgfed/wire"
)

// The session's SQL cursors live on the metadata database: DECLARE of a
// query naming no distributed table runs there unchanged, and a
// distributed query's cursor is declared there over its materialized
// rows (see declareDistributed). So FETCH, MOVE, CLOSE and WITH HOLD
// behave exactly as in PostgreSQL, and the session implements
// wire.Cursors (a DECLARE cursor is a portal too) by relaying to the
// metadata backend, which knows the cursor as a portal.

var _ wire.Cursors = (*Session)(nil)

// DescribeCursor describes a SQL cursor: Describe of the portal on the
// metadata backend. An unknown one is the backend's 34000, which aborts
// the transaction as in PostgreSQL.
func (s *Session) DescribeCursor(ctx context.Context, name string) ([]pgproto3.FieldDescription, error) {
	fields, err := s.meta.describePortal(ctx, name)
	return fields, clientError(err)
}

// ExecuteCursor fetches rows of a SQL cursor: Execute of the portal on the
// metadata backend, relayed.
func (s *Session) ExecuteCursor(ctx context.Context, name string, opts wire.ExecuteOptions, r wire.Results) (bool, error) {
	ctx, done := s.startStatement(ctx)
	defer done()
	// A State marks the portal as existing on the backend: no Bind.
	return s.meta.execute(ctx, nil, &wire.Portal{Name: name, State: metaPortal{}}, opts, r)
}

// CloseCursor closes a SQL cursor: a Close of the portal goes to the
// metadata backend with the next request (closing none is no error).
func (s *Session) CloseCursor(ctx context.Context, name string) error {
	s.meta.deferClose('P', name)
	return nil
}

// describePortal sends Describe of a portal and reads its description
// (nil for NoData). An error leaves the backend skipping to Sync.
func (m *metadataConn) describePortal(ctx context.Context, name string) ([]pgproto3.FieldDescription, error) {
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	defer m.finish()
	m.fe.SendDescribe(&pgproto3.Describe{ObjectType: 'P', Name: name})
	m.fe.Send(&pgproto3.Flush{})
	m.inBatch = true
	if err := m.flush(); err != nil {
		return nil, err
	}
	for {
		msg, err := m.receive()
		if err != nil {
			return nil, err
		}
		switch msg := msg.(type) {
		case *pgproto3.RowDescription:
			return cloneFields(msg.Fields), nil
		case *pgproto3.NoData:
			return nil, nil
		case *pgproto3.ErrorResponse:
			m.aborted = true
			return nil, backendError(msg)
		case *pgproto3.NoticeResponse, *pgproto3.ParameterStatus, *pgproto3.NotificationResponse:
			m.notify(msg)
		default:
			return nil, m.violation("while describing a portal", msg)
		}
	}
}
