package consensus

import (
	"bytes"
	"fmt"

	"github.com/pgfed/pgfed/consensus/quorum"
)

// phase of the ballot protocol.
type phase uint8

const (
	phasePrepare phase = iota
	phaseConfirm
	phaseExternalize
)

// String names the phase.
func (p phase) String() string {
	switch p {
	case phasePrepare:
		return "PREPARE"
	case phaseConfirm:
		return "CONFIRM"
	case phaseExternalize:
		return "EXTERNALIZE"
	}
	return fmt.Sprintf("phase(%d)", uint8(p))
}

// maxAdvanceDepth caps the nested transitions one message may trigger
// (stellar-core MAX_ADVANCE_SLOT_RECURSION).
const maxAdvanceDepth = 50

// ballot is the ballot protocol of one slot (draft "Ballot protocol",
// stellar-core BallotProtocol). Its state:
//
//	b  current ballot (nil until the node has a value)
//	p  highest accepted-prepared ballot; pp (p') the highest accepted-prepared
//	   ballot below and incompatible with p
//	h  PREPARE: highest confirmed-prepared ballot; CONFIRM: highest ballot
//	   with accepted commit; EXTERNALIZE: highest confirmed commit
//	c  PREPARE: lowest ballot voted to commit; CONFIRM: lowest accepted
//	   commit; EXTERNALIZE: lowest confirmed commit
//	z  value override: h's value once a ballot is confirmed prepared or its
//	   commit accepted; later ballots carry it
//
// Invariants: b.n != 0 once set; p' ⋦ p; c ≲ h ≲ b; in CONFIRM and
// EXTERNALIZE c and h are set.
type ballot struct {
	s *slot

	phase         phase
	b, p, pp, h   *Ballot
	c             *Ballot
	z             Value
	zSet          bool
	latest        map[quorum.NodeID]*Envelope // M
	heard         bool                        // heard from a quorum at >= b.n
	lastEnv       *Envelope                   // latest own statement eligible for sending
	lastEmitted   *Envelope                   // latest own statement handed to Send
	level         int                         // advanceSlot nesting
	startedLogged bool
}

func (bp *ballot) init(s *slot) {
	bp.s = s
	bp.latest = make(map[quorum.NodeID]*Envelope)
}

func ballotPtr(b Ballot) *Ballot { c := b.clone(); return &c }

// validateValues returns the worst validation level of the values a ballot
// statement carries: PREPARE b (if n > 0), p and p'; CONFIRM b; EXTERNALIZE
// c. (stellar-core does not check p'; checking it keeps invalid values out
// of the prepare candidates.)
func (bp *ballot) validateValues(st *Statement) ValidationLevel {
	var vals []Value
	switch p := st.Pledge.(type) {
	case Prepare:
		if p.Ballot.Counter != 0 {
			vals = append(vals, p.Ballot.Value)
		}
		if p.Prepared != nil {
			vals = append(vals, p.Prepared.Value)
		}
		if p.PreparedPrime != nil {
			vals = append(vals, p.PreparedPrime.Value)
		}
	case Confirm:
		vals = append(vals, p.Ballot.Value)
	case Externalize:
		vals = append(vals, p.Commit.Value)
	}
	lvl := FullyValid
	for _, v := range vals {
		if l := bp.s.n.validate(bp.s.index, v, false); l < lvl {
			lvl = l
		}
	}
	return lvl
}

// processEnvelope records a ballot statement that is newer than its
// sender's latest and carries no invalid value, then runs advanceSlot with
// it as the hint (BallotProtocol::processEnvelope). After EXTERNALIZE only
// statements whose working ballot has the externalized value are recorded.
func (bp *ballot) processEnvelope(env *Envelope, self bool) error {
	st := &env.Statement
	if self {
		if err := st.check(true); err != nil {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
	}
	if old := bp.latest[st.NodeID]; old != nil && !isNewerBallotStatement(&old.Statement, st) {
		return ErrStale
	}
	lvl := bp.validateValues(st)
	if lvl == Invalid {
		return ErrInvalidValue
	}
	if bp.phase != phaseExternalize {
		if lvl == MaybeValid {
			bp.s.fullyValidated = false
		}
		bp.latest[st.NodeID] = env
		bp.advanceSlot(st)
		return nil
	}
	if bp.c.Value.Equal(workingBallot(st).Value) {
		bp.latest[st.NodeID] = env
		return nil
	}
	return ErrIncompatible
}

// advanceSlot applies the step rules in stellar-core's order after a
// statement was recorded: accept prepared, confirm prepared, accept commit,
// confirm commit; then, at the outermost level only, bump to a v-blocking
// counter (repeatedly) and check whether a quorum is at our counter. Own
// statements produced on the way re-enter advanceSlot (nested); only the
// outermost level queues the latest own statement for sending.
func (bp *ballot) advanceSlot(hint *Statement) {
	bp.level++
	if bp.level >= maxAdvanceDepth {
		bp.s.n.brokenInvariant(bp.s.index, "more than %d nested ballot transitions", maxAdvanceDepth)
		bp.level--
		return
	}
	didWork := bp.attemptAcceptPrepared(hint)
	didWork = bp.attemptConfirmPrepared(hint) || didWork
	didWork = bp.attemptAcceptCommit(hint) || didWork
	didWork = bp.attemptConfirmCommit(hint) || didWork
	if bp.level == 1 {
		for bp.attemptBump() {
			didWork = true
		}
		bp.checkHeardFromQuorum()
	}
	bp.level--
	if didWork {
		bp.sendLatestEnvelope()
	}
}

// createStatement builds the local statement for the current phase.
func (bp *ballot) createStatement() Pledge {
	n := bp.s.n
	switch bp.phase {
	case phasePrepare:
		p := Prepare{QSetHash: n.qsetHash}
		if bp.b != nil {
			p.Ballot = bp.b.clone()
		}
		if bp.p != nil {
			p.Prepared = ballotPtr(*bp.p)
		}
		if bp.pp != nil {
			p.PreparedPrime = ballotPtr(*bp.pp)
		}
		if bp.c != nil {
			p.NC = bp.c.Counter
		}
		if bp.h != nil {
			p.NH = bp.h.Counter
		}
		return p
	case phaseConfirm:
		if bp.b == nil || bp.c == nil || bp.h == nil || bp.p == nil {
			bp.s.n.brokenInvariant(bp.s.index, "CONFIRM without b, p, c and h")
			return nil
		}
		return Confirm{Ballot: bp.b.clone(), NPrepared: bp.p.Counter, NCommit: bp.c.Counter, NH: bp.h.Counter, QSetHash: n.qsetHash}
	default:
		if bp.c == nil || bp.h == nil {
			bp.s.n.brokenInvariant(bp.s.index, "EXTERNALIZE without c and h")
			return nil
		}
		return Externalize{Commit: bp.c.clone(), NH: bp.h.Counter, CommitQSetHash: n.qsetHash}
	}
}

// emitCurrentStateStatement builds the local statement, processes it as the
// local node's own (which may advance the slot further), and makes it the
// latest to send if the node has a ballot and the statement is newer than
// the last one (BallotProtocol::emitCurrentStateStatement).
func (bp *ballot) emitCurrentStateStatement() {
	s := bp.s
	bp.checkInvariants()
	pl := bp.createStatement()
	if pl == nil {
		return
	}
	env := s.newEnvelope(pl)
	canEmit := bp.b != nil
	// The same statement can be produced again (h's value may change while
	// h.n does not); do not process it twice.
	if own := bp.latest[s.n.id]; own != nil && bytes.Equal(EncodeStatement(own.Statement), EncodeStatement(env.Statement)) {
		return
	}
	if err := bp.processEnvelope(env, true); err != nil {
		s.n.brokenInvariant(s.index, "own statement %s rejected: %v", env.Statement, err)
		return
	}
	if canEmit && (bp.lastEnv == nil || isNewerBallotStatement(&bp.lastEnv.Statement, &env.Statement)) {
		bp.lastEnv = env
		s.persist(env)
		bp.sendLatestEnvelope()
	}
}

// sendLatestEnvelope queues the latest own statement for sending, only at
// nesting level 0 (so a burst of transitions yields one envelope) and only
// while the slot is fully validated.
func (bp *ballot) sendLatestEnvelope() {
	if bp.level == 0 && bp.lastEnv != nil && bp.s.fullyValidated && bp.lastEmitted != bp.lastEnv {
		bp.lastEmitted = bp.lastEnv
		bp.s.emit(bp.lastEnv)
	}
}

// checkInvariants reports (without panicking) a broken state invariant.
func (bp *ballot) checkInvariants() {
	bad := func(msg string) { bp.s.n.brokenInvariant(bp.s.index, "%s (%s)", msg, bp) }
	if bp.b != nil && bp.b.Counter == 0 {
		bad("b.n == 0")
	}
	if bp.p != nil && bp.pp != nil && !lessAndIncompatible(*bp.pp, *bp.p) {
		bad("p' not below and incompatible with p")
	}
	if bp.c != nil {
		if bp.h == nil || bp.b == nil || !lessAndCompatible(*bp.c, *bp.h) || !lessAndCompatible(*bp.h, *bp.b) {
			bad("c ≲ h ≲ b violated")
		}
	}
	if bp.phase != phasePrepare && (bp.c == nil || bp.h == nil) {
		bad("c and h must be set after PREPARE")
	}
}

// String prints the ballot state compactly.
func (bp *ballot) String() string {
	opt := func(b *Ballot) string {
		if b == nil {
			return "-"
		}
		return b.String()
	}
	z := "-"
	if bp.zSet {
		z = bp.z.String()
	}
	return fmt.Sprintf("%s b=%s p=%s p'=%s h=%s c=%s z=%s", bp.phase, opt(bp.b), opt(bp.p), opt(bp.pp), opt(bp.h), opt(bp.c), z)
}

// bumpState sets b for nomination's composite value (force=false: only if
// there is no ballot yet, counter 1) or after a timeout (force: counter+1)
// (BallotProtocol::bumpState).
func (bp *ballot) bumpState(value Value, force bool) bool {
	if !force && bp.b != nil {
		return false
	}
	n := uint32(1)
	if bp.b != nil {
		if bp.b.Counter == Infinite {
			return false
		}
		n = bp.b.Counter + 1
	}
	return bp.bumpStateTo(value, n)
}

// bumpStateTo moves b to counter n with value z if set, else value; allowed
// in PREPARE and CONFIRM only.
func (bp *ballot) bumpStateTo(value Value, n uint32) bool {
	if bp.phase != phasePrepare && bp.phase != phaseConfirm {
		return false
	}
	nb := Ballot{Counter: n, Value: value.clone()}
	if bp.zSet {
		nb.Value = bp.z.clone()
	}
	if !bp.updateCurrentValue(nb) {
		return false
	}
	bp.emitCurrentStateStatement()
	bp.checkHeardFromQuorum()
	return true
}

// updateCurrentValue moves b to ballot if that is allowed: never backwards,
// never away from the value of c (our commit votes).
func (bp *ballot) updateCurrentValue(nb Ballot) bool {
	if bp.phase != phasePrepare && bp.phase != phaseConfirm {
		return false
	}
	if bp.b == nil {
		bp.bumpToBallot(nb, true)
		return true
	}
	if bp.c != nil && !bp.c.Compatible(nb) {
		return false
	}
	switch bp.b.Compare(nb) {
	case -1:
		bp.bumpToBallot(nb, true)
		return true
	case 1:
		bp.s.logf("refusing to move ballot backwards", "b", bp.b, "to", nb)
	}
	return false
}

// bumpToBallot sets b (BallotProtocol::bumpToBallot). When b's value
// changes away from h's, h and c are cleared (c only exists with h). A new
// counter resets "heard from quorum".
func (bp *ballot) bumpToBallot(nb Ballot, check bool) {
	if bp.phase == phaseExternalize {
		bp.s.n.brokenInvariant(bp.s.index, "bumpToBallot after EXTERNALIZE")
		return
	}
	if check && bp.b != nil && nb.Compare(*bp.b) < 0 {
		bp.s.n.brokenInvariant(bp.s.index, "ballot moved backwards from %s to %s", bp.b, nb)
		return
	}
	gotBumped := bp.b == nil || bp.b.Counter != nb.Counter
	if bp.b == nil {
		bp.s.logf("started ballot protocol", "b", nb)
	}
	bp.b = ballotPtr(nb)
	if bp.h != nil && !bp.b.Compatible(*bp.h) {
		bp.h, bp.c = nil, nil
	}
	if gotBumped {
		bp.heard = false
	}
}

// updateCurrentIfNeeded is step 8 of the paper: raise b to h when b < h.
func (bp *ballot) updateCurrentIfNeeded(h Ballot) bool {
	if bp.b == nil || bp.b.Compare(h) < 0 {
		bp.bumpToBallot(h, true)
		return true
	}
	return false
}

// abandonBallot moves to counter n (n == 0: counter+1) with the latest
// composite candidate, else the current ballot's value.
func (bp *ballot) abandonBallot(n uint32) bool {
	var v Value
	switch {
	case len(bp.s.nomination.candidates) > 0:
		v = bp.s.nomination.composite
	case bp.b != nil:
		v = bp.b.Value
	default:
		return false
	}
	if n == 0 {
		return bp.bumpState(v, true)
	}
	return bp.bumpStateTo(v, n)
}

// timerExpired is the ballot timeout: abandon the ballot for counter+1. The
// timer only runs while a quorum is at our counter (checkHeardFromQuorum).
func (bp *ballot) timerExpired() {
	bp.abandonBallot(0)
}

// checkHeardFromQuorum arms the ballot timer when a quorum (transitively)
// has a statement at our counter or above (PREPARE with b.n >= ours, any
// CONFIRM or EXTERNALIZE) and we had not heard from it yet; it stops the
// timer when that quorum is gone or the slot externalized.
func (bp *ballot) checkHeardFromQuorum() {
	if bp.b == nil {
		return
	}
	counter := bp.b.Counter
	s := bp.s
	if s.isQuorum(bp.latest, func(st *Statement) bool {
		if p, ok := st.Pledge.(Prepare); ok {
			return counter <= p.Ballot.Counter
		}
		return true
	}) {
		old := bp.heard
		bp.heard = true
		if !old {
			s.logf("heard from quorum", "b", bp.b)
			if bp.phase != phaseExternalize {
				s.ballotTimer.arm(s.n.now, s.n.computeTimeout(counter, false))
			}
		}
		if bp.phase == phaseExternalize {
			s.ballotTimer.stop()
		}
		return
	}
	bp.heard = false
	s.ballotTimer.stop()
}

// restore sets the state from the local node's own persisted ballot
// statement (BallotProtocol::setStateFromEnvelope). z is restored too (as h's
// value), which is the value it had when the statement was made.
func (bp *ballot) restore(env *Envelope) error {
	if bp.b != nil || bp.lastEnv != nil {
		return ErrAlreadyStarted
	}
	st := &env.Statement
	bp.latest[st.NodeID] = env
	bp.lastEnv, bp.lastEmitted = env, env
	switch p := st.Pledge.(type) {
	case Prepare:
		bp.bumpToBallot(p.Ballot, true)
		if p.Prepared != nil {
			bp.p = ballotPtr(*p.Prepared)
		}
		if p.PreparedPrime != nil {
			bp.pp = ballotPtr(*p.PreparedPrime)
		}
		if p.NH != 0 {
			bp.h = &Ballot{p.NH, p.Ballot.Value.clone()}
			bp.z, bp.zSet = p.Ballot.Value.clone(), true
		}
		if p.NC != 0 {
			bp.c = &Ballot{p.NC, p.Ballot.Value.clone()}
		}
		bp.phase = phasePrepare
	case Confirm:
		v := p.Ballot.Value
		bp.bumpToBallot(p.Ballot, true)
		bp.p = &Ballot{p.NPrepared, v.clone()}
		bp.h = &Ballot{p.NH, v.clone()}
		bp.c = &Ballot{p.NCommit, v.clone()}
		bp.z, bp.zSet = v.clone(), true
		bp.phase = phaseConfirm
	case Externalize:
		v := p.Commit.Value
		bp.bumpToBallot(Ballot{Infinite, v}, true)
		bp.p = &Ballot{Infinite, v.clone()}
		bp.h = &Ballot{p.NH, v.clone()}
		bp.c = ballotPtr(p.Commit)
		bp.z, bp.zSet = v.clone(), true
		bp.phase = phaseExternalize
		bp.s.externalized = true
		bp.s.nomination.stop()
		if bp.s.index > bp.s.n.highestExternal {
			bp.s.n.highestExternal = bp.s.index
		}
	}
	return nil
}
