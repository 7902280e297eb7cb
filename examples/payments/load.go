package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// connect opens a connection with pgx's default, the extended protocol
// with statements prepared once: the coordinator routes a statement on an
// organization table by the organization its parameters name, at Bind.
func connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("--dsn: %w", err)
	}
	c, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", cc.Host, err)
	}
	return c, nil
}

// prepare creates the schema when it is missing, records the banks (the
// organizations that have workers) and loads cfg.accounts accounts at
// every bank that has none. It returns the banks, sorted.
func prepare(ctx context.Context, c *pgx.Conn, cfg config) ([]string, error) {
	var exists bool
	if err := c.QueryRow(ctx, "SELECT to_regclass('accounts') IS NOT NULL").Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		for _, stmt := range statements(schemaSQL) {
			if _, err := c.Exec(ctx, stmt); err != nil {
				return nil, fmt.Errorf("schema: %s: %w", firstLine(stmt), err)
			}
		}
	}
	rows, err := c.Query(ctx, "SELECT name FROM pgfed_organizations WHERE node_count > 0 ORDER BY name")
	if err != nil {
		return nil, err
	}
	banks, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	if len(banks) == 0 {
		return nil, fmt.Errorf("no organization has workers: start a federation (pgfed dev --orgs 3) or register organizations with pgfed_add_organization and pgfed_set_node_organization")
	}
	for _, b := range banks {
		if _, err := c.Exec(ctx, "INSERT INTO banks VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", b, "Bank "+b); err != nil {
			return nil, fmt.Errorf("bank %s: %w", b, err)
		}
		var n int64
		if err := c.QueryRow(ctx, "SELECT count(*) FROM accounts WHERE bank = $1", b).Scan(&n); err != nil {
			return nil, fmt.Errorf("bank %s: %w", b, err)
		}
		if n == 0 {
			if err := loadAccounts(ctx, c, b, cfg.accounts, cfg.balance); err != nil {
				return nil, fmt.Errorf("bank %s: loading accounts: %w", b, err)
			}
		} else if n < int64(cfg.accounts) {
			return nil, fmt.Errorf("bank %s has %d accounts, fewer than --accounts %d", b, n, cfg.accounts)
		}
	}
	return banks, nil
}

// loadAccounts inserts accounts 1..n of a bank in multi-row INSERTs.
func loadAccounts(ctx context.Context, c *pgx.Conn, bank string, n int, balance int64) error {
	const batch = 500
	lit := quote(bank)
	for first := 1; first <= n; first += batch {
		var b strings.Builder
		b.WriteString("INSERT INTO accounts (bank, id, owner, balance) VALUES ")
		for id := first; id < first+batch && id <= n; id++ {
			if id > first {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "(%s, %d, %s, %d)", lit, id, quote(fmt.Sprintf("customer %d of %s", id, bank)), balance)
		}
		if _, err := c.Exec(ctx, b.String()); err != nil {
			return err
		}
	}
	return nil
}

// quote makes a SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// statements splits a SQL script made of statements that end a line with
// ';' (no ';' inside literals), dropping comment lines.
func statements(script string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(script, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// bookState is the bank-wide state the check compares: every account's
// balance summed, and the transfer rows.
type bookState struct {
	accounts int64
	total    int64
}

// books reads the number of accounts and the total balance.
func books(ctx context.Context, c *pgx.Conn) (bookState, error) {
	var s bookState
	err := c.QueryRow(ctx, "SELECT count(*), coalesce(sum(balance), 0)::bigint FROM accounts").Scan(&s.accounts, &s.total)
	return s, err
}

// transferRows returns, for every transfer id in the transfers table, the
// number of its rows and the sum of their amounts (a complete transfer has
// two rows, its debit and its credit, summing to zero).
func transferRows(ctx context.Context, c *pgx.Conn) (map[int64][2]int64, error) {
	rows, err := c.Query(ctx, "SELECT transfer_id, count(*), sum(amount)::bigint FROM transfers GROUP BY transfer_id")
	if err != nil {
		return nil, err
	}
	out := map[int64][2]int64{}
	var id, n, sum int64
	_, err = pgx.ForEachRow(rows, []any{&id, &n, &sum}, func() error {
		out[id] = [2]int64{n, sum}
		return nil
	})
	return out, err
}
