package main

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// status is what became of one transfer, as its client saw it.
type status uint8

const (
	// committed: COMMIT acknowledged; it must be at both banks.
	committed status = iota
	// declined: the debited account had too little; rolled back by the
	// client.
	declined
	// aborted: the transaction failed with an error that guarantees it
	// did not commit (40001 serialization failure: the validators decided
	// ABORT, 40P01 deadlock, or any error before COMMIT).
	aborted
	// unknown: the outcome was not known to the client (40003, or the
	// connection broke during COMMIT); the transfer is at both banks or at
	// neither.
	unknown
)

// errDeclined: the debit found too little money.
var errDeclined = errors.New("insufficient funds")

// leg is one side of a transfer.
type leg struct {
	bank    string
	account int64
	debit   bool
}

// transferTx runs one transfer of amount from legs[0] (debit) to legs[1]
// (credit) in one transaction. The two accounts are updated in (bank,
// account) order, so that concurrent transfers lock them in the same order.
func transferTx(ctx context.Context, c *pgx.Conn, id, amount int64, from, to leg) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	legs := []leg{from, to}
	if to.bank < from.bank || to.bank == from.bank && to.account < from.account {
		legs[0], legs[1] = to, from
	}
	for _, l := range legs {
		if l.debit {
			tag, err := tx.Exec(ctx, "UPDATE accounts SET balance = balance - $1 WHERE bank = $2 AND id = $3 AND balance >= $1", amount, l.bank, l.account)
			if err != nil {
				return err
			}
			if tag.RowsAffected() != 1 {
				return errDeclined
			}
			continue
		}
		tag, err := tx.Exec(ctx, "UPDATE accounts SET balance = balance + $1 WHERE bank = $2 AND id = $3", amount, l.bank, l.account)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("account %d of bank %s not found", l.account, l.bank)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO transfers (bank, transfer_id, side, account, amount, other_bank, other_account)
		VALUES ($1, $2, 'debit', $3, $4, $5, $6), ($5, $2, 'credit', $6, $7, $1, $3)`,
		from.bank, id, from.account, -amount, to.bank, to.account, amount); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// newTransferID draws a transfer id from the system's random source
// (not the seeded one: a run repeated with the same --seed must not reuse
// the ids of the transfers already in the books).
func newTransferID() int64 {
	var b [8]byte
	crand.Read(b[:])
	return int64(binary.BigEndian.Uint64(b[:]) >> 1)
}

// attempt is one transfer a client tried.
type attempt struct {
	id      int64
	cross   bool
	status  status
	latency time.Duration
}

// transfer runs cfg.clients clients for cfg.duration and gathers what
// they saw.
func transfer(ctx context.Context, cfg config, banks []string) (*report, error) {
	deadline := time.Now().Add(cfg.duration)
	type result struct {
		attempts []attempt
		errs     map[string]int
		first    string
		err      error
	}
	results := make([]result, cfg.clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < cfg.clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := &results[i]
			res.errs = map[string]int{}
			rng := rand.New(rand.NewSource(cfg.seed + int64(i)))
			c, err := connect(ctx, cfg.dsn)
			if err != nil {
				res.err = err
				return
			}
			defer func() { c.Close(context.Background()) }()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if c.IsClosed() {
					if c, err = connect(ctx, cfg.dsn); err != nil {
						res.err = err
						return
					}
				}
				a := attempt{id: newTransferID()}
				fb := rng.Intn(len(banks))
				tb := fb
				a.cross = len(banks) > 1 && rng.Float64() < cfg.crossBank
				if a.cross {
					tb = (fb + 1 + rng.Intn(len(banks)-1)) % len(banks)
				}
				fa := 1 + rng.Int63n(int64(cfg.accounts))
				ta := 1 + rng.Int63n(int64(cfg.accounts))
				for !a.cross && ta == fa {
					ta = 1 + rng.Int63n(int64(cfg.accounts))
				}
				amount := 1 + rng.Int63n(cfg.maxAmount)
				t0 := time.Now()
				err := transferTx(ctx, c, a.id, amount, leg{banks[fb], fa, true}, leg{banks[tb], ta, false})
				a.latency = time.Since(t0)
				var pe *pgconn.PgError
				switch {
				case err == nil:
					a.status = committed
				case errors.Is(err, errDeclined):
					a.status = declined
				case errors.As(err, &pe) && pe.Code != "40003":
					a.status = aborted
					res.errs[pe.Code]++
					if res.first == "" && pe.Code != "40001" && pe.Code != "40P01" {
						res.first = pe.Code + ": " + pe.Message
					}
				default:
					// 40003, a broken connection or a cancelled context:
					// the COMMIT may have been decided.
					a.status = unknown
					code := "connection"
					if pe != nil {
						code = pe.Code
					} else if res.first == "" {
						res.first = err.Error()
					}
					res.errs[code]++
				}
				res.attempts = append(res.attempts, a)
			}
		}()
	}
	wg.Wait()
	rep := &report{Elapsed: time.Since(start), Aborts: map[string]int{}, attempts: map[int64]status{}}
	var lat, latCross, latSame []time.Duration
	for _, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		for code, n := range r.errs {
			rep.Aborts[code] += n
		}
		if rep.FirstError == "" {
			rep.FirstError = r.first
		}
		for _, a := range r.attempts {
			if _, dup := rep.attempts[a.id]; dup {
				return nil, fmt.Errorf("transfer id %d drawn twice", a.id)
			}
			rep.attempts[a.id] = a.status
			switch a.status {
			case committed:
				rep.Committed++
				lat = append(lat, a.latency)
				if a.cross {
					rep.CrossCommitted++
					latCross = append(latCross, a.latency)
				} else {
					latSame = append(latSame, a.latency)
				}
			case declined:
				rep.Declined++
			case aborted:
				rep.Aborted++
			case unknown:
				rep.Unknown++
			}
		}
	}
	rep.All, rep.Cross, rep.Same = percentiles(lat), percentiles(latCross), percentiles(latSame)
	return rep, nil
}

// latency is the p50 and p99 of some commit latencies.
type latency struct {
	N        int
	P50, P99 time.Duration
}

func percentiles(d []time.Duration) latency {
	if len(d) == 0 {
		return latency{}
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	at := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	return latency{N: len(d), P50: at(0.50), P99: at(0.99)}
}
