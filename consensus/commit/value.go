package commit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"sort"

	"github.com/pgfed/pgfed/consensus"
)

// valueVersion is the first byte of every value: the format, so that a
// later format can never be read as this one.
const valueVersion = 1

// Value is what a slot decides: a set of decisions, sorted by gid, at most
// one per gid. See doc.go for why nothing else is carried.
type Value struct {
	// Decisions are sorted by GID, without duplicates.
	Decisions []Decision
}

// Encode returns the canonical encoding:
//
//	u8 version (1) | u32 n | n × decision
func (v *Value) Encode() consensus.Value {
	var e encoder
	e.u8(valueVersion)
	e.u32(uint32(len(v.Decisions)))
	for i := range v.Decisions {
		e.decision(&v.Decisions[i])
	}
	return e.buf
}

// decisionMinSize is the smallest encoded decision.
const decisionMinSize = 1 + 3 + 32 + 8 + 2 + 2*11 + 64 + 2 + voteMinSize

// DecodeValue parses Value.Encode's output strictly: the version, at most
// MaxDecisionsLimit decisions sorted by gid without duplicates, each
// decoded strictly, nothing after, and at most consensus.MaxValueSize
// bytes. It verifies no signature (CheckValue does).
func DecodeValue(b []byte) (Value, error) {
	d := decoder{buf: b}
	if len(b) > consensus.MaxValueSize {
		d.fail("value of %d bytes exceeds %d", len(b), consensus.MaxValueSize)
		return Value{}, d.err
	}
	if ver := d.u8("version"); d.err == nil && ver != valueVersion {
		d.fail("value version %d", ver)
	}
	n := d.count32(MaxDecisionsLimit, decisionMinSize, "decisions")
	var v Value
	for i := 0; i < n && d.err == nil; i++ {
		dec := d.decision()
		if d.err == nil && i > 0 && v.Decisions[i-1].GID() >= dec.GID() {
			d.fail("decisions not sorted by gid, or gid %s twice", dec.GID())
		}
		v.Decisions = append(v.Decisions, dec)
	}
	d.end()
	if d.err != nil {
		return Value{}, d.err
	}
	return v, nil
}

// priority orders a slot's decisions when there are more than fit: a hash
// of the slot and the gid, so that every validator picks the same ones and
// no gid is starved by gids that sort before it.
func priority(slot uint64, gid string) [32]byte {
	h := sha256.New()
	h.Write([]byte("pgfed/commit/v1/priority"))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], slot)
	h.Write(b[:])
	h.Write([]byte(gid))
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// selectDecisions returns the value for slot made of ds (one decision per
// gid): the decisions of the lowest priority hash first, as many as fit in
// max decisions and consensus.MaxValueSize bytes (a decision that does not
// fit is skipped and a smaller later one may still be taken), sorted by
// gid. The result depends only on slot, max and the set ds.
func selectDecisions(slot uint64, ds []Decision, max int) Value {
	type ranked struct {
		prio [32]byte
		size int
		d    *Decision
	}
	rs := make([]ranked, len(ds))
	for i := range ds {
		rs[i] = ranked{priority(slot, ds[i].GID()), len(ds[i].Encode()), &ds[i]}
	}
	sort.Slice(rs, func(i, j int) bool {
		if c := bytes.Compare(rs[i].prio[:], rs[j].prio[:]); c != 0 {
			return c < 0
		}
		return rs[i].d.GID() < rs[j].d.GID()
	})
	size := 1 + 4
	var out Value
	for _, r := range rs {
		if len(out.Decisions) == max {
			break
		}
		if size+r.size > consensus.MaxValueSize {
			continue
		}
		size += r.size
		out.Decisions = append(out.Decisions, r.d.clone())
	}
	sort.Slice(out.Decisions, func(i, j int) bool { return out.Decisions[i].GID() < out.Decisions[j].GID() })
	return out
}
