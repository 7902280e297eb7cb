package consensus

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"strings"

	"github.com/pgfed/pgfed/consensus/quorum"
)

// Value is an opaque value agreed on for a slot. Values are totally ordered
// as unsigned byte strings (bytes.Compare). What a value means is the
// application's business.
type Value []byte

// Compare orders values as unsigned byte strings.
func (v Value) Compare(w Value) int { return bytes.Compare(v, w) }

// Equal reports whether v and w hold the same bytes.
func (v Value) Equal(w Value) bool { return bytes.Equal(v, w) }

// String prints short printable values as they are and others as abbreviated hex.
func (v Value) String() string {
	printable := len(v) > 0 && len(v) <= 16
	for _, c := range v {
		if c < 0x21 || c > 0x7e || c == ',' || c == ']' || c == '[' || c == ':' {
			printable = false
			break
		}
	}
	if printable {
		return string(v)
	}
	if len(v) > 8 {
		return "0x" + hex.EncodeToString(v[:8]) + ".."
	}
	return "0x" + hex.EncodeToString(v)
}

func (v Value) clone() Value {
	if v == nil {
		return nil
	}
	return append(Value{}, v...)
}

// Infinite is the counter ∞ of the protocol: CONFIRM and EXTERNALIZE
// statements vote to prepare (∞, x).
const Infinite = math.MaxUint32

// Ballot is a pair (counter, value). Ballots are ordered by counter, then by
// value; two ballots are compatible when they carry the same value.
type Ballot struct {
	Counter uint32
	Value   Value
}

// Compare orders ballots by counter, then value.
func (b Ballot) Compare(c Ballot) int {
	switch {
	case b.Counter < c.Counter:
		return -1
	case b.Counter > c.Counter:
		return 1
	}
	return b.Value.Compare(c.Value)
}

// Compatible reports whether b and c carry the same value.
func (b Ballot) Compatible(c Ballot) bool { return b.Value.Equal(c.Value) }

// String prints the ballot as counter:value (∞ for Infinite).
func (b Ballot) String() string {
	if b.Counter == Infinite {
		return "inf:" + b.Value.String()
	}
	return fmt.Sprintf("%d:%s", b.Counter, b.Value)
}

func (b Ballot) clone() Ballot { return Ballot{b.Counter, b.Value.clone()} }

// lessAndCompatible is a ≲ b: a <= b with the same value.
func lessAndCompatible(a, b Ballot) bool { return a.Compare(b) <= 0 && a.Compatible(b) }

// lessAndIncompatible is a ⋦ b: a <= b with different values.
func lessAndIncompatible(a, b Ballot) bool { return a.Compare(b) <= 0 && !a.Compatible(b) }

// compareOpt orders optional ballots, absent below any present ballot.
func compareOpt(a, b *Ballot) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return a.Compare(*b)
}

// Hash is a SHA-256 digest (quorum set hashes, network ids).
type Hash [32]byte

// String prints the first bytes in hex.
func (h Hash) String() string { return hex.EncodeToString(h[:4]) }

// StatementType tells which pledge a statement carries. The ballot types are
// ordered PREPARE < CONFIRM < EXTERNALIZE, the order in which a node moves
// through them.
type StatementType uint8

// The statement types.
const (
	TypePrepare StatementType = iota + 1
	TypeConfirm
	TypeExternalize
	TypeNominate
)

// String names the type as the protocol does.
func (t StatementType) String() string {
	switch t {
	case TypePrepare:
		return "PREPARE"
	case TypeConfirm:
		return "CONFIRM"
	case TypeExternalize:
		return "EXTERNALIZE"
	case TypeNominate:
		return "NOMINATE"
	}
	return fmt.Sprintf("StatementType(%d)", uint8(t))
}

// Pledge is the payload of a statement: one of Nominate, Prepare, Confirm
// or Externalize (values, not pointers).
type Pledge interface {
	// Type tells which pledge this is.
	Type() StatementType
	isPledge()
}

// Nominate votes to nominate Votes and accepts the nomination of Accepted.
// Both are strictly increasing, not both empty, and (this package's
// convention, as in stellar-core) every accepted value is also a vote.
type Nominate struct {
	QSetHash Hash
	Votes    []Value
	Accepted []Value
}

// Prepare is the PREPARE statement: vote-or-accept prepare(Ballot), accept
// prepare(Prepared) and prepare(PreparedPrime), confirm prepare((NH, b.x))
// when NH != 0, vote commit((k, b.x)) for NC <= k <= NH when NC != 0.
type Prepare struct {
	QSetHash      Hash
	Ballot        Ballot
	Prepared      *Ballot
	PreparedPrime *Ballot
	NC            uint32
	NH            uint32
}

// Confirm is the CONFIRM statement (COMMIT in the draft): accept
// commit((k, b.x)) for NCommit <= k <= NH, vote-or-accept prepare((∞, b.x)),
// accept prepare((NPrepared, b.x)), confirm prepare((NH, b.x)), vote commit
// for every k >= NCommit.
type Confirm struct {
	Ballot    Ballot
	NPrepared uint32
	NCommit   uint32
	NH        uint32
	QSetHash  Hash
}

// Externalize is the EXTERNALIZE statement: the sender confirmed
// commit((k, Commit.Value)) for Commit.Counter <= k <= NH, accepts commit
// for every k >= Commit.Counter and prepare((∞, Commit.Value)).
type Externalize struct {
	Commit         Ballot
	NH             uint32
	CommitQSetHash Hash
}

// Type implements Pledge.
func (Nominate) Type() StatementType { return TypeNominate }

// Type implements Pledge.
func (Prepare) Type() StatementType { return TypePrepare }

// Type implements Pledge.
func (Confirm) Type() StatementType { return TypeConfirm }

// Type implements Pledge.
func (Externalize) Type() StatementType { return TypeExternalize }

func (Nominate) isPledge()    {}
func (Prepare) isPledge()     {}
func (Confirm) isPledge()     {}
func (Externalize) isPledge() {}

// Statement is what a node says about a slot.
type Statement struct {
	NodeID quorum.NodeID
	Slot   uint64
	Pledge Pledge
}

// Envelope is a statement with the sender's signature. The core neither
// signs nor verifies: the transport signs SigningBytes with the node's key
// and verifies before calling Node.Step.
type Envelope struct {
	Statement Statement
	Signature []byte
}

// Type is the type of the statement's pledge (0 if it has none).
func (st *Statement) Type() StatementType {
	if st.Pledge == nil {
		return 0
	}
	return st.Pledge.Type()
}

// QSetHash is the hash of the quorum set the statement refers to (for
// EXTERNALIZE, the one used while committing).
func (st *Statement) QSetHash() Hash {
	switch p := st.Pledge.(type) {
	case Nominate:
		return p.QSetHash
	case Prepare:
		return p.QSetHash
	case Confirm:
		return p.QSetHash
	case Externalize:
		return p.CommitQSetHash
	}
	return Hash{}
}

// workingBallot is the ballot a ballot statement is about: PREPARE b,
// CONFIRM (nCommit, x), EXTERNALIZE c.
func workingBallot(st *Statement) Ballot {
	switch p := st.Pledge.(type) {
	case Prepare:
		return p.Ballot
	case Confirm:
		return Ballot{p.NCommit, p.Ballot.Value}
	case Externalize:
		return p.Commit
	}
	return Ballot{}
}

// statementCounter is the counter used by the bump rule: b.n for PREPARE and
// CONFIRM, ∞ for EXTERNALIZE.
func statementCounter(st *Statement) uint32 {
	switch p := st.Pledge.(type) {
	case Prepare:
		return p.Ballot.Counter
	case Confirm:
		return p.Ballot.Counter
	case Externalize:
		return Infinite
	}
	return 0
}

func strictlySorted(vs []Value) bool {
	for i := 1; i < len(vs); i++ {
		if vs[i-1].Compare(vs[i]) >= 0 {
			return false
		}
	}
	return true
}

// containsValue reports whether the sorted list vs holds v.
func containsValue(vs []Value, v Value) bool {
	lo, hi := 0, len(vs)
	for lo < hi {
		m := (lo + hi) / 2
		switch c := vs[m].Compare(v); {
		case c == 0:
			return true
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return false
}

// isSubset reports whether sorted a ⊆ sorted b.
func isSubset(a, b []Value) bool {
	if len(a) > len(b) {
		return false
	}
	for _, v := range a {
		if !containsValue(b, v) {
			return false
		}
	}
	return true
}

// Check reports whether a statement is well formed, with the rules of
// stellar-core's isStatementSane / NominationProtocol::isSane:
//
//	NOMINATE: votes and accepted strictly sorted, not both empty, accepted ⊆ votes;
//	PREPARE: b.n > 0; p' ⋦ p when both are present; nH == 0 or (p present and
//	  nH <= p.n); nC == 0 or (nH != 0 and nC <= nH <= b.n);
//	CONFIRM: b.n > 0, nH <= b.n, 0 < nCommit <= nH (stellar-core allows
//	  nCommit = 0, which no well-behaved node sends);
//	EXTERNALIZE: c.n > 0, nH >= c.n.
//
// It also bounds sizes (MaxValueSize, MaxNominationValues). It does not
// look at quorum sets or value validity.
func (st *Statement) Check() error { return st.check(false) }

// check is Check; self allows the local node's PREPARE with counter 0,
// which it records internally before it has a ballot but never emits.
func (st *Statement) check(self bool) error {
	switch p := st.Pledge.(type) {
	case Nominate:
		if len(p.Votes)+len(p.Accepted) == 0 {
			return fmt.Errorf("empty nomination")
		}
		if len(p.Votes) > MaxNominationValues || len(p.Accepted) > MaxNominationValues {
			return fmt.Errorf("nomination holds more than %d values", MaxNominationValues)
		}
		if !strictlySorted(p.Votes) || !strictlySorted(p.Accepted) {
			return fmt.Errorf("nomination values not strictly sorted")
		}
		if !isSubset(p.Accepted, p.Votes) {
			return fmt.Errorf("accepted nomination values missing from votes")
		}
		for _, v := range p.Votes {
			if len(v) > MaxValueSize {
				return fmt.Errorf("value of %d bytes exceeds %d", len(v), MaxValueSize)
			}
		}
	case Prepare:
		if p.Ballot.Counter == 0 && !self {
			return fmt.Errorf("prepare with counter 0")
		}
		if p.Prepared != nil && p.PreparedPrime != nil && !lessAndIncompatible(*p.PreparedPrime, *p.Prepared) {
			return fmt.Errorf("prepare with p' not below and incompatible with p")
		}
		if p.PreparedPrime != nil && p.Prepared == nil {
			return fmt.Errorf("prepare with p' but no p")
		}
		if p.NH != 0 && (p.Prepared == nil || p.NH > p.Prepared.Counter) {
			return fmt.Errorf("prepare with nH above p")
		}
		if p.NC != 0 && (p.NH == 0 || p.NC > p.NH || p.NH > p.Ballot.Counter) {
			return fmt.Errorf("prepare with nC not in [1, nH <= b.n]")
		}
		for _, b := range []*Ballot{&p.Ballot, p.Prepared, p.PreparedPrime} {
			if b != nil && len(b.Value) > MaxValueSize {
				return fmt.Errorf("value of %d bytes exceeds %d", len(b.Value), MaxValueSize)
			}
		}
	case Confirm:
		if p.Ballot.Counter == 0 || p.NCommit == 0 || p.NH > p.Ballot.Counter || p.NCommit > p.NH {
			return fmt.Errorf("confirm not satisfying 0 < nCommit <= nH <= b.n")
		}
		if len(p.Ballot.Value) > MaxValueSize {
			return fmt.Errorf("value of %d bytes exceeds %d", len(p.Ballot.Value), MaxValueSize)
		}
	case Externalize:
		if p.Commit.Counter == 0 || p.NH < p.Commit.Counter {
			return fmt.Errorf("externalize not satisfying 0 < c.n <= nH")
		}
		if len(p.Commit.Value) > MaxValueSize {
			return fmt.Errorf("value of %d bytes exceeds %d", len(p.Commit.Value), MaxValueSize)
		}
	default:
		return fmt.Errorf("statement without a pledge")
	}
	return nil
}

// isNewerBallotStatement is stellar-core's total order of one sender's
// ballot statements: by type (PREPARE < CONFIRM < EXTERNALIZE); PREPAREs by
// (b, p, p', nH); CONFIRMs by (b, nPrepared, nH); a second EXTERNALIZE is
// never newer.
func isNewerBallotStatement(old, st *Statement) bool {
	if old.Type() != st.Type() {
		return old.Type() < st.Type()
	}
	switch p := st.Pledge.(type) {
	case Externalize:
		return false
	case Confirm:
		o := old.Pledge.(Confirm)
		if c := o.Ballot.Compare(p.Ballot); c != 0 {
			return c < 0
		}
		if o.NPrepared != p.NPrepared {
			return o.NPrepared < p.NPrepared
		}
		return o.NH < p.NH
	case Prepare:
		o := old.Pledge.(Prepare)
		if c := o.Ballot.Compare(p.Ballot); c != 0 {
			return c < 0
		}
		if c := compareOpt(o.Prepared, p.Prepared); c != 0 {
			return c < 0
		}
		if c := compareOpt(o.PreparedPrime, p.PreparedPrime); c != 0 {
			return c < 0
		}
		return o.NH < p.NH
	}
	return false
}

// isNewerNomination: both sets are supersets of the old ones and at least
// one of them grew (NominationProtocol::isNewerStatement).
func isNewerNomination(old, st *Nominate) bool {
	if !isSubset(old.Votes, st.Votes) || !isSubset(old.Accepted, st.Accepted) {
		return false
	}
	return len(st.Votes) > len(old.Votes) || len(st.Accepted) > len(old.Accepted)
}

// String prints a statement compactly, e.g. "PREP 2:x p=1:x h=1 c=1".
func (st Statement) String() string {
	var sb strings.Builder
	switch p := st.Pledge.(type) {
	case Nominate:
		fmt.Fprintf(&sb, "NOM votes=%s acc=%s", valueList(p.Votes), valueList(p.Accepted))
	case Prepare:
		fmt.Fprintf(&sb, "PREP b=%s", p.Ballot)
		if p.Prepared != nil {
			fmt.Fprintf(&sb, " p=%s", p.Prepared)
		}
		if p.PreparedPrime != nil {
			fmt.Fprintf(&sb, " p'=%s", p.PreparedPrime)
		}
		if p.NC != 0 {
			fmt.Fprintf(&sb, " c=%d", p.NC)
		}
		if p.NH != 0 {
			fmt.Fprintf(&sb, " h=%d", p.NH)
		}
	case Confirm:
		fmt.Fprintf(&sb, "CONF b=%s p=%s c=%d h=%d", p.Ballot, counterString(p.NPrepared), p.NCommit, p.NH)
	case Externalize:
		fmt.Fprintf(&sb, "EXT c=%s h=%s", p.Commit, counterString(p.NH))
	default:
		sb.WriteString("EMPTY")
	}
	return sb.String()
}

func counterString(n uint32) string {
	if n == Infinite {
		return "inf"
	}
	return fmt.Sprint(n)
}

func valueList(vs []Value) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.String()
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// Supersedes reports whether st replaces old as the latest statement of
// their (common) sender: for NOMINATE both value sets grew as supersets
// with at least one strictly larger; for ballot statements stellar-core's
// order (type, then PREPARE (b, p, p', nH), CONFIRM (b, nPrepared, nH), a
// second EXTERNALIZE never). Statements of different protocols never
// supersede each other.
func Supersedes(old, st Statement) bool {
	on, oNom := old.Pledge.(Nominate)
	sn, sNom := st.Pledge.(Nominate)
	switch {
	case oNom && sNom:
		return isNewerNomination(&on, &sn)
	case oNom || sNom || old.Pledge == nil || st.Pledge == nil:
		return false
	}
	return isNewerBallotStatement(&old, &st)
}
