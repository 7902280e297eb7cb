package commit

import (
	"bytes"
	"sort"

	"github.com/pgfed/pgfed/consensus"
)

// Combine implements consensus.Driver: the union of the candidates'
// decisions, one per gid, cut to the slot's bound.
//
//   - Candidates that do not decode, and decisions that fail CheckDecision,
//     are skipped (the core only passes values it validated, so this is a
//     second line of defence, and deterministic either way).
//   - For a gid decided both ways among the candidates, COMMIT wins (the
//     DESIGN's fixed rule; doc.go explains why it is safe). Between two
//     decisions of the same outcome for a gid (other votes as evidence, or
//     another request signed by an equivocating coordinator), the one with
//     the smaller encoding wins.
//   - When more decisions are left than MaxDecisions (or than fit in
//     consensus.MaxValueSize), the ones of lowest priority(slot, gid) are
//     kept; the rest are still pending in the proposers' pools and are
//     nominated again for later slots.
//
// The result depends only on slot and the set of candidates, not on their
// order nor on duplicates. If no decision survives (which the core never
// causes), the result is the empty value, which is invalid.
func (d *Driver) Combine(slot uint64, cands []consensus.Value) consensus.Value {
	best := map[string]Decision{}
	for _, c := range cands {
		v, err := DecodeValue(c)
		if err != nil {
			continue
		}
		for _, dec := range v.Decisions {
			if d.m.CheckDecision(&dec) != nil {
				continue
			}
			if old, ok := best[dec.GID()]; !ok || preferred(&dec, &old) {
				best[dec.GID()] = dec
			}
		}
	}
	return combineDecisions(slot, best, d.m.maxDecisions)
}

// combineDecisions sorts the chosen decisions and cuts them to the bound.
func combineDecisions(slot uint64, best map[string]Decision, max int) consensus.Value {
	ds := make([]Decision, 0, len(best))
	for _, dec := range best {
		ds = append(ds, dec)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].GID() < ds[j].GID() })
	v := selectDecisions(slot, ds, max)
	return v.Encode()
}

// preferred reports whether a should replace b as the decision of their
// gid: COMMIT over ABORT, then the smaller encoding. It is a strict total
// order on distinct decisions, so the choice does not depend on the order
// in which they are met.
func preferred(a, b *Decision) bool {
	if a.Outcome != b.Outcome {
		return a.Outcome == Commit
	}
	return bytes.Compare(a.Encode(), b.Encode()) < 0
}
