package executor

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgfed/pgfed/wire"
)

func TestBackendErrorKeepsEveryField(t *testing.T) {
	in := &pgproto3.ErrorResponse{
		Severity: "ERREUR", SeverityUnlocalized: "ERROR", Code: pgerrcode.UniqueViolation,
		Message: "m", Detail: "d", Hint: "h", Position: 3, InternalPosition: 4, InternalQuery: "iq",
		Where: "w", SchemaName: "s", TableName: "t", ColumnName: "c", DataTypeName: "dt",
		ConstraintName: "cn", File: "f.c", Line: 42, Routine: "r",
	}
	want := wire.Error{
		Severity: "ERROR", Code: pgerrcode.UniqueViolation,
		Message: "m", Detail: "d", Hint: "h", Position: 3, InternalPosition: 4, InternalQuery: "iq",
		Where: "w", SchemaName: "s", TableName: "t", ColumnName: "c", DataTypeName: "dt",
		ConstraintName: "cn", File: "f.c", Line: 42, Routine: "r",
	}
	if got := backendError(in); *got != want {
		t.Fatalf("got %+v\nwant %+v", *got, want)
	}
	// A server too old to send the unlocalized severity.
	in.SeverityUnlocalized, in.Severity = "", "FATAL"
	if got := backendError(in); !isFatal(got) {
		t.Fatalf("severity %q is not fatal", got.Severity)
	}
}

func TestConnectError(t *testing.T) {
	refused := connectError(&pgconn.PgError{Severity: "FATAL", Code: pgerrcode.InvalidCatalogName, Message: `database "x" does not exist`})
	if refused.Code != pgerrcode.InvalidCatalogName || !isFatal(refused) || !strings.Contains(refused.Message, `"x"`) {
		t.Fatalf("server refusal: %+v", refused)
	}
	unreachable := connectError(errors.New("dial tcp 127.0.0.1:1: connection refused"))
	if unreachable.Code != pgerrcode.SQLClientUnableToEstablishSQLConnection || !isFatal(unreachable) || !strings.Contains(unreachable.Message, "connection refused") {
		t.Fatalf("unreachable server: %+v", unreachable)
	}
	lost := connectionLost(io.ErrUnexpectedEOF)
	if lost.Code != pgerrcode.ConnectionFailure || !isFatal(lost) || !strings.Contains(lost.Message, "unexpected EOF") {
		t.Fatalf("lost connection: %+v", lost)
	}
}
