package citus

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgerrcode"

	"github.com/pgfed/pgfed/executor/dtx"
	"github.com/pgfed/pgfed/executor/federation"
)

// ledgerQueryTimeout bounds the query of one validator's ledger.
const ledgerQueryTimeout = 5 * time.Second

func init() {
	register(
		&funcSpec{
			name:   "pgfed_ledger",
			params: []param{{name: "limit", typ: "int4", def: "20"}},
			columns: []column{{"organization", "text"}, {"slot", "int8"}, {"gid", "text"},
				{"decision", "text"}, {"participants", "text[]"}},
			run: ledgerRows,
		},
		&funcSpec{
			name: "pgfed_ledger_status",
			columns: []column{{"organization", "text"}, {"validator", "text"}, {"last_slot", "int8"},
				{"applied_slot", "int8"}, {"digest", "text"}, {"error", "text"}},
			run: ledgerStatus,
		},
	)
}

// ledgerPage is one organization's answer.
type ledgerPage struct {
	org  string
	val  dtx.FederationValidator
	page federation.LedgerPage
	err  error
}

// readLedgers asks one validator of each organization of the coordinator's
// federation (the first configured) for the decisions of its last limit
// slots, in parallel, each bounded by ledgerQueryTimeout.
func (r *runner) readLedgers(ctx context.Context, limit int) ([]ledgerPage, error) {
	fed := r.env.Coord.Federation()
	if fed == nil {
		return nil, errorf(pgerrcode.ObjectNotInPrerequisiteState, "this coordinator has no federation: its organizations' ledgers are unknown to it").
			withHint("Start the coordinator with --federation FILE (pgfed dev --orgs N does).")
	}
	var pages []ledgerPage
	seen := map[string]bool{}
	var eps []federation.Endpoint
	for _, v := range fed.Validators {
		eps = append(eps, v.Endpoint)
		if !seen[v.Org] {
			seen[v.Org] = true
			pages = append(pages, ledgerPage{org: v.Org, val: v})
		}
	}
	c, err := federation.NewClient(federation.ClientConfig{Membership: fed.Membership, Validators: eps})
	if err != nil {
		return nil, errorf(pgerrcode.InternalError, "federation client: %v", err)
	}
	var wg sync.WaitGroup
	for i := range pages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			qctx, cancel := context.WithTimeout(ctx, ledgerQueryTimeout)
			defer cancel()
			pages[i].page, pages[i].err = c.Ledger(qctx, pages[i].val.Endpoint, 0, limit)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return pages, nil
}

// ledgerRows is pgfed_ledger(limit): the final decisions of the last
// limit slots of every organization's ledger, as its validator signed
// them. An unreachable validator is reported in a NOTICE; when none
// answers, the call fails (08001).
func ledgerRows(ctx context.Context, r *runner, a []arg) ([][]*string, error) {
	limit, err := strconv.Atoi(a[0].str())
	if err != nil || limit < 1 || limit > federation.MaxLedgerLimit {
		return nil, errorf(pgerrcode.InvalidParameterValue, "pgfed_ledger limit %s: must be 1 to %d", a[0].str(), federation.MaxLedgerLimit)
	}
	pages, err := r.readLedgers(ctx, limit)
	if err != nil {
		return nil, err
	}
	var rows [][]*string
	var failed []string
	for _, p := range pages {
		if p.err != nil {
			failed = append(failed, p.org)
			r.notice(fmt.Sprintf("the ledger of organization %s could not be read from %s: %v", p.org, p.val.Endpoint.Addr, p.err), "")
			continue
		}
		for _, d := range p.page.Decisions {
			org, slot, gid, dec := p.org, strconv.FormatUint(d.Slot, 10), d.GID, d.Outcome.String()
			parts := "{" + strings.Join(d.Orgs, ",") + "}"
			rows = append(rows, []*string{&org, &slot, &gid, &dec, &parts})
		}
	}
	if len(failed) == len(pages) {
		return nil, errorf(pgerrcode.SQLClientUnableToEstablishSQLConnection, "no validator answered for the ledgers of %s", strings.Join(failed, ", "))
	}
	return rows, nil
}

// ledgerStatus is pgfed_ledger_status(): for every organization, its
// validator's key, last slot, last slot applied to its workers and the
// digest of its whole decision ledger (equal digests at equal slots:
// identical ledgers), or why it could not be read.
func ledgerStatus(ctx context.Context, r *runner, _ []arg) ([][]*string, error) {
	pages, err := r.readLedgers(ctx, 1)
	if err != nil {
		return nil, err
	}
	rows := make([][]*string, 0, len(pages))
	for _, p := range pages {
		org, key := p.org, p.val.Endpoint.Key.Strkey()
		if p.err != nil {
			msg := p.err.Error()
			rows = append(rows, []*string{&org, &key, nil, nil, nil, &msg})
			continue
		}
		slot, applied := strconv.FormatUint(p.page.Slot, 10), strconv.FormatUint(p.page.Applied, 10)
		digest := hex.EncodeToString(p.page.Digest[:])
		rows = append(rows, []*string{&org, &key, &slot, &applied, &digest, nil})
	}
	return rows, nil
}
