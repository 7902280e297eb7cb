package federation

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/consensus/transport"
)

// TestBankTransfers: concurrent transfers between accounts at three
// banks for a bounded time, some of them failing on purpose (a part left
// unprepared) or by lock timeouts. Afterwards: the sum of balances is
// unchanged, every transfer acknowledged COMMIT is applied exactly once at
// both banks and every ABORT at neither, each account's balance matches its
// transfer rows, every bank's ledger is identical, and no prepared
// transaction is left.
func TestBankTransfers(t *testing.T) {
	f := newFed(t, 3)
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	const (
		coordinators = 6
		runFor       = 8 * time.Second
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	type transfer struct {
		gid  string
		legs []leg
		o    Outcome
		err  error
	}
	var (
		mu        sync.Mutex
		transfers []transfer
		skipped   int
	)
	deadline := time.Now().Add(runFor)
	var wg sync.WaitGroup
	for g := 0; g < coordinators; g++ {
		rng := rand.New(rand.NewSource(seed + int64(g)))
		var eps []Endpoint
		for i := range f.banks {
			b := f.banks[(g+i)%len(f.banks)]
			eps = append(eps, Endpoint{Addr: b.cliAddr, Key: transport.NodeID(b.key)})
		}
		client, err := NewClient(ClientConfig{Membership: f.m, Validators: eps, Retry: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				i := rng.Intn(len(f.banks))
				j := (i + 1 + rng.Intn(len(f.banks)-1)) % len(f.banks)
				amt := int64(1 + rng.Intn(50))
				gid := f.newGID()
				legs := []leg{{f.banks[i], 1 + rng.Intn(testAccounts), -amt}, {f.banks[j], 1 + rng.Intn(testAccounts), amt}}
				r := f.request(gid, legs...)
				// Even coordinators submit before they prepare, as the
				// coordinator path will; odd ones prepare first.
				submitted := g%2 == 0
				if submitted {
					if err := client.Submit(ctx, r); err != nil {
						t.Errorf("%s: submit: %v", gid, err)
						return
					}
				}
				// The source leg first: if it cannot be prepared, the
				// other is not (a submitted request then aborts).
				if err := f.prepare(ctx, gid, legs[0]); err != nil && !submitted {
					mu.Lock()
					skipped++
					mu.Unlock()
					continue
				}
				// One in ten leaves its destination unprepared (ABORT after
				// the timeout); a lock timeout does the same.
				if rng.Intn(10) != 0 {
					_ = f.prepare(ctx, gid, legs[1])
				}
				cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
				o, err := client.Commit(cctx, r)
				ccancel()
				if err == nil && o.Outcome == commit.Commit {
					// Acknowledged: visible at both banks already.
					for _, l := range legs {
						if ok, herr := hasRow(ctx, l.bank, gid); herr != nil || !ok {
							err = fmt.Errorf("acknowledged COMMIT not visible at %s: row %v, %v", l.bank.org, ok, herr)
						}
					}
				}
				mu.Lock()
				transfers = append(transfers, transfer{gid: gid, legs: legs, o: o, err: err})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var commits, aborts int
	for _, tr := range transfers {
		switch {
		case tr.err != nil:
			t.Errorf("%s: %v", tr.gid, tr.err)
		case tr.o.Outcome == commit.Commit:
			commits++
		default:
			aborts++
		}
	}
	t.Logf("seed %d: %d transfers: %d COMMIT, %d ABORT, %d not started (lock timeouts)", seed, len(transfers), commits, aborts, skipped)
	if commits == 0 {
		t.Fatal("no transfer committed")
	}

	f.settled(ctx)
	f.sameLedgers(ctx)

	// Every bank's transfer rows and balances.
	rows := make([]map[string]transferRow, len(f.banks))
	var total int64
	for bi, b := range f.banks {
		var sum int64
		rows[bi], sum = f.readBank(ctx, t, b, seed)
		total += sum
	}
	if want := int64(len(f.banks) * testAccounts * testBalance); total != want {
		t.Errorf("seed %d: total balance %d, want %d", seed, total, want)
	}
	bankIndex := func(b *testBank) int {
		for i := range f.banks {
			if f.banks[i] == b {
				return i
			}
		}
		return -1
	}
	seen := make([]map[string]bool, len(f.banks))
	for i := range seen {
		seen[i] = map[string]bool{}
	}
	for _, tr := range transfers {
		for _, l := range tr.legs {
			bi := bankIndex(l.bank)
			r, ok := rows[bi][tr.gid]
			seen[bi][tr.gid] = true
			switch {
			case tr.err != nil:
			case tr.o.Outcome == commit.Commit && (!ok || r.account != l.account || r.delta != l.delta):
				t.Errorf("seed %d: %s acknowledged COMMIT, but %s has row %v (%+v)", seed, tr.gid, l.bank.org, ok, r)
			case tr.o.Outcome == commit.Abort && ok:
				t.Errorf("seed %d: %s aborted, but %s has its row", seed, tr.gid, l.bank.org)
			}
		}
	}
	for bi, rs := range rows {
		for gid := range rs {
			if !seen[bi][gid] {
				t.Errorf("seed %d: %s has a row of %s, which no transfer made", seed, f.banks[bi].org, gid)
			}
		}
	}
	if t.Failed() {
		t.Fatal(errors.New("bank invariants broken"))
	}
}

// hasRow reports whether gid's transfer row is visible at bank b.
func hasRow(ctx context.Context, b *testBank, gid string) (bool, error) {
	c, err := b.server.Connect(ctx, "postgres")
	if err != nil {
		return false, err
	}
	defer c.Close(context.Background())
	var n int
	err = c.QueryRow(ctx, "SELECT count(*) FROM transfers WHERE gid = $1", gid).Scan(&n)
	return n == 1, err
}
