package commit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/pgfed/pgfed/consensus"
)

// KeyTag is the lowercase hex of the first 12 bytes of SHA-256 over the
// key, restated here from the definition.
func TestKeyTag(t *testing.T) {
	for _, name := range []string{"coordinator", "rogue", "bank1/0"} {
		k := pub(testKey(name))
		sum := sha256.Sum256(k[:])
		want := hex.EncodeToString(sum[:12])
		if got := KeyTag(k); got != want || len(got) != KeyTagLen || strings.ToLower(got) != got {
			t.Errorf("KeyTag(%s) = %q, want %q", name, got, want)
		}
	}
	if KeyTag(pub(testKey("a"))) == KeyTag(pub(testKey("b"))) {
		t.Fatal("two keys, one tag")
	}
}

func TestGIDKeyTag(t *testing.T) {
	for gid, want := range map[string]string{
		"pgfedx_abc_1":       "abc",
		"pgfedx_abc_1_2":     "abc", // the rest may hold '_'
		"p_t_r":              "t",
		"pgfedx_abc":         "", // no rest
		"pgfedx_abc_":        "",
		"_abc_1":             "", // no prefix
		"pgfedx__1":          "", // no tag
		"pgfedx":             "",
		"":                   "",
		"pgfed_coord-1_7f_3": "coord-1",
	} {
		got, ok := GIDKeyTag(gid)
		if got != want || ok != (want != "") {
			t.Errorf("GIDKeyTag(%q) = %q, %v", gid, got, ok)
		}
	}
}

// forge signs r with key as its coordinator without SignRequest's check:
// what a rival for someone else's gid would send.
func forge(f *fixture, key ed25519.PrivateKey, r Request) Request {
	copy(r.Coordinator[:], key.Public().(ed25519.PublicKey))
	msg := append([]byte("pgfed/commit/v1"), f.network[:]...)
	msg = binary.BigEndian.AppendUint32(msg, 1)
	copy(r.Signature[:], ed25519.Sign(key, append(msg, r.Content()...)))
	return r
}

// A gid belongs to the key it names (doc.go, safety argument, point 3): a
// request for the coordinator's gid signed by any other key is refused on
// every path — signing, Verify, CheckRequest, decoding, Participant.Learn,
// Proposer.AddRequest, decision and value validity — and a participant
// that met the rival first still learns and votes on the coordinator's
// request.
func TestRequestGIDMustNameItsCoordinatorKey(t *testing.T) {
	f := newFixture(t, 1, 1)
	rogue := testKey("rogue")
	honest := f.request(t, "g", "bank1", "bank2")
	// the rival lists bank1's part alone
	r := Request{GID: honest.GID, Created: 1, Participants: []OrgParts{{Org: "bank1", Parts: honest.Participants[0].Parts}}}

	if _, err := SignRequest(f.network, rogue, r); !errors.Is(err, ErrRequest) || !strings.Contains(err.Error(), "names key tag") {
		t.Fatalf("SignRequest of another key's gid: %v", err)
	}
	rival := forge(f, rogue, r)
	if !ed25519.Verify(ed25519.PublicKey(rival.Coordinator[:]), signingBytes(f.network, kindRequest, rival.Content()), rival.Signature[:]) {
		t.Fatal("the forged signature itself must be good")
	}
	if err := rival.Verify(f.network); !errors.Is(err, ErrRequest) {
		t.Fatalf("Verify: %v", err)
	}
	if err := f.m.CheckRequest(&rival); !errors.Is(err, ErrRequest) {
		t.Fatalf("CheckRequest: %v", err)
	}
	if _, err := DecodeRequest(rival.Encode()); !errors.Is(err, ErrMalformed) {
		t.Fatalf("DecodeRequest: %v", err)
	}
	prop, _ := NewProposer(ProposerConfig{Ledger: NewLedger(f.m)})
	if err := prop.AddRequest(rival); !errors.Is(err, ErrRequest) {
		t.Fatalf("AddRequest: %v", err)
	}
	// an ABORT of the rival, justified by bank1's ABORT vote on it, is no
	// valid decision, and a value holding it is invalid
	abort := f.decision(Abort, rival, f.vote("bank1", 0, &rival, VoteAbort))
	if err := f.m.CheckDecision(&abort); !errors.Is(err, ErrRequest) {
		t.Fatalf("CheckDecision: %v", err)
	}
	if lvl := NewDriver(f.m).Validate(1, value(abort), false); lvl != consensus.Invalid {
		t.Fatalf("a value with the rival's decision: %v", lvl)
	}
	// the same rival by the coordinator's own key is a good request: the
	// gid is its own (an equivocating coordinator, see below)
	if _, err := SignRequest(f.network, f.coord, r); err != nil {
		t.Fatal(err)
	}

	p := newParticipant(t, f, "bank1", 0, 5)
	if err := p.Learn(rival); !errors.Is(err, ErrRequest) {
		t.Fatalf("Learn: %v", err)
	}
	if err := p.Learn(honest); err != nil {
		t.Fatalf("the coordinator's request after the rival: %v", err)
	}
	vs := p.Decide(statusMap(map[string]PartStatus{f.gid("g_1"): PartPrepared}))
	if len(vs) != 1 || vs[0].Kind != VotePrepared || vs[0].Request != honest.Hash() {
		t.Fatalf("votes %+v", vs)
	}

	// a gid that names no key at all
	for _, gid := range []string{"g", "pgfedx_" + KeyTag(pub(f.coord)), "_" + KeyTag(pub(f.coord)) + "_1"} {
		r := Request{GID: gid, Participants: []OrgParts{{Org: "bank1", Parts: []Part{{Worker: "w", GID: gid + "_1"}}}}}
		if _, err := SignRequest(f.network, f.coord, r); !errors.Is(err, ErrRequest) {
			t.Errorf("gid %q: %v", gid, err)
		}
	}
}

// A coordinator that signs two requests for its own gid can only get one
// of them decided, the same at every honest organization, and each
// organization's parts follow that one: bank1 learns R2 (bank1 alone)
// first and bank2 learns R1 (bank1 and bank2). bank1 votes on R2 only, so
// R1 can never have every participant's PREPARED; R2 commits, bank1's
// part (listed by R2) commits, bank2's part (listed only by R1) rolls
// back: exactly what R2 alone, a request the coordinator could have
// submitted honestly, would have done.
func TestEquivocatingCoordinatorOwnGID(t *testing.T) {
	f := newFixture(t, 1, 1)
	r1 := f.request(t, "g", "bank1", "bank2")
	r2, err := SignRequest(f.network, f.coord, Request{GID: r1.GID, Created: 2,
		Participants: []OrgParts{{Org: "bank1", Parts: r1.Participants[0].Parts}}})
	if err != nil {
		t.Fatal(err)
	}
	p1, p2 := newParticipant(t, f, "bank1", 0, 5), newParticipant(t, f, "bank2", 0, 5)
	if err := p1.Learn(r2); err != nil {
		t.Fatal(err)
	}
	if err := p1.Learn(r1); !errors.Is(err, ErrConflictingRequest) {
		t.Fatalf("bank1 learns the second request: %v", err)
	}
	if err := p2.Learn(r1); err != nil {
		t.Fatal(err)
	}
	bank1Part, bank2Part := r1.Participants[0].Parts[0], r1.Participants[1].Parts[0]
	prepared := statusMap(map[string]PartStatus{bank1Part.GID: PartPrepared, bank2Part.GID: PartPrepared})
	prop, _ := NewProposer(ProposerConfig{Ledger: NewLedger(f.m)})
	for _, r := range []Request{r1, r2} {
		if err := prop.AddRequest(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range append(p1.Decide(prepared), p2.Decide(prepared)...) {
		if err := prop.AddVote(v); err != nil {
			t.Fatal(err)
		}
	}
	d, ok := prop.Justify(r1.GID)
	if !ok || d.Outcome != Commit || d.Request.Hash() != r2.Hash() {
		t.Fatalf("justified %v: %s of R2: %v", ok, d.Outcome, d.Request.Hash() == r2.Hash())
	}
	if _, ok := prop.justify(r1, Commit); ok {
		t.Fatal("R1 committed without bank1's PREPARED on it")
	}
	// every honest organization's ledger holds this one final decision
	// (SCP agreement) and resolves both parts against it
	l := NewLedger(f.m)
	apply(t, l, 1, value(d))
	if res := l.Resolve("bank1", bank1Part); res != CommitPrepared {
		t.Fatalf("bank1's part: %s", res)
	}
	if res := l.Resolve("bank2", bank2Part); res != RollbackPrepared {
		t.Fatalf("bank2's part: %s", res)
	}
}
