package consensus

import "sort"

// The step rules of the ballot protocol, in the order advanceSlot applies
// them. Numbers refer to the whitepaper's steps as cited by stellar-core.

// prepareCandidates returns, in ascending order, the ballots that the hint
// statement may let us accept or confirm as prepared
// (BallotProtocol::getPrepareCandidates). Hint ballots: PREPARE b, p, p';
// CONFIRM (nPrepared, x) and (∞, x); EXTERNALIZE (∞, x). For each hint
// ballot T, every recorded statement contributes: PREPARE its b, p, p' that
// are ≲ T; CONFIRM with T's value T itself and (nPrepared, x) if below T;
// EXTERNALIZE with T's value T. Counter-0 ballots are never candidates.
func (bp *ballot) prepareCandidates(hint *Statement) []Ballot {
	var hints []Ballot
	switch p := hint.Pledge.(type) {
	case Prepare:
		hints = append(hints, p.Ballot)
		if p.Prepared != nil {
			hints = append(hints, *p.Prepared)
		}
		if p.PreparedPrime != nil {
			hints = append(hints, *p.PreparedPrime)
		}
	case Confirm:
		hints = append(hints, Ballot{p.NPrepared, p.Ballot.Value}, Ballot{Infinite, p.Ballot.Value})
	case Externalize:
		hints = append(hints, Ballot{Infinite, p.Commit.Value})
	}
	var cands []Ballot
	add := func(b Ballot) {
		if b.Counter != 0 {
			cands = append(cands, b)
		}
	}
	for _, top := range hints {
		for _, env := range bp.latest {
			switch p := env.Statement.Pledge.(type) {
			case Prepare:
				if lessAndCompatible(p.Ballot, top) {
					add(p.Ballot)
				}
				if p.Prepared != nil && lessAndCompatible(*p.Prepared, top) {
					add(*p.Prepared)
				}
				if p.PreparedPrime != nil && lessAndCompatible(*p.PreparedPrime, top) {
					add(*p.PreparedPrime)
				}
			case Confirm:
				if top.Compatible(p.Ballot) {
					add(top)
					if p.NPrepared < top.Counter {
						add(Ballot{p.NPrepared, top.Value})
					}
				}
			case Externalize:
				if top.Compatible(p.Commit) {
					add(top)
				}
			}
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].Compare(cands[j]) < 0 })
	out := cands[:0]
	for i, c := range cands {
		if i == 0 || c.Compare(out[len(out)-1]) != 0 {
			out = append(out, c)
		}
	}
	return out
}

// votesToPrepare is "the sender votes or accepts prepare(β)": PREPARE with
// β ≲ b; CONFIRM or EXTERNALIZE with β's value.
func votesToPrepare(beta Ballot) predicate {
	return func(st *Statement) bool {
		switch p := st.Pledge.(type) {
		case Prepare:
			return lessAndCompatible(beta, p.Ballot)
		case Confirm:
			return beta.Compatible(p.Ballot)
		case Externalize:
			return beta.Compatible(p.Commit)
		}
		return false
	}
}

// hasPrepared is "the sender accepted prepare(β)": PREPARE with β ≲ p or
// β ≲ p'; CONFIRM with β ≲ (nPrepared, x); EXTERNALIZE with β's value.
func hasPrepared(beta Ballot) predicate {
	return func(st *Statement) bool {
		switch p := st.Pledge.(type) {
		case Prepare:
			return (p.Prepared != nil && lessAndCompatible(beta, *p.Prepared)) ||
				(p.PreparedPrime != nil && lessAndCompatible(beta, *p.PreparedPrime))
		case Confirm:
			return lessAndCompatible(beta, Ballot{p.NPrepared, p.Ballot.Value})
		case Externalize:
			return beta.Compatible(p.Commit)
		}
		return false
	}
}

// attemptAcceptPrepared is steps 1 and 5: accept prepare(β) for the highest
// candidate β that federated voting allows (votes-or-accepts from a quorum,
// or accepts from a v-blocking set), then raise p/p'. In CONFIRM only
// ballots raising p (p ≲ β) are considered; ballots ≤ p' or ≲ p are
// skipped. One success per call: the emitted statement re-enters
// advanceSlot.
func (bp *ballot) attemptAcceptPrepared(hint *Statement) bool {
	if bp.phase != phasePrepare && bp.phase != phaseConfirm {
		return false
	}
	cands := bp.prepareCandidates(hint)
	for i := len(cands) - 1; i >= 0; i-- {
		beta := cands[i]
		if bp.phase == phaseConfirm && !lessAndCompatible(*bp.p, beta) {
			continue
		}
		if bp.pp != nil && beta.Compare(*bp.pp) <= 0 {
			continue
		}
		if bp.p != nil && lessAndCompatible(beta, *bp.p) {
			continue
		}
		if bp.s.federatedAccept(bp.latest, votesToPrepare(beta), hasPrepared(beta)) {
			return bp.setAcceptPrepared(beta)
		}
	}
	return false
}

// setAcceptPrepared records an accepted-prepared ballot in p/p' and, in
// PREPARE, withdraws the commit vote (clears c) if h is now below and
// incompatible with p or p' (the commit of h was aborted).
func (bp *ballot) setAcceptPrepared(beta Ballot) bool {
	didWork := bp.setPrepared(beta)
	if bp.c != nil && bp.h != nil {
		if (bp.p != nil && lessAndIncompatible(*bp.h, *bp.p)) || (bp.pp != nil && lessAndIncompatible(*bp.h, *bp.pp)) {
			if bp.phase != phasePrepare {
				bp.s.n.brokenInvariant(bp.s.index, "clearing c outside PREPARE")
			} else {
				bp.c = nil
				didWork = true
			}
		}
	}
	if didWork {
		bp.s.logf("accepted prepared", "ballot", beta)
		bp.emitCurrentStateStatement()
	}
	return didWork
}

// setPrepared: if β > p, p moves up (the old p becomes p' when
// incompatible); if β < p and incompatible and above p', p' := β.
func (bp *ballot) setPrepared(beta Ballot) bool {
	if bp.p == nil {
		bp.p = ballotPtr(beta)
		return true
	}
	switch bp.p.Compare(beta) {
	case -1:
		if !bp.p.Compatible(beta) {
			bp.pp = bp.p
		}
		bp.p = ballotPtr(beta)
		return true
	case 1:
		if !bp.p.Compatible(beta) && (bp.pp == nil || bp.pp.Compare(beta) < 0) {
			bp.pp = ballotPtr(beta)
			return true
		}
	}
	return false
}

// attemptConfirmPrepared is steps 2, 3 and 8 (PREPARE only, needs p): h :=
// the highest candidate above h that a quorum accepted as prepared; if we
// vote no commit yet and h is not aborted by p or p', c := the lowest
// ballot of the contiguous run of confirmed-prepared candidates ≲ h and
// >= b.
func (bp *ballot) attemptConfirmPrepared(hint *Statement) bool {
	if bp.phase != phasePrepare || bp.p == nil {
		return false
	}
	cands := bp.prepareCandidates(hint)
	i := len(cands) - 1
	var newH *Ballot
	for ; i >= 0; i-- {
		beta := cands[i]
		if bp.h != nil && bp.h.Compare(beta) >= 0 {
			break
		}
		if bp.s.federatedRatify(bp.latest, hasPrepared(beta)) {
			newH = &cands[i]
			break
		}
	}
	if newH == nil {
		return false
	}
	var newC *Ballot
	var cur Ballot
	if bp.b != nil {
		cur = *bp.b
	}
	if bp.c == nil && !lessAndIncompatible(*newH, *bp.p) && (bp.pp == nil || !lessAndIncompatible(*newH, *bp.pp)) {
		for ; i >= 0; i-- {
			beta := cands[i]
			if beta.Compare(cur) < 0 {
				break
			}
			if !lessAndCompatible(beta, *newH) {
				continue
			}
			if !bp.s.federatedRatify(bp.latest, hasPrepared(beta)) {
				break
			}
			newC = &cands[i]
		}
	}
	return bp.setConfirmPrepared(newC, *newH)
}

// setConfirmPrepared applies a confirmed-prepared ballot: z := h's value;
// if b is unset or compatible, raise h and set c; then step 8 (b := h if
// b < h).
func (bp *ballot) setConfirmPrepared(newC *Ballot, newH Ballot) bool {
	didWork := false
	bp.z, bp.zSet = newH.Value.clone(), true
	if bp.b == nil || bp.b.Compatible(newH) {
		if bp.h == nil || newH.Compare(*bp.h) > 0 {
			bp.h = ballotPtr(newH)
			didWork = true
		}
		if newC != nil {
			if bp.c != nil {
				bp.s.n.brokenInvariant(bp.s.index, "c set twice while confirming prepared")
			}
			bp.c = ballotPtr(*newC)
			didWork = true
		}
		if didWork {
			bp.s.logf("confirmed prepared", "h", newH)
		}
	}
	if bp.updateCurrentIfNeeded(newH) {
		didWork = true
	}
	if didWork {
		bp.emitCurrentStateStatement()
	}
	return didWork
}

// commitValue extracts the value a hint may let us commit: PREPARE with
// nC != 0, CONFIRM, EXTERNALIZE.
func commitValue(hint *Statement, allowPrepare bool) (Value, bool) {
	switch p := hint.Pledge.(type) {
	case Prepare:
		if allowPrepare && p.NC != 0 {
			return p.Ballot.Value, true
		}
	case Confirm:
		return p.Ballot.Value, true
	case Externalize:
		return p.Commit.Value, true
	}
	return nil, false
}

// votesCommit is "the sender votes or accepts commit((k, x)) for every k in
// [lo, hi]": PREPARE with x, nC != 0, nC <= lo, hi <= nH; CONFIRM with x and
// nCommit <= lo; EXTERNALIZE with x and c.n <= lo.
func votesCommit(x Value, lo, hi uint32) predicate {
	return func(st *Statement) bool {
		switch p := st.Pledge.(type) {
		case Prepare:
			return p.Ballot.Value.Equal(x) && p.NC != 0 && p.NC <= lo && hi <= p.NH
		case Confirm:
			return p.Ballot.Value.Equal(x) && p.NCommit <= lo
		case Externalize:
			return p.Commit.Value.Equal(x) && p.Commit.Counter <= lo
		}
		return false
	}
}

// acceptedCommit is "the sender accepted commit((k, x)) for every k in
// [lo, hi]": CONFIRM with x, nCommit <= lo, hi <= nH; EXTERNALIZE with x and
// c.n <= lo; never PREPARE.
func acceptedCommit(x Value, lo, hi uint32) predicate {
	return func(st *Statement) bool {
		switch p := st.Pledge.(type) {
		case Confirm:
			return p.Ballot.Value.Equal(x) && p.NCommit <= lo && hi <= p.NH
		case Externalize:
			return p.Commit.Value.Equal(x) && p.Commit.Counter <= lo
		}
		return false
	}
}

// commitBoundaries collects the interesting counters for commit intervals
// of value x: PREPARE with nC != 0: nC, nH; CONFIRM: nCommit, nH;
// EXTERNALIZE: c.n, nH, ∞. Ascending, unique.
func (bp *ballot) commitBoundaries(x Value) []uint32 {
	set := make(map[uint32]struct{})
	for _, env := range bp.latest {
		switch p := env.Statement.Pledge.(type) {
		case Prepare:
			if p.Ballot.Value.Equal(x) && p.NC != 0 {
				set[p.NC], set[p.NH] = struct{}{}, struct{}{}
			}
		case Confirm:
			if p.Ballot.Value.Equal(x) {
				set[p.NCommit], set[p.NH] = struct{}{}, struct{}{}
			}
		case Externalize:
			if p.Commit.Value.Equal(x) {
				set[p.Commit.Counter], set[p.NH], set[Infinite] = struct{}{}, struct{}{}, struct{}{}
			}
		}
	}
	out := make([]uint32, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// findExtendedInterval scans the boundaries from the top: first the highest
// k with pred([k, k]), then lowers the low end while pred([k', hi]) holds,
// stopping at the first failure. lo == 0 means none found.
func findExtendedInterval(boundaries []uint32, pred func(lo, hi uint32) bool) (lo, hi uint32) {
	for i := len(boundaries) - 1; i >= 0; i-- {
		bd := boundaries[i]
		var cl, ch uint32
		switch {
		case lo == 0:
			cl, ch = bd, bd
		case bd > hi:
			continue
		default:
			cl, ch = bd, hi
		}
		if pred(cl, ch) {
			lo, hi = cl, ch
		} else if lo != 0 {
			break
		}
	}
	return lo, hi
}

// attemptAcceptCommit is steps 4, 6 and 8: accept commit for the widest
// interval [lo, hi] of the hint's value that federated voting allows; in
// PREPARE this moves to CONFIRM; in CONFIRM only a higher h counts and the
// value must be h's.
func (bp *ballot) attemptAcceptCommit(hint *Statement) bool {
	if bp.phase != phasePrepare && bp.phase != phaseConfirm {
		return false
	}
	x, ok := commitValue(hint, true)
	if !ok {
		return false
	}
	if bp.phase == phaseConfirm && !bp.h.Value.Equal(x) {
		return false
	}
	bounds := bp.commitBoundaries(x)
	if len(bounds) == 0 {
		return false
	}
	lo, hi := findExtendedInterval(bounds, func(lo, hi uint32) bool {
		return bp.s.federatedAccept(bp.latest, votesCommit(x, lo, hi), acceptedCommit(x, lo, hi))
	})
	if lo == 0 || (bp.phase == phaseConfirm && hi <= bp.h.Counter) {
		return false
	}
	return bp.setAcceptCommit(Ballot{lo, x}, Ballot{hi, x})
}

// setAcceptCommit records accepted commit [c, h]: z := h's value; in
// PREPARE, move to CONFIRM, move b to h unless h ≲ b (this may lower b's
// counter when b had another value), clear p'; then b := h if b < h.
func (bp *ballot) setAcceptCommit(c, h Ballot) bool {
	didWork := false
	bp.z, bp.zSet = h.Value.clone(), true
	if bp.h == nil || bp.c == nil || bp.h.Compare(h) != 0 || bp.c.Compare(c) != 0 {
		bp.c, bp.h = ballotPtr(c), ballotPtr(h)
		didWork = true
	}
	if bp.phase == phasePrepare {
		bp.phase = phaseConfirm
		if bp.b != nil && !lessAndCompatible(h, *bp.b) {
			bp.bumpToBallot(h, false)
		}
		bp.pp = nil
		didWork = true
	}
	if didWork {
		bp.updateCurrentIfNeeded(*bp.h)
		bp.s.logf("accepted commit", "c", c, "h", h)
		bp.emitCurrentStateStatement()
	}
	return didWork
}

// attemptConfirmCommit is step 7 (CONFIRM only): confirm commit for the
// widest interval of c's value that a quorum accepted, then externalize.
func (bp *ballot) attemptConfirmCommit(hint *Statement) bool {
	if bp.phase != phaseConfirm || bp.h == nil || bp.c == nil {
		return false
	}
	x, ok := commitValue(hint, false)
	if !ok || !bp.c.Value.Equal(x) {
		return false
	}
	bounds := bp.commitBoundaries(x)
	lo, hi := findExtendedInterval(bounds, func(lo, hi uint32) bool {
		return bp.s.federatedRatify(bp.latest, acceptedCommit(x, lo, hi))
	})
	if lo == 0 {
		return false
	}
	return bp.setConfirmCommit(Ballot{lo, x}, Ballot{hi, x})
}

// setConfirmCommit externalizes c's value: exactly once per slot, it stops
// nomination and reports the value in Ready.
func (bp *ballot) setConfirmCommit(c, h Ballot) bool {
	s := bp.s
	bp.c, bp.h = ballotPtr(c), ballotPtr(h)
	bp.updateCurrentIfNeeded(h)
	bp.phase = phaseExternalize
	s.logf("externalized", "c", c, "h", h)
	bp.emitCurrentStateStatement()
	s.nomination.stop()
	if !s.externalized {
		s.externalized = true
		s.n.ready.external = append(s.n.ready.external, Externalized{Slot: s.index, Value: c.Value.clone()})
		if s.index > s.n.highestExternal {
			s.n.highestExternal = s.index
		}
	}
	return true
}

// attemptBump is step 9 (PREPARE or CONFIRM): if the nodes whose counter
// (b.n, ∞ for EXTERNALIZE) is above ours form a v-blocking set, move to the
// lowest counter above ours at which no v-blocking set is strictly ahead.
func (bp *ballot) attemptBump() bool {
	if bp.phase != phasePrepare && bp.phase != phaseConfirm {
		return false
	}
	var local uint32
	if bp.b != nil {
		local = bp.b.Counter
	}
	ahead := func(n uint32) predicate {
		return func(st *Statement) bool { return statementCounter(st) > n }
	}
	if !bp.s.isVBlocking(bp.latest, ahead(local)) {
		return false
	}
	set := make(map[uint32]struct{})
	for _, env := range bp.latest {
		if c := statementCounter(&env.Statement); c > local {
			set[c] = struct{}{}
		}
	}
	counters := make([]uint32, 0, len(set))
	for c := range set {
		counters = append(counters, c)
	}
	sort.Slice(counters, func(i, j int) bool { return counters[i] < counters[j] })
	for _, n := range counters {
		if !bp.s.isVBlocking(bp.latest, ahead(n)) {
			bp.s.logf("bumping to v-blocking counter", "n", n)
			return bp.abandonBallot(n)
		}
	}
	return false
}
