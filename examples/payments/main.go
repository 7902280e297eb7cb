// Command payments is a small payment application on a pgfed federation:
// it loads accounts at every bank (every organization of the federation),
// then issues random transfers from concurrent clients — some within a
// bank, some between two banks — each one ordinary SQL transaction:
//
//	BEGIN;
//	UPDATE accounts SET balance = balance - 25 WHERE bank = 'org1' AND id = 7 AND balance >= 25;
//	UPDATE accounts SET balance = balance + 25 WHERE bank = 'org2' AND id = 3;
//	INSERT INTO transfers VALUES ('org1', 42, 'debit', ...), ('org2', 42, 'credit', ...);
//	COMMIT;
//
// Between two banks the coordinator prepares both banks' parts and the
// banks' validators decide the COMMIT; a transfer they abort comes back
// as SQLSTATE 40001 (or 40003 when the decision was not known in time).
// At the end it reports throughput, p50/p99 commit latency and the aborts,
// and checks that the total balance did not change and that every
// transfer left exactly its debit and its credit row.
//
//	go run ./examples/payments --dsn postgres://postgres@127.0.0.1:6432/postgres \
//	    --clients 8 --duration 30s --cross-bank-ratio 0.5
//
// The schema is examples/payments/schema.sql (created when missing). The
// statements go with pgx's extended protocol, prepared once with their
// values as parameters ($1, $2, ...): the coordinator routes each one to
// the bank its parameters name, and that bank alone.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

//go:embed schema.sql
var schemaSQL string

// config is the command line.
type config struct {
	dsn       string
	clients   int
	duration  time.Duration
	crossBank float64
	accounts  int
	balance   int64
	maxAmount int64
	seed      int64
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(runMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("payments", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.StringVar(&cfg.dsn, "dsn", "postgres://postgres@127.0.0.1:6432/postgres?sslmode=disable", "the coordinator's connection string")
	fs.IntVar(&cfg.clients, "clients", 8, "concurrent clients, one connection each")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long the clients transfer")
	fs.Float64Var(&cfg.crossBank, "cross-bank-ratio", 0.5, "fraction of the transfers between two banks (the others stay within one bank)")
	fs.IntVar(&cfg.accounts, "accounts", 100, "accounts per bank, loaded when the bank has none")
	fs.Int64Var(&cfg.balance, "balance", 1000, "opening balance of a loaded account")
	fs.Int64Var(&cfg.maxAmount, "max-amount", 100, "largest amount of a transfer")
	fs.Int64Var(&cfg.seed, "seed", 0, "random seed (0: from the clock)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := cfg.validate(); err != nil || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "payments:", err)
		fs.Usage()
		return 2
	}
	rep, err := run(ctx, cfg, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "payments:", err)
		return 1
	}
	rep.print(stdout)
	if !rep.Consistent {
		return 1
	}
	return 0
}

func (c *config) validate() error {
	switch {
	case c.clients < 1 || c.clients > 1000:
		return errors.New("--clients must be between 1 and 1000")
	case c.duration <= 0:
		return errors.New("--duration must be positive")
	case c.crossBank < 0 || c.crossBank > 1:
		return errors.New("--cross-bank-ratio must be between 0 and 1")
	case c.accounts < 2 || c.accounts > 1_000_000:
		return errors.New("--accounts must be between 2 and 1000000")
	case c.balance < 1 || c.maxAmount < 1:
		return errors.New("--balance and --max-amount must be positive")
	}
	if c.seed == 0 {
		c.seed = time.Now().UnixNano()
	}
	return nil
}

// run prepares the schema and the accounts, runs the clients for the
// configured duration and checks the books.
func run(ctx context.Context, cfg config, progress io.Writer) (*report, error) {
	setup, err := connect(ctx, cfg.dsn)
	if err != nil {
		return nil, err
	}
	defer setup.Close(context.Background())
	banks, err := prepare(ctx, setup, cfg)
	if err != nil {
		return nil, err
	}
	before, err := books(ctx, setup)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "payments: %d banks (%v), %d accounts, total balance %d; %d clients for %s, %.0f%% cross-bank, seed %d\n",
		len(banks), banks, before.accounts, before.total, cfg.clients, cfg.duration, cfg.crossBank*100, cfg.seed)
	rep, err := transfer(ctx, cfg, banks)
	if err != nil {
		return nil, err
	}
	rep.Before = before
	if err := rep.check(ctx, setup); err != nil {
		return nil, err
	}
	return rep, nil
}
