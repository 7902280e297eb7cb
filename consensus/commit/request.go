package commit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
)

// Part is one prepared transaction of a cross-organization transaction: the
// worker that holds it and its worker gid (the name given to PREPARE
// TRANSACTION). A part's gid is the request's GID, '_', and a suffix
// without '_' (pgfedx_<key tag>_<txid>_<node> for the global id
// pgfedx_<key tag>_<txid>, executor/dtx's federated gids), so that every
// worker gid belongs to exactly one global transaction, whatever requests
// are signed.
type Part struct {
	// Worker names the worker as its organization knows it: the
	// organization's validator finds the part by this name and the gid,
	// compared exactly.
	Worker string
	// GID is the worker gid.
	GID string
}

// OrgParts lists one participant organization's parts of a transaction.
type OrgParts struct {
	// Org is the organization's name.
	Org string
	// Parts are its prepared parts, sorted by GID, at least one.
	Parts []Part
}

// Request asks the validators to decide a cross-organization transaction.
// The coordinator signs and submits it before it prepares the parts (see
// doc.go, "What the other pieces must do"). Its Hash names its content;
// votes refer to it.
//
// A gid belongs to one coordinator key: GID is
// "<prefix>_<KeyTag(Coordinator)>_<rest>" (GIDKeyTag: a non-empty prefix
// without '_', the tag as the second '_'-separated field, a non-empty
// rest), and a request whose GID names another key's tag is refused
// (ErrRequest) wherever it is checked: SignRequest, Verify,
// Membership.CheckRequest, DecodeRequest, and so Participant.Learn,
// Proposer.AddRequest and the validity of decisions. Only the
// coordinator that owns a gid can therefore sign a request for it, and
// nobody can plant a rival request that lists only some of its parts
// (doc.go, safety argument, point 3).
type Request struct {
	// GID is the global transaction id, naming the coordinator key.
	GID string
	// Participants are the organizations taking part, sorted by name, at
	// least one, each with its parts. One is enough: a write on several
	// workers of one organization behind a gateway is decided by the
	// validators too, because the gateway refuses COMMIT PREPARED from
	// coordinators.
	Participants []OrgParts
	// Coordinator is the Ed25519 public key of the signing coordinator.
	Coordinator quorum.NodeID
	// Created is when the coordinator made the request (Unix nanoseconds).
	// It is data for people and logs only: no rule compares it with a
	// clock.
	Created int64
	// Signature is the coordinator's signature over the content (network
	// id and message kind bound in).
	Signature [ed25519.SignatureSize]byte
}

// ErrRequest is wrapped by the errors about a request's form or signature.
var ErrRequest = errors.New("commit: bad request")

// check verifies the request's form (not its signature nor membership),
// including that its GID names its Coordinator key (GIDKeyTag, KeyTag).
func (r *Request) check() error {
	if err := checkGID(r.GID); err != nil {
		return err
	}
	if err := checkGIDKey(r.GID, r.Coordinator); err != nil {
		return err
	}
	if len(r.GID)+2 > MaxGIDLen {
		return fmt.Errorf("gid %q leaves no room for worker gids", r.GID)
	}
	if len(r.Participants) < 1 || len(r.Participants) > MaxParticipants {
		return fmt.Errorf("gid %s: %d participants, need 1 to %d", r.GID, len(r.Participants), MaxParticipants)
	}
	seen := map[string]bool{}
	for i, p := range r.Participants {
		if err := checkName(p.Org); err != nil {
			return fmt.Errorf("gid %s: participant: %v", r.GID, err)
		}
		if i > 0 && r.Participants[i-1].Org >= p.Org {
			return fmt.Errorf("gid %s: participants not sorted or repeated at %q", r.GID, p.Org)
		}
		if len(p.Parts) == 0 || len(p.Parts) > MaxParts {
			return fmt.Errorf("gid %s: participant %s has %d parts, need 1 to %d", r.GID, p.Org, len(p.Parts), MaxParts)
		}
		for j, pt := range p.Parts {
			if err := checkName(pt.Worker); err != nil {
				return fmt.Errorf("gid %s: worker: %v", r.GID, err)
			}
			if err := checkGID(pt.GID); err != nil {
				return fmt.Errorf("gid %s: part: %v", r.GID, err)
			}
			if owner, ok := PartOwner(pt.GID); !ok || owner != r.GID {
				return fmt.Errorf("gid %s: worker gid %s is not <gid>_<suffix without '_'>", r.GID, pt.GID)
			}
			if j > 0 && p.Parts[j-1].GID >= pt.GID {
				return fmt.Errorf("gid %s: parts of %s not sorted by gid at %s", r.GID, p.Org, pt.GID)
			}
			if seen[pt.GID] {
				return fmt.Errorf("gid %s: worker gid %s appears twice", r.GID, pt.GID)
			}
			seen[pt.GID] = true
		}
	}
	return nil
}

// Participant returns org's parts (nil, false when org does not take part).
func (r *Request) Participant(org string) ([]Part, bool) {
	for _, p := range r.Participants {
		if p.Org == org {
			return p.Parts, true
		}
	}
	return nil, false
}

func (e *encoder) requestContent(r *Request) {
	e.str(r.GID)
	e.raw(r.Coordinator[:])
	e.u64(uint64(r.Created))
	e.u16(uint16(len(r.Participants)))
	for _, p := range r.Participants {
		e.str(p.Org)
		e.u16(uint16(len(p.Parts)))
		for _, pt := range p.Parts {
			e.str(pt.Worker)
			e.str(pt.GID)
		}
	}
}

// Content returns the canonical encoding of everything but the signature.
func (r *Request) Content() []byte {
	var e encoder
	e.requestContent(r)
	return e.buf
}

// Hash is the request's id: SHA-256 of a domain string and Content.
// Votes name the request they are about by its hash.
func (r *Request) Hash() consensus.Hash {
	h := sha256.New()
	h.Write([]byte(hashDomain))
	h.Write(r.Content())
	var out consensus.Hash
	h.Sum(out[:0])
	return out
}

// Encode returns the canonical encoding: Content, then the signature.
func (r *Request) Encode() []byte {
	var e encoder
	e.request(r)
	return e.buf
}

func (e *encoder) request(r *Request) {
	e.requestContent(r)
	e.raw(r.Signature[:])
}

// SignRequest sets r's Coordinator to key's public key, checks r's form
// (its GID must name that key: see Request) and signs it for network.
func SignRequest(network consensus.Hash, key ed25519.PrivateKey, r Request) (Request, error) {
	if len(key) != ed25519.PrivateKeySize {
		return Request{}, fmt.Errorf("%w: not an Ed25519 private key", ErrRequest)
	}
	copy(r.Coordinator[:], key.Public().(ed25519.PublicKey))
	if err := r.check(); err != nil {
		return Request{}, fmt.Errorf("%w: %v", ErrRequest, err)
	}
	copy(r.Signature[:], ed25519.Sign(key, signingBytes(network, kindRequest, r.Content())))
	return r, nil
}

// Verify checks r's form and the coordinator's signature for network.
func (r *Request) Verify(network consensus.Hash) error {
	if err := r.check(); err != nil {
		return fmt.Errorf("%w: %v", ErrRequest, err)
	}
	if !ed25519.Verify(ed25519.PublicKey(r.Coordinator[:]), signingBytes(network, kindRequest, r.Content()), r.Signature[:]) {
		return fmt.Errorf("%w: gid %s: bad coordinator signature", ErrRequest, r.GID)
	}
	return nil
}

// DecodeRequest parses Request.Encode's output strictly (see encode.go),
// including the request's form; it does not verify the signature.
func DecodeRequest(b []byte) (Request, error) {
	d := decoder{buf: b}
	r := d.request()
	d.end()
	if d.err != nil {
		return Request{}, d.err
	}
	return r, nil
}

func (d *decoder) request() Request {
	var r Request
	r.GID = d.str(MaxGIDLen, "gid", checkGID)
	d.fixed(r.Coordinator[:], "coordinator key")
	r.Created = int64(d.u64("created"))
	// A participant takes at least 2+1 (name) + 2 (count) + one part.
	n := d.count16(MaxParticipants, 3+2+6, "participants")
	for i := 0; i < n && d.err == nil; i++ {
		p := OrgParts{Org: d.str(MaxNameLen, "organization", checkName)}
		k := d.count16(MaxParts, 6, "parts")
		for j := 0; j < k && d.err == nil; j++ {
			p.Parts = append(p.Parts, Part{Worker: d.str(MaxNameLen, "worker", checkName), GID: d.str(MaxGIDLen, "worker gid", checkGID)})
		}
		r.Participants = append(r.Participants, p)
	}
	d.fixed(r.Signature[:], "signature")
	if d.err == nil {
		if err := r.check(); err != nil {
			d.fail("request: %v", err)
		}
	}
	return r
}

// clone returns a deep copy.
func (r Request) clone() Request {
	ps := make([]OrgParts, len(r.Participants))
	for i, p := range r.Participants {
		ps[i] = OrgParts{Org: p.Org, Parts: append([]Part(nil), p.Parts...)}
	}
	r.Participants = ps
	return r
}
