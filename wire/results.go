package wire

import (
	"fmt"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgproto3"
)

// results is the Results of one session call. Send buffers in the
// connection's writer, which flushes past flushThreshold so that large
// results stream; ReceiveCopy reads the client's COPY messages.
type results struct {
	c      *conn
	copyIn bool // CopyInResponse sent, CopyDone or CopyFail not yet received
}

// Send implements Results.
func (r *results) Send(msg pgproto3.BackendMessage) error {
	switch msg.(type) {
	case *pgproto3.ReadyForQuery, *pgproto3.ErrorResponse:
		// The server sends these itself; an error goes back as a
		// returned error.
		return fmt.Errorf("wire: Results.Send: %T is sent by the server", msg)
	case *pgproto3.CopyInResponse:
		r.copyIn = true
	}
	return r.c.w.send(msg)
}

// ReceiveCopy implements Results. It flushes what is buffered (so the client
// sees CopyInResponse), then returns the next CopyData, CopyDone or CopyFail,
// skipping Flush and Sync as PostgreSQL does during COPY FROM STDIN.
func (r *results) ReceiveCopy() (pgproto3.FrontendMessage, error) {
	if !r.copyIn {
		return nil, &Error{Code: pgerrcode.ProtocolViolation, Message: "ReceiveCopy called outside COPY FROM STDIN"}
	}
	if err := r.c.w.flush(); err != nil {
		return nil, err
	}
	for {
		msg, err := r.c.r.receive()
		if err != nil {
			r.c.readErr = err
			r.copyIn = false
			return nil, err
		}
		switch msg.(type) {
		case *pgproto3.CopyData:
			return msg, nil
		case *pgproto3.CopyDone, *pgproto3.CopyFail:
			r.copyIn = false
			return msg, nil
		case *pgproto3.Flush, *pgproto3.Sync:
			continue
		case *pgproto3.Terminate:
			r.c.readErr = errTerminate
			r.copyIn = false
			return nil, errTerminate
		default:
			r.copyIn = false
			return nil, &Error{
				Code:    pgerrcode.ProtocolViolation,
				Message: fmt.Sprintf("unexpected message type 0x%02X during COPY from stdin", msgType(msg)),
			}
		}
	}
}

// msgType returns the type byte of a frontend message.
func msgType(msg pgproto3.FrontendMessage) byte {
	b, err := msg.Encode(nil)
	if err != nil || len(b) == 0 {
		return 0
	}
	return b[0]
}

// isEmptyQuery reports whether sql is nothing but whitespace, which
// PostgreSQL answers with EmptyQueryResponse.
func isEmptyQuery(sql string) bool {
	return strings.Trim(sql, " \t\n\r\f\v") == ""
}
