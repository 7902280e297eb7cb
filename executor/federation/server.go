package federation

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/pgfed/pgfed/consensus/commit"
)

// maxClients bounds the coordinators' connections served at once.
const maxClients = 4096

// server answers coordinators (see protocol.go): it checks a submitted
// request, hands it to the loop (which learns and broadcasts it), waits
// for its gid to be final, and answers the signed outcome.
type server struct {
	a   *App
	ln  net.Listener
	sem chan struct{}
	wg  sync.WaitGroup

	// dmu guards the digest of the decision ledger at slot dslot, kept
	// because a digest encodes the whole ledger.
	dmu    sync.Mutex
	dslot  uint64
	digest [32]byte
}

// run accepts until the listener is closed; it waits for its handlers.
func (s *server) run(ctx context.Context) {
	defer s.wg.Wait()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				s.a.log.Warn("client listener failed", "err", err)
			}
			return
		}
		select {
		case s.sem <- struct{}{}:
		default:
			writeFrame(conn, frameError, []byte("too many clients"))
			conn.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.sem }()
			s.serve(ctx, conn)
		}()
	}
}

func (s *server) serve(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	r := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	kind, body, err := readFrame(r)
	if err == nil && kind == frameLedger {
		s.serveLedger(conn, body)
		return
	}
	if err != nil || kind != frameSubmit || len(body) < 32 {
		return
	}
	conn.SetReadDeadline(time.Time{})
	nonce := body[:32]
	req, err := commit.DecodeRequest(body[32:])
	if err == nil {
		err = s.a.cfg.Membership.CheckRequest(&req)
	}
	if err != nil {
		writeFrame(conn, frameError, []byte(err.Error()))
		return
	}
	// The client closing its side ends the wait.
	var rwg sync.WaitGroup
	rwg.Add(1)
	go func() {
		defer rwg.Done()
		var b [1]byte
		r.Read(b[:])
		cancel()
	}()
	defer rwg.Wait()
	defer conn.Close() // unblocks the reader before the wait above
	if err := s.a.submitRequest(req); err != nil {
		writeFrame(conn, frameError, []byte(err.Error()))
		return
	}
	conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if writeFrame(conn, frameAccepted, nil) != nil {
		return
	}
	// First the decision as soon as it is final, then, for a COMMIT not
	// yet applied everywhere, again once it is.
	for _, wantApplied := range []bool{false, true} {
		f, applied, err := s.a.waitOutcome(ctx, req.GID, wantApplied)
		if err != nil {
			return
		}
		o := Outcome{GID: req.GID, Outcome: f.Decision.Outcome, Slot: f.Slot, Request: f.Decision.Request.Hash(), Applied: applied, Validator: s.a.id}
		conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if writeFrame(conn, frameOutcome, encodeOutcome(s.a.cfg.Membership.Network(), s.a.cfg.Key, nonce, &o)) != nil {
			return
		}
		if applied || o.Outcome != commit.Commit {
			return
		}
	}
}

// serveLedger answers a ledger query (frameLedger: nonce | u64 from |
// u32 limit) with a signed page or an error frame.
func (s *server) serveLedger(conn net.Conn, body []byte) {
	conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if len(body) != 32+8+4 {
		writeFrame(conn, frameError, []byte(fmt.Sprintf("ledger query of %d bytes", len(body))))
		return
	}
	nonce := body[:32]
	from := binary.BigEndian.Uint64(body[32:40])
	limit := binary.BigEndian.Uint32(body[40:44])
	if limit == 0 || limit > MaxLedgerLimit {
		writeFrame(conn, frameError, []byte(fmt.Sprintf("ledger query limit %d: must be 1 to %d", limit, MaxLedgerLimit)))
		return
	}
	p, err := s.ledgerPage(from, int(limit))
	if err != nil {
		s.a.log.Warn("ledger query failed", "from", from, "err", err)
		writeFrame(conn, frameError, []byte(err.Error()))
		return
	}
	writeFrame(conn, frameLedgerPage, encodeLedgerPage(s.a.cfg.Membership.Network(), s.a.cfg.Key, nonce, &p))
}

// ledgerPage reads up to limit slots with final decisions of the
// decision ledger from slot from on, or, with from 0, the last limit such
// slots; it reads at most maxLedgerScan slots of the validator's ledger
// and stops before the page would exceed maxLedgerPageBytes. A slot's
// final decisions are those of its externalized value that the decision
// ledger took (the first valid decision of each gid).
func (s *server) ledgerPage(from uint64, limit int) (LedgerPage, error) {
	a := s.a
	p := LedgerPage{Org: a.org, Validator: a.id}
	a.mu.Lock()
	p.Slot, p.Applied = a.ledger.Slot(), a.st.Applied
	s.dmu.Lock()
	if s.dslot != p.Slot || p.Slot == 0 {
		s.dslot, s.digest = p.Slot, a.ledger.Digest()
	}
	p.Digest = s.digest
	s.dmu.Unlock()
	a.mu.Unlock()

	size := len(ledgerPageContent(&p))
	var slots [][]LedgerDecision
	var tooBig uint64 // a slot that does not fit an empty page
	add := func(ds []LedgerDecision) bool {
		n := 0
		for i := range ds {
			n += len(appendLedgerDecision(nil, &ds[i]))
		}
		if size+n > maxLedgerPageBytes {
			if len(slots) == 0 {
				tooBig = ds[0].Slot
			}
			return false
		}
		size += n
		slots = append(slots, ds)
		return true
	}
	if from == 0 {
		// The most recent slots, read backwards.
		p.Next = p.Slot + 1
		for slot := p.Slot; slot > 0 && p.Slot-slot < maxLedgerScan && len(slots) < limit; slot-- {
			ds, err := s.slotDecisions(slot)
			if err != nil {
				return p, err
			}
			if len(ds) > 0 && !add(ds) {
				break
			}
		}
		for i, j := 0, len(slots)-1; i < j; i, j = i+1, j-1 {
			slots[i], slots[j] = slots[j], slots[i]
		}
	} else {
		p.Next = from
		for slot := from; slot <= p.Slot && slot-from < maxLedgerScan && len(slots) < limit; slot++ {
			ds, err := s.slotDecisions(slot)
			if err != nil {
				return p, err
			}
			if len(ds) > 0 && !add(ds) {
				break
			}
			p.Next = slot + 1
		}
	}
	if tooBig != 0 {
		return p, fmt.Errorf("federation: org %s: slot %d does not fit a ledger page", a.org, tooBig)
	}
	for _, ds := range slots {
		p.Decisions = append(p.Decisions, ds...)
	}
	return p, nil
}

// slotDecisions lists the final decisions of one slot of the decision
// ledger, sorted by gid (the order of the slot's value).
func (s *server) slotDecisions(slot uint64) ([]LedgerDecision, error) {
	a := s.a
	rec, ok, err := a.v.Ledger().Get(slot)
	if err != nil || !ok {
		return nil, fmt.Errorf("federation: org %s: slot %d: reading the ledger: %v", a.org, slot, err)
	}
	val, err := commit.DecodeValue(rec.Value)
	if err != nil {
		return nil, nil // an unreadable value decides nothing (Ledger.Apply)
	}
	var out []LedgerDecision
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range val.Decisions {
		f, ok := a.ledger.Decision(val.Decisions[i].GID())
		if !ok || f.Slot != slot {
			continue
		}
		d := LedgerDecision{Slot: slot, GID: f.Decision.GID(), Outcome: f.Decision.Outcome}
		for _, p := range f.Decision.Request.Participants {
			d.Orgs = append(d.Orgs, p.Org)
		}
		out = append(out, d)
	}
	return out, nil
}
