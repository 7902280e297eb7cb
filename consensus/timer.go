package consensus

// Timers are counted in ticks of the node's clock (Node.Tick). Each slot has
// two: the nomination round timer and the ballot protocol timer
// (stellar-core NOMINATION_TIMER and BALLOT_PROTOCOL_TIMER). Arming a timer
// replaces its previous deadline.
type timer struct {
	armed    bool
	deadline uint64
}

func (t *timer) arm(now, ticks uint64) {
	t.armed = true
	t.deadline = now + ticks
}

func (t *timer) stop() { t.armed = false }

func (t *timer) due(now uint64) bool { return t.armed && t.deadline <= now }

// computeTimeout is stellar-core's computeTimeout: initial +
// (round-1)*increment, capped; round is the nomination round or the ballot
// counter (at least 1).
func (n *Node) computeTimeout(round uint32, nomination bool) uint64 {
	initial, inc := n.cfg.BallotTimeout, n.cfg.BallotTimeoutIncrement
	if nomination {
		initial, inc = n.cfg.NominationTimeout, n.cfg.NominationTimeoutIncrement
	}
	if round == 0 {
		round = 1
	}
	steps := uint64(round - 1)
	if inc != 0 && steps > n.cfg.MaxTimeout/inc {
		return n.cfg.MaxTimeout
	}
	t := initial + steps*inc
	if t > n.cfg.MaxTimeout {
		t = n.cfg.MaxTimeout
	}
	return t
}

// fireTimers runs the slot's expired timers: a nomination timeout starts the
// next nomination round (nominate with timedOut), a ballot timeout abandons
// the current ballot for counter+1 (ballotProtocolTimerExpired).
func (s *slot) fireTimers(now uint64) {
	if s.nominationTimer.due(now) {
		s.nominationTimer.stop()
		s.logf("nomination timeout", "round", s.nomination.round)
		s.nomination.nominate(s.nomination.timerValue, s.nomination.prev, true)
	}
	if s.ballotTimer.due(now) {
		s.ballotTimer.stop()
		s.logf("ballot timeout", "counter", s.ballot.b.Counter)
		s.ballot.timerExpired()
	}
}
