package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/pgfed/pgfed/executor/dtx"
	"github.com/pgfed/pgfed/executor/federation"
)

const (
	// ledgerQueryTimeout bounds the query of one validator.
	ledgerQueryTimeout = 10 * time.Second
	// ledgerAttempts and ledgerRetry: how often and how far apart the
	// validators are read until they stand at the same slot.
	ledgerAttempts = 10
	ledgerRetry    = 300 * time.Millisecond
)

// ledgerMain implements `pgfed ledger --federation FILE [--org ORG]
// [--limit N] [--from SLOT]`: it asks the federation's validators (the
// coordinator's federation file) for their decision ledgers, prints each
// one's last slot, slot applied and digest, whether they agree, and the
// decisions of the last --limit slots (or of --limit slots from --from).
// It exits with 1 when a validator cannot be read or two validators at
// the same slot hold different ledgers.
func ledgerMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pgfed ledger", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("federation", "", "the coordinators' federation file (pgfed federation init, or DIR/federation/coordinator.json of pgfed dev --orgs)")
	org := fs.String("org", "", "read only this organization's validator(s)")
	limit := fs.Int("limit", 20, fmt.Sprintf("slots with decisions to list (1..%d)", federation.MaxLedgerLimit))
	from := fs.Uint64("from", 0, "list the slots from this one on (0: the last --limit slots)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pgfed ledger --federation FILE [--org ORG] [--limit N] [--from SLOT]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *file == "" || fs.NArg() != 0 || *limit < 1 || *limit > federation.MaxLedgerLimit {
		fs.Usage()
		return 2
	}
	fed, err := loadCoordinatorFederation(*file)
	if err != nil {
		fmt.Fprintln(stderr, "pgfed ledger:", err)
		return 2
	}
	var vals []dtx.FederationValidator
	for _, v := range fed.Validators {
		if *org == "" || v.Org == *org {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		fmt.Fprintf(stderr, "pgfed ledger: %s names no validator of organization %q\n", *file, *org)
		return 2
	}
	// Validators a slot apart cannot compare digests: read again a few
	// times until they stand at the same slot (they catch up quickly).
	var pages []validatorPage
	for attempt := 0; ; attempt++ {
		pages = readLedgers(ctx, fed, vals, *from, *limit)
		if sameSlot(pages) || attempt == ledgerAttempts-1 || ctx.Err() != nil {
			break
		}
		time.Sleep(ledgerRetry)
	}
	if !printLedgers(stdout, pages) {
		return 1
	}
	return 0
}

// validatorPage is one validator's answer to a ledger query.
type validatorPage struct {
	val  dtx.FederationValidator
	page federation.LedgerPage
	err  error
}

// readLedgers queries the validators vals in parallel, each bounded by
// ledgerQueryTimeout.
func readLedgers(ctx context.Context, fed *dtx.Federation, vals []dtx.FederationValidator, from uint64, limit int) []validatorPage {
	eps := make([]federation.Endpoint, len(vals))
	for i, v := range vals {
		eps[i] = v.Endpoint
	}
	out := make([]validatorPage, len(vals))
	c, err := federation.NewClient(federation.ClientConfig{Membership: fed.Membership, Validators: eps})
	if err != nil {
		for i := range out {
			out[i] = validatorPage{val: vals[i], err: err}
		}
		return out
	}
	var wg sync.WaitGroup
	for i, v := range vals {
		wg.Add(1)
		go func() {
			defer wg.Done()
			qctx, cancel := context.WithTimeout(ctx, ledgerQueryTimeout)
			defer cancel()
			p, err := c.Ledger(qctx, v.Endpoint, from, limit)
			out[i] = validatorPage{val: v, page: p, err: err}
		}()
	}
	wg.Wait()
	return out
}

// sameSlot reports whether every validator read stands at the same slot.
func sameSlot(pages []validatorPage) bool {
	slots := map[uint64]bool{}
	for _, p := range pages {
		if p.err == nil {
			slots[p.page.Slot] = true
		}
	}
	return len(slots) <= 1
}

// printLedgers prints each validator's state, whether the ledgers agree,
// and the decisions of the most advanced validator's page. It reports
// false when a validator could not be read or two validators at the same
// slot disagree.
func printLedgers(w io.Writer, pages []validatorPage) bool {
	ok := true
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ORGANIZATION\tVALIDATOR\tSLOT\tAPPLIED\tLEDGER DIGEST")
	best := -1
	digests := map[uint64]map[string][]string{} // slot -> digest -> organizations
	for i, p := range pages {
		key := p.val.Endpoint.Key.Strkey()
		if p.err != nil {
			ok = false
			fmt.Fprintf(tw, "%s\t%s\t-\t-\tunreachable: %v\n", p.val.Org, shortKey(key), p.err)
			continue
		}
		d := hex.EncodeToString(p.page.Digest[:])
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", p.val.Org, shortKey(key), p.page.Slot, p.page.Applied, d)
		if digests[p.page.Slot] == nil {
			digests[p.page.Slot] = map[string][]string{}
		}
		digests[p.page.Slot][d] = append(digests[p.page.Slot][d], p.val.Org)
		if best < 0 || p.page.Slot > pages[best].page.Slot {
			best = i
		}
	}
	tw.Flush()
	for slot, byDigest := range digests {
		if len(byDigest) > 1 {
			ok = false
			var groups []string
			for d, orgs := range byDigest {
				groups = append(groups, fmt.Sprintf("%s: %s", strings.Join(orgs, ","), d[:16]))
			}
			fmt.Fprintf(w, "LEDGERS DIFFER at slot %d: %s\n", slot, strings.Join(groups, "; "))
		}
	}
	switch {
	case ok && len(digests) == 1 && len(pages) > 1:
		fmt.Fprintf(w, "the %d ledgers are identical\n", len(pages))
	case ok && len(pages) > 1:
		fmt.Fprintln(w, "the validators stand at different slots: their digests cannot be compared (run again)")
	}
	if best < 0 {
		return false
	}
	p := pages[best].page
	fmt.Fprintf(w, "\ndecisions from %s's validator (ledger at slot %d):\n", p.Org, p.Slot)
	if len(p.Decisions) == 0 {
		fmt.Fprintln(w, "  (none)")
		return ok
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SLOT\tGID\tDECISION\tPARTICIPANTS")
	for _, d := range p.Decisions {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", d.Slot, d.GID, d.Outcome, strings.Join(d.Orgs, ","))
	}
	tw.Flush()
	return ok
}

// shortKey abbreviates a validator key for a table.
func shortKey(k string) string {
	if len(k) > 12 {
		return k[:12] + "..."
	}
	return k
}
