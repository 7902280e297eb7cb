package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/pgfed/pgfed/consensus/quorum"
)

// maxNetworkFile bounds the network description quorum check reads.
const maxNetworkFile = 64 << 20

// quorumMain implements `pgfed quorum check [--json] FILE`: it reads a
// network in the stellarbeat JSON format and reports whether all its quorums
// intersect (exit 0), two disjoint quorums (exit 1) or that there is no
// quorum at all (exit 2). Unreadable or malformed input, bad usage and an
// interrupted check exit 3. The logic lives in quorum.Check.
func quorumMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		quorumUsage(stderr)
		return 0
	}
	if len(args) == 0 || args[0] != "check" {
		quorumUsage(stderr)
		return quorum.ExitBadInput
	}
	fs := flag.NewFlagSet("pgfed quorum check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print a machine-readable report, with the minimal quorums, blocking sets and splitting sets of networks of at most "+fmt.Sprint(quorum.MaxDetailNodes)+" nodes")
	fs.Usage = func() { quorumUsage(stderr); fs.PrintDefaults() }
	// Accept flags before and after the file name.
	var files []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return quorum.ExitBadInput
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		quorumUsage(stderr)
		return quorum.ExitBadInput
	}
	data, err := readNetworkFile(files[0])
	if err != nil {
		fmt.Fprintf(stderr, "pgfed quorum check: %v\n", err)
		return quorum.ExitBadInput
	}
	report, code := quorum.Check(ctx, data)
	if report.Error != "" {
		fmt.Fprintf(stderr, "pgfed quorum check: %s: %s\n", files[0], report.Error)
	}
	if *asJSON {
		err = report.WriteJSON(stdout)
	} else if report.Error == "" {
		err = report.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "pgfed quorum check: %v\n", err)
		return quorum.ExitBadInput
	}
	return code
}

func readNetworkFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxNetworkFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxNetworkFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxNetworkFile)
	}
	return data, nil
}

func quorumUsage(w io.Writer) {
	fmt.Fprintln(w, `usage: pgfed quorum check [--json] FILE

FILE is a JSON array of nodes in the stellarbeat.io format:
  [{"publicKey": "G..." or 64 hex digits, "name": "...",
    "quorumSet": {"threshold": 2, "validators": [...], "innerQuorumSets": [...]}}, ...]

exit status: 0 all quorums intersect, 1 two disjoint quorums exist,
2 there is no quorum at all, 3 bad usage, bad input or interrupted`)
}
