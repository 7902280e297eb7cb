package federation

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/consensus/transport"
)

// TestLedgerQuery: after some transfers (committed, and one aborted), the
// three validators answer ledger pages that agree with each other, with
// the outcomes their coordinators got, and with their digests; paging
// forward one slot at a time lists the same decisions as the page of the
// most recent slots; bad queries are refused.
func TestLedgerQuery(t *testing.T) {
	f := newFed(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	b1, b2, b3 := f.banks[0], f.banks[1], f.banks[2]

	type result struct {
		o    Outcome
		orgs []string
	}
	results := map[string]result{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		legs := []leg{{b1, 1 + i, -10}, {b2, 1 + i, 10}}
		orgs := []string{b1.org, b2.org}
		if i%3 == 2 {
			legs = []leg{{b2, 10 + i, -5}, {b3, 10 + i, 5}}
			orgs = []string{b2.org, b3.org}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			gid := f.newGID()
			o := f.commitTransfer(ctx, gid, nil, legs...)
			mu.Lock()
			results[gid] = result{o, orgs}
			mu.Unlock()
		}()
	}
	wg.Wait()
	gid := f.newGID()
	results[gid] = result{f.commitTransfer(ctx, gid, map[int]bool{1: true}, leg{b1, 15, -1}, leg{b3, 15, 1}), []string{b1.org, b3.org}}
	f.settled(ctx)

	endpoint := func(b *testBank) Endpoint { return Endpoint{Addr: b.cliAddr, Key: transport.NodeID(b.key)} }
	// The validators reach the same slot (the last decision may still be
	// on its way to one of them).
	var pages []LedgerPage
	f.eventually(ctx, "every validator's ledger at the same slot", func() bool {
		pages = pages[:0]
		for _, b := range f.banks {
			p, err := f.client.Ledger(ctx, endpoint(b), 0, MaxLedgerLimit)
			if err != nil {
				t.Fatalf("%s: %v", b.org, err)
			}
			pages = append(pages, p)
		}
		return pages[0].Slot == pages[1].Slot && pages[1].Slot == pages[2].Slot && pages[0].Applied == pages[0].Slot
	})
	for i, p := range pages {
		b := f.banks[i]
		if p.Org != b.org || p.Validator != transport.NodeID(b.key) || p.Next != p.Slot+1 {
			t.Fatalf("%s: page of %s signed by %s, next %d at slot %d", b.org, p.Org, p.Validator, p.Next, p.Slot)
		}
		if _, digest := b.app.Ledger(); digest != p.Digest {
			t.Fatalf("%s: page digest %x, ledger digest %x", b.org, p.Digest, digest)
		}
		if p.Digest != pages[0].Digest || !reflect.DeepEqual(p.Decisions, pages[0].Decisions) {
			t.Fatalf("%s's page differs from %s's:\n%+v\n%+v", b.org, pages[0].Org, p, pages[0])
		}
	}
	if len(pages[0].Decisions) != len(results) {
		t.Fatalf("%d decisions in the ledger, %d transfers: %+v", len(pages[0].Decisions), len(results), pages[0].Decisions)
	}
	for _, d := range pages[0].Decisions {
		r, ok := results[d.GID]
		if !ok || d.Slot != r.o.Slot || d.Outcome != r.o.Outcome || !reflect.DeepEqual(d.Orgs, r.orgs) {
			t.Fatalf("ledger decision %+v, coordinator got %+v for %v", d, r.o, r.orgs)
		}
	}
	if results[gid].o.Outcome != commit.Abort {
		t.Fatalf("the transfer left unprepared was decided %v", results[gid].o.Outcome)
	}
	t.Logf("%d decisions in %d slots, ledger at slot %d", len(pages[0].Decisions), pageSlots(pages[0].Decisions), pages[0].Slot)

	// Forward, one slot with decisions per page.
	var all []LedgerDecision
	for from := uint64(1); from <= pages[0].Slot; {
		p, err := f.client.Ledger(ctx, endpoint(b3), from, 1)
		if err != nil {
			t.Fatal(err)
		}
		if pageSlots(p.Decisions) > 1 || p.Next <= from {
			t.Fatalf("page from %d: %d slots, next %d", from, pageSlots(p.Decisions), p.Next)
		}
		all = append(all, p.Decisions...)
		from = p.Next
	}
	if !reflect.DeepEqual(all, pages[0].Decisions) {
		t.Fatalf("paging forward: %+v, want %+v", all, pages[0].Decisions)
	}
	// The most recent slot alone.
	last, err := f.client.Ledger(ctx, endpoint(b2), 0, 1)
	if err != nil || pageSlots(last.Decisions) != 1 || last.Decisions[0].Slot != pages[0].Decisions[len(pages[0].Decisions)-1].Slot {
		t.Fatalf("last slot: %+v, %v", last, err)
	}
	// Past the end: empty, next where asked.
	if p, err := f.client.Ledger(ctx, endpoint(b1), pages[0].Slot+5, 10); err != nil || len(p.Decisions) != 0 || p.Next != pages[0].Slot+5 {
		t.Fatalf("past the end: %+v, %v", p, err)
	}
	// Bad queries.
	if _, err := f.client.Ledger(ctx, endpoint(b1), 1, 0); err == nil {
		t.Fatal("limit 0 accepted")
	}
	if _, err := f.client.Ledger(ctx, endpoint(b1), 1, MaxLedgerLimit+1); err == nil {
		t.Fatal("limit beyond MaxLedgerLimit accepted")
	}
	wrong := endpoint(b1)
	wrong.Key = transport.NodeID(b2.key)
	if _, err := f.client.Ledger(ctx, wrong, 0, 10); !errors.Is(err, ErrBadLedgerPage) {
		t.Fatalf("page signed by another key than expected: %v", err)
	}
}
