// Command pgfed is the distributed PostgreSQL coordinator and its tools.
//
//	pgfed dev           a whole local cluster on this machine (make run)
//	pgfed coordinator   the PostgreSQL wire-protocol endpoint clients talk to
//	pgfed quorum check  whether a network of validators has intersecting quorums
//	pgfed validator     one organization's consensus validator
//	pgfed federation    a federation's keys and configurations (federation init), its benchmark
//	pgfed ledger        the federation validators' decision ledgers, compared
//	pgfed bench         pgfed against plain PostgreSQL on this machine
//	pgfed version       the version of this binary
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one subcommand: it parses its own flags from args and returns
// the process exit status.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() map[string]command {
	return map[string]command{
		"dev":         {"run a local cluster: metadata database, workers and coordinator", devMain},
		"coordinator": {"serve PostgreSQL clients in front of a metadata database and its workers", coordinatorMain},
		"quorum":      {"analyse a network of validators (quorum check FILE)", quorumMain},
		"validator":   {"run one organization's consensus validator (or: validator keygen)", validatorMain},
		"federation":  {"write a federation's keys and configurations (federation init); measure one (federation bench)", federationMain},
		"ledger":      {"read and compare the federation validators' decision ledgers", ledgerMain},
		"bench":       {"compare a pgfed cluster with one plain PostgreSQL (make bench)", benchMain},
		"version":     {"print the version", versionMain},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "pgfed: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: pgfed <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nrun 'pgfed <command> -h' for a command's flags")
}

func versionMain(_ context.Context, _ []string, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, "pgfed", version)
	return 0
}
