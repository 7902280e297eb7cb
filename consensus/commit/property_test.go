package commit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgfed/pgfed/consensus"
)

// testSeed is COMMIT_SEED when set, else the clock; tests print it so a
// failure can be replayed.
func testSeed(t *testing.T) int64 {
	if s := os.Getenv("COMMIT_SEED"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	return time.Now().UnixNano()
}

// naiveVerify checks an Ed25519 signature over the signing bytes built
// here, independently of signingBytes.
func naiveVerify(f *fixture, key [32]byte, kind uint32, content []byte, sig [64]byte) bool {
	msg := []byte("pgfed/commit/v1")
	msg = append(msg, f.network[:]...)
	msg = binary.BigEndian.AppendUint32(msg, kind)
	msg = append(msg, content...)
	return ed25519.Verify(ed25519.PublicKey(key[:]), msg, sig[:])
}

// naiveOrgOf finds the organization of a key by scanning the fixture.
func naiveOrgOf(f *fixture, key [32]byte) string {
	for org, ks := range f.keys {
		for _, k := range ks {
			if pub(k) == key {
				return org
			}
		}
	}
	return ""
}

func naiveThreshold(f *fixture, org string) int { return len(f.keys[org])/2 + 1 }

// naiveDecisionOK is a brute-force restatement of the validity rules.
func naiveDecisionOK(f *fixture, d *Decision) bool {
	r := &d.Request
	tag := sha256.Sum256(r.Coordinator[:])
	if fields := strings.Split(r.GID, "_"); len(fields) < 3 || fields[0] == "" || fields[1] != hex.EncodeToString(tag[:12]) {
		return false
	}
	for _, p := range r.Participants {
		if f.keys[p.Org] == nil {
			return false
		}
	}
	if !naiveVerify(f, r.Coordinator, 1, r.Content(), r.Signature) {
		return false
	}
	want := VotePrepared
	if d.Outcome == Abort {
		want = VoteAbort
	} else if d.Outcome != Commit {
		return false
	}
	signers := map[[32]byte]bool{}
	count := map[string]int{}
	for _, v := range d.Votes {
		_, part := r.Participant(v.Org)
		if signers[v.Signer] || !part || v.GID != r.GID || v.Request != r.Hash() || v.Kind != want ||
			naiveOrgOf(f, v.Signer) != v.Org || !naiveVerify(f, v.Signer, 2, v.Content(), v.Signature) {
			return false
		}
		signers[v.Signer] = true
		count[v.Org]++
		if count[v.Org] > naiveThreshold(f, v.Org) {
			return false
		}
	}
	all, any := true, false
	for _, p := range r.Participants {
		ok := count[p.Org] >= naiveThreshold(f, p.Org)
		all = all && ok
		any = any || ok
	}
	if d.Outcome == Commit {
		return all
	}
	return any
}

func naiveValueOK(f *fixture, b []byte) bool {
	v, err := DecodeValue(b)
	if err != nil || len(v.Decisions) == 0 || len(v.Decisions) > f.m.MaxDecisions() {
		return false
	}
	for i := range v.Decisions {
		if !naiveDecisionOK(f, &v.Decisions[i]) {
			return false
		}
	}
	return true
}

// world is a random pool of requests and votes, honest and not.
type world struct {
	f     *fixture
	rng   *rand.Rand
	reqs  []Request
	votes map[string][]Vote // by gid
}

func newWorld(t *testing.T, f *fixture, rng *rand.Rand) *world {
	w := &world{f: f, rng: rng, votes: map[string][]Vote{}}
	gids := []string{f.gid("ga"), f.gid("gb"), f.gid("gc"), f.gid("gd"), f.gid("ge")}
	rogue := testKey("rogue coordinator")
	orgs := append(append([]string(nil), f.orgs...), "bank9") // bank9 is no member
	for i := 0; i < 8; i++ {
		gid := gids[rng.Intn(len(gids))] // repeats: an equivocating coordinator
		n := 2 + rng.Intn(3)
		perm := rng.Perm(len(f.orgs))
		var ps []string
		for _, j := range perm[:n] {
			ps = append(ps, f.orgs[j])
		}
		if rng.Intn(10) == 0 {
			ps[0] = orgs[len(orgs)-1]
		}
		r := Request{GID: gid, Created: rng.Int63()}
		sort.Strings(ps)
		for k, o := range ps {
			r.Participants = append(r.Participants, OrgParts{Org: o, Parts: []Part{{Worker: "w", GID: gid + "_" + strconv.Itoa(k)}}})
		}
		sr, err := SignRequest(f.network, f.coord, r)
		if err != nil {
			t.Fatal(err)
		}
		switch rng.Intn(8) {
		case 0:
			sr.Signature[rng.Intn(64)] ^= 1 // forged coordinator signature
		case 1:
			// a rival request signed by another key for the coordinator's
			// gid (SignRequest refuses to make it)
			sr.Coordinator = pub(rogue)
			copy(sr.Signature[:], ed25519.Sign(rogue, signingBytes(f.network, kindRequest, sr.Content())))
		}
		w.reqs = append(w.reqs, sr)
	}
	for i := range w.reqs {
		r := &w.reqs[i]
		for _, org := range f.orgs {
			for k := range f.keys[org] {
				var kinds []VoteKind
				switch x := rng.Intn(10); {
				case org == "bank4" && x < 5: // the Byzantine organization signs both
					kinds = []VoteKind{VotePrepared, VoteAbort}
				case x < 8:
					kinds = []VoteKind{VotePrepared}
				case x < 9:
					kinds = []VoteKind{VoteAbort}
				}
				for _, kind := range kinds {
					v := signVote(f.network, f.keys[org][k], r.GID, org, kind, r.Hash())
					switch rng.Intn(20) {
					case 0:
						v.Signature[rng.Intn(64)] ^= 1 // forged
					case 1:
						o := w.reqs[rng.Intn(len(w.reqs))] // for another request hash
						v = signVote(f.network, f.keys[org][k], r.GID, org, kind, o.Hash())
					case 2:
						v = signVote(f.network, f.keys[org][k], r.GID, f.orgs[rng.Intn(len(f.orgs))], kind, r.Hash()) // claims another org
					}
					w.votes[r.GID] = append(w.votes[r.GID], v)
				}
			}
		}
	}
	return w
}

// decision builds a random decision, justified or not.
func (w *world) decision() Decision {
	r := w.reqs[w.rng.Intn(len(w.reqs))]
	d := Decision{Outcome: Outcome(1 + w.rng.Intn(2)), Request: r}
	seen := map[[32]byte]bool{}
	for _, v := range w.votes[r.GID] {
		if w.rng.Intn(3) > 0 && !seen[v.Signer] {
			seen[v.Signer] = true
			d.Votes = append(d.Votes, v)
		}
	}
	d.Votes = sortVotes(d.Votes)
	return d
}

// justified builds, when it can, a valid decision from the pool.
func (w *world) justified() (Decision, bool) {
	p, _ := NewProposer(ProposerConfig{Ledger: NewLedger(w.f.m)})
	r := w.reqs[w.rng.Intn(len(w.reqs))]
	if p.AddRequest(r) != nil {
		return Decision{}, false
	}
	for _, v := range w.votes[r.GID] {
		_ = p.AddVote(v)
	}
	return p.justify(r, Outcome(1+w.rng.Intn(2)))
}

func (w *world) value(valid bool) consensus.Value {
	byGID := map[string]Decision{}
	n := 1 + w.rng.Intn(4)
	for i := 0; i < n; i++ {
		var d Decision
		if valid {
			var ok bool
			if d, ok = w.justified(); !ok {
				continue
			}
		} else {
			d = w.decision()
		}
		byGID[d.GID()] = d
	}
	var ds []Decision
	for _, d := range byGID {
		ds = append(ds, d)
	}
	return value(ds...)
}

func shuffled(rng *rand.Rand, vs []consensus.Value) []consensus.Value {
	out := append([]consensus.Value(nil), vs...)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	if len(out) > 0 && rng.Intn(2) == 0 {
		out = append(out, out[rng.Intn(len(out))]) // a duplicate
	}
	return out
}

// reorderedMembership is the same federation listed in another order.
func reorderedMembership(t *testing.T, f *fixture, rng *rand.Rand) *Membership {
	var cfg Config
	cfg.Network = f.network
	for _, i := range rng.Perm(len(f.orgs)) {
		o := Org{Name: f.orgs[i]}
		for _, j := range rng.Perm(len(f.keys[f.orgs[i]])) {
			o.Validators = append(o.Validators, pub(f.keys[f.orgs[i]][j]))
		}
		cfg.Orgs = append(cfg.Orgs, o)
	}
	m, err := NewMembership(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestPropertyValidityCombineLedger: for random pools of requests and
// votes (forged signatures, votes of non-participants or for another
// request hash, votes claiming another organization, a Byzantine
// organization signing both kinds, forged coordinator signatures, requests
// signed by a key their gid does not name, repeated gids), validity agrees with a brute-force restatement and between
// validators with differently ordered configs; Combine is order- and
// duplicate-independent, yields a valid value holding one decision per gid
// of the union, COMMIT wherever a candidate had COMMIT; every COMMIT
// accepted is justified by every participant's PREPARED votes; ledgers fed
// the same values agree, also after a snapshot and restore.
func TestPropertyValidityCombineLedger(t *testing.T) {
	seed := testSeed(t)
	t.Logf("seed %d (COMMIT_SEED=%d to replay)", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	f := newFixture(t, 1, 1, 3, 1) // bank3: three validators, threshold 2; bank4 Byzantine
	rounds := 15
	if testing.Short() {
		rounds = 5
	}
	var nValid, nInvalid, nCommit int
	for round := 0; round < rounds; round++ {
		w := newWorld(t, f, rng)
		d1, d2 := NewDriver(f.m), NewDriver(reorderedMembership(t, f, rng))
		var valid []consensus.Value
		var all []consensus.Value
		for i := 0; i < 12; i++ {
			v := w.value(i%2 == 0)
			if i%5 == 4 && len(v) > 8 {
				v = v[:rng.Intn(len(v))] // truncated
			}
			all = append(all, v)
			got1, got2, want := d1.Validate(1, v, true), d2.Validate(99, v, false), naiveValueOK(f, v)
			if got1 != got2 || (got1 == consensus.FullyValid) != want {
				t.Fatalf("seed %d round %d: validity %s / %s, brute force %v", seed, round, got1, got2, want)
			}
			if want {
				nValid++
				valid = append(valid, v)
				val, _ := DecodeValue(v)
				for _, d := range val.Decisions {
					if d.Outcome == Commit {
						nCommit++
					}
				}
			} else {
				nInvalid++
			}
		}
		if len(valid) == 0 {
			continue
		}
		// Combine over random subsets of the valid values.
		for k := 0; k < 4; k++ {
			var cands []consensus.Value
			for _, v := range valid {
				if rng.Intn(2) == 0 {
					cands = append(cands, v)
				}
			}
			if len(cands) == 0 {
				cands = valid[:1]
			}
			slot := uint64(1 + rng.Intn(5))
			c := d1.Combine(slot, cands)
			if c2 := d2.Combine(slot, shuffled(rng, cands)); !bytes.Equal(c, c2) {
				t.Fatalf("seed %d round %d: combine depends on order or config order", seed, round)
			}
			if !naiveValueOK(f, c) {
				t.Fatalf("seed %d round %d: combine of valid values is invalid", seed, round)
			}
			union := map[string]Outcome{}
			for _, v := range cands {
				val, _ := DecodeValue(v)
				for _, d := range val.Decisions {
					if union[d.GID()] != Commit {
						union[d.GID()] = d.Outcome
					}
				}
			}
			cv, _ := DecodeValue(c)
			if len(cv.Decisions) != len(union) {
				t.Fatalf("seed %d round %d: %d decisions of %d gids", seed, round, len(cv.Decisions), len(union))
			}
			for _, d := range cv.Decisions {
				if union[d.GID()] != d.Outcome {
					t.Fatalf("seed %d round %d: gid %s: combine gave %s, candidates %s", seed, round, d.GID(), d.Outcome, union[d.GID()])
				}
			}
		}
		// Ledgers fed the same values, valid or not, agree.
		seq := shuffled(rng, all)
		l1, l2 := NewLedger(f.m), NewLedger(reorderedMembership(t, f, rng))
		for i, v := range seq {
			a1, err1 := l1.Apply(uint64(i+1), v)
			a2, err2 := l2.Apply(uint64(i+1), v)
			if err1 != nil || err2 != nil || len(a1.Final) != len(a2.Final) || len(a1.Ignored) != len(a2.Ignored) {
				t.Fatalf("seed %d round %d slot %d: ledgers apply differently", seed, round, i+1)
			}
			if i == len(seq)/2 {
				r, err := RestoreLedger(f.m, l2.Snapshot())
				if err != nil {
					t.Fatalf("seed %d: restore: %v", seed, err)
				}
				l2 = r
			}
		}
		if l1.Digest() != l2.Digest() {
			t.Fatalf("seed %d round %d: ledgers differ", seed, round)
		}
		for _, r := range w.reqs {
			if fin, ok := l1.Decision(r.GID); ok && !naiveDecisionOK(f, &fin.Decision) {
				t.Fatalf("seed %d round %d: gid %s final without justification", seed, round, r.GID)
			}
		}
	}
	t.Logf("%d valid values (%d COMMIT decisions), %d invalid", nValid, nCommit, nInvalid)
	if nValid == 0 || nInvalid == 0 || nCommit == 0 {
		t.Fatalf("seed %d: the generator is too one-sided", seed)
	}
}
