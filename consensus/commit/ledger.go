package commit

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"

	"github.com/pgfed/pgfed/consensus"
)

// Ledger errors.
var (
	// ErrSlotOrder: Apply was given a slot other than the next one.
	ErrSlotOrder = errors.New("commit: slot applied out of order")
	// ErrSnapshot: a snapshot does not decode or is inconsistent.
	ErrSnapshot = errors.New("commit: bad ledger snapshot")
)

// Final is the decision of a gid that the ledger made final, and the slot
// that externalized it.
type Final struct {
	Slot     uint64
	Decision Decision
}

// Ignored is a decision of an externalized value that the ledger did not
// take: its gid was already final (FirstSlot tells since when), or it
// failed CheckDecision (Err tells why).
type Ignored struct {
	GID       string
	Outcome   Outcome
	FirstSlot uint64
	Err       error
}

// Action is what one organization must do to its own workers for a final
// decision: COMMIT PREPARED (Outcome Commit) or ROLLBACK PREPARED (Abort)
// of each of its Parts, idempotently. Any other prepared worker gid owned
// by GID (PartOwner) that the organization finds on its workers — left by
// a coordinator that signed two requests for one gid — is rolled back:
// see Ledger.Resolve.
type Action struct {
	Slot    uint64
	GID     string
	Outcome Outcome
	// Request is the hash of the decided request.
	Request consensus.Hash
	// Parts are the organization's parts in the decided request.
	Parts []Part
}

// Applied reports what one slot changed.
type Applied struct {
	Slot uint64
	// Final are the decisions that became final, sorted by gid.
	Final []Decision
	// Ignored are the other decisions of the value, sorted by gid.
	Ignored []Ignored
	// Err is set when the value itself could not be read (it then decides
	// nothing); the slot is consumed all the same, on every validator alike.
	Err error
}

// Ledger is the deterministic state machine fed with externalized values
// in slot order: the first decision externalized for a gid is final, later
// ones are ignored. Two Ledgers fed the same values are identical (Digest).
// It is not safe for concurrent use.
type Ledger struct {
	m       *Membership
	slot    uint64 // last applied
	finals  map[string]*Final
	actions map[string][]Action // per organization, in slot then gid order
}

// NewLedger returns an empty ledger whose next slot is 1.
func NewLedger(m *Membership) *Ledger {
	return &Ledger{m: m, finals: map[string]*Final{}, actions: map[string][]Action{}}
}

// Membership is the federation the ledger checks decisions against.
func (l *Ledger) Membership() *Membership { return l.m }

// Slot is the last slot applied (0 for none).
func (l *Ledger) Slot() uint64 { return l.slot }

// Apply applies the value externalized for slot, which must be Slot()+1
// (else ErrSlotOrder and nothing changes). Every decision of the value is
// checked again (CheckDecision: a value can be externalized by a node that
// did not validate it itself) and taken unless its gid is already final.
func (l *Ledger) Apply(slot uint64, v consensus.Value) (Applied, error) {
	if slot != l.slot+1 {
		return Applied{}, fmt.Errorf("%w: slot %d after %d", ErrSlotOrder, slot, l.slot)
	}
	l.slot = slot
	res := Applied{Slot: slot}
	val, err := DecodeValue(v)
	if err != nil {
		res.Err = fmt.Errorf("slot %d: %w", slot, err)
		return res, nil
	}
	for _, d := range val.Decisions {
		if f := l.finals[d.GID()]; f != nil {
			res.Ignored = append(res.Ignored, Ignored{GID: d.GID(), Outcome: d.Outcome, FirstSlot: f.Slot})
			continue
		}
		if err := l.m.CheckDecision(&d); err != nil {
			res.Ignored = append(res.Ignored, Ignored{GID: d.GID(), Outcome: d.Outcome, Err: err})
			continue
		}
		l.add(slot, d)
		res.Final = append(res.Final, d.clone())
	}
	return res, nil
}

func (l *Ledger) add(slot uint64, d Decision) {
	l.finals[d.GID()] = &Final{Slot: slot, Decision: d}
	h := d.Request.Hash()
	for _, p := range d.Request.Participants {
		l.actions[p.Org] = append(l.actions[p.Org], Action{Slot: slot, GID: d.GID(), Outcome: d.Outcome, Request: h, Parts: append([]Part(nil), p.Parts...)})
	}
}

// Decision returns the final decision of gid, if there is one.
func (l *Ledger) Decision(gid string) (Final, bool) {
	f := l.finals[gid]
	if f == nil {
		return Final{}, false
	}
	return Final{Slot: f.Slot, Decision: f.Decision.clone()}, true
}

// Decided reports whether gid has a final decision.
func (l *Ledger) Decided(gid string) bool { return l.finals[gid] != nil }

// Len is the number of final decisions.
func (l *Ledger) Len() int { return len(l.finals) }

// Actions returns what org must apply to its workers for the slots after
// slot, in slot order (gid order within a slot). An organization's
// validator records the last slot it finished applying and asks for the
// ones after it.
func (l *Ledger) Actions(org string, after uint64) []Action {
	as := l.actions[org]
	i := sort.Search(len(as), func(i int) bool { return as[i].Slot > after })
	out := make([]Action, 0, len(as)-i)
	for _, a := range as[i:] {
		a.Parts = append([]Part(nil), a.Parts...)
		out = append(out, a)
	}
	return out
}

// Resolution is what to do with a prepared worker transaction.
type Resolution uint8

// The resolutions.
const (
	// Wait: its global transaction has no final decision (yet), or the gid
	// is not one of the federated commit's.
	Wait Resolution = iota
	// CommitPrepared: COMMIT PREPARED it.
	CommitPrepared
	// RollbackPrepared: ROLLBACK PREPARED it.
	RollbackPrepared
)

// String names the resolution.
func (r Resolution) String() string {
	switch r {
	case Wait:
		return "wait"
	case CommitPrepared:
		return "COMMIT PREPARED"
	case RollbackPrepared:
		return "ROLLBACK PREPARED"
	}
	return fmt.Sprintf("Resolution(%d)", uint8(r))
}

// Resolve tells organization org what to do with a prepared transaction
// part found on one of its workers (pg_prepared_xacts): commit it only if
// the final decision of its global gid (PartOwner) is COMMIT and lists this
// very part under org; roll it back if that gid is final otherwise; wait
// while it is not final.
func (l *Ledger) Resolve(org string, p Part) Resolution {
	gid, ok := PartOwner(p.GID)
	if !ok {
		return Wait
	}
	f := l.finals[gid]
	if f == nil {
		return Wait
	}
	if f.Decision.Outcome == Commit {
		parts, _ := f.Decision.Request.Participant(org)
		for _, q := range parts {
			if q == p {
				return CommitPrepared
			}
		}
	}
	return RollbackPrepared
}

// snapshotMagic starts a snapshot.
const snapshotMagic = "pgfed-commit-ledger-1"

// Snapshot returns the ledger's state, canonically encoded:
//
//	magic | u64 last slot | u32 n | n × (u64 slot | decision)
//
// with the finals sorted by (slot, gid). Restore reads it back; replaying
// the externalized values from slot 1 gives the same bytes.
func (l *Ledger) Snapshot() []byte {
	fs := make([]*Final, 0, len(l.finals))
	for _, f := range l.finals {
		fs = append(fs, f)
	}
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].Slot != fs[j].Slot {
			return fs[i].Slot < fs[j].Slot
		}
		return fs[i].Decision.GID() < fs[j].Decision.GID()
	})
	var e encoder
	e.raw([]byte(snapshotMagic))
	e.u64(l.slot)
	e.u32(uint32(len(fs)))
	for _, f := range fs {
		e.u64(f.Slot)
		e.decision(&f.Decision)
	}
	return e.buf
}

// Digest is SHA-256 of the Snapshot: equal digests, equal ledgers.
func (l *Ledger) Digest() [32]byte { return sha256.Sum256(l.Snapshot()) }

// RestoreLedger rebuilds a ledger from a Snapshot, checking its form, its
// order, and every decision again (so a corrupt or foreign snapshot is
// refused with ErrSnapshot rather than applied).
func RestoreLedger(m *Membership, b []byte) (*Ledger, error) {
	d := decoder{buf: b}
	if magic := d.take(len(snapshotMagic), "magic"); d.err == nil && string(magic) != snapshotMagic {
		d.fail("not a ledger snapshot")
	}
	l := NewLedger(m)
	l.slot = d.u64("slot")
	n := d.count32(1<<31-1, 8+decisionMinSize, "finals")
	var prevSlot uint64
	var prevGID string
	for i := 0; i < n && d.err == nil; i++ {
		slot := d.u64("final slot")
		dec := d.decision()
		if d.err != nil {
			break
		}
		switch {
		case slot == 0 || slot > l.slot:
			d.fail("final of gid %s in slot %d, ledger at %d", dec.GID(), slot, l.slot)
		case i > 0 && (slot < prevSlot || slot == prevSlot && dec.GID() <= prevGID):
			d.fail("finals out of order at gid %s", dec.GID())
		case l.finals[dec.GID()] != nil:
			d.fail("gid %s final twice", dec.GID())
		}
		if d.err != nil {
			break
		}
		if err := m.CheckDecision(&dec); err != nil {
			d.fail("gid %s: %v", dec.GID(), err)
			break
		}
		l.add(slot, dec)
		prevSlot, prevGID = slot, dec.GID()
	}
	d.end()
	if d.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSnapshot, d.err)
	}
	return l, nil
}
