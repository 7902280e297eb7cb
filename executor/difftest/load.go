package difftest

import (
	"bytes"
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ExecScript runs each statement of script on conn, stopping at the first
// error, which names the statement's line.
func ExecScript(ctx context.Context, conn *pgx.Conn, name, script string) error {
	for _, st := range Statements(script) {
		if _, err := conn.Exec(ctx, st.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("%s:%d: %w", name, st.Line, err)
		}
	}
	return nil
}

// LoadData copies every table's rows into conn's database with COPY FROM
// STDIN (text format), then runs ANALYZE.
func LoadData(ctx context.Context, conn *pgx.Conn, tables []Table) error {
	for _, t := range tables {
		tag, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(t.CopyData()), t.Copy())
		if err != nil {
			return fmt.Errorf("load %s: %w", t.Name, err)
		}
		if tag.RowsAffected() != int64(len(t.Rows)) {
			return fmt.Errorf("load %s: copied %d rows, want %d", t.Name, tag.RowsAffected(), len(t.Rows))
		}
	}
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}
