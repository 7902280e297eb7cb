// Package commit is the application that SCP runs for cross-organization
// commits (DESIGN.md, "Federated commit"): what a slot's value holds, how
// values are validated and combined, how the externalized values become
// final COMMIT/ABORT decisions, which votes a validator signs for its own
// organization, and what it nominates. It is deterministic and does no
// I/O: no database, no network, no clock (time is counted in ticks given
// as input), no randomness, no global state.
//
// # Messages
//
// Every message has one canonical binary encoding (encode.go) and a strict
// decoder that rejects truncated, oversized, out-of-order, duplicated or
// trailing input without panicking. Signatures are Ed25519 over
//
//	"pgfed/commit/v1" | network id | u32 message kind | content
//
// so a signature is worthless on another network (the network id is the
// SCP network's, Config.Network) and a request can never pass for a vote.
//
//   - Request: the global GID, the participant organizations (sorted,
//     at least one: a write on several workers of one organization behind
//     its gateway is decided by its validators too) with, for each, its
//     parts (worker, worker gid), the coordinator's key, Created (a
//     timestamp for people: no rule compares it with a clock), and the
//     coordinator's signature. The GID names the coordinator's key: it is
//     "<prefix>_<KeyTag(key)>_<rest>" (a non-empty prefix without '_',
//     then the key's tag, 24 hex digits of SHA-256 of the key, as the
//     second '_'-separated field: GIDKeyTag; rest non-empty), so only that
//     key can sign a request for it. Every worker gid is
//     "<GID>_<suffix without '_'>" (PartOwner), so a worker gid belongs to
//     exactly one global transaction whatever anyone signs. Its Hash names
//     it.
//   - Vote: GID, Org, PREPARED or ABORT, the request hash, the signing
//     validator's key and signature. The Membership (Config: the
//     federation's organizations and their validator keys, shared by every
//     validator like the quorum sets) says which keys vote for which
//     organization; an organization has voted a kind on a request when
//     Threshold of its validators (a majority, one for a one-validator
//     organization) signed that kind on that request hash.
//   - Decision: COMMIT or ABORT, the signed request, and the votes that
//     justify it.
//   - Value: a version byte and the decisions, sorted by gid, one per gid,
//     at most MaxDecisions. Nothing else is carried: no slot number, no
//     previous-value hash, no timestamp. A decision is self-contained
//     evidence that anyone holding the Membership can check, and its effect
//     does not depend on the slot it lands in beyond "first one wins", so
//     binding values to slots or to the previous ledger would only add
//     reasons for honest validators to disagree about validity (a validator
//     that is behind cannot check a previous-slot hash). The version byte
//     keeps a later format from ever being read as this one.
//
// # Validity (Driver.Validate, CheckDecision)
//
// A value is valid when it decodes, holds 1 to MaxDecisions decisions, and
// every decision checks: the request's form (including that its gid names
// its coordinator's key), that its participants are members, and the
// coordinator's signature; every vote names the request's
// gid and hash, comes from a validator of a participant organization (its
// key is that organization's in the Membership) with a good signature, has
// the outcome's kind, signers are not repeated and no organization brings
// more votes than its threshold; COMMIT has the PREPARED votes of every
// participant; ABORT has the ABORT votes of at least one.
// That is all: nothing a validator's own database, clock or ledger says,
// so every honest validator reaches the same verdict for every value. In
// particular a decision for a gid that an earlier slot already decided is
// valid: the ledger ignores it.
//
// # Combine
//
// The union of the candidates' decisions, one per gid. For a gid decided
// both ways, COMMIT wins; between two decisions with the same outcome, the
// smaller encoding. When more decisions remain than a slot takes, the
// ones with the smallest SHA-256(slot, gid) are kept, so every validator
// keeps the same ones and no gid is starved by gids that sort before it;
// the others stay in the proposers' pools and come back in later slots.
// The result depends only on the slot and the set of candidates.
//
// # Ledger
//
// Ledger.Apply takes the externalized values in slot order. Each decision
// is checked again and, unless its gid is already final, becomes final;
// later decisions for a final gid are ignored and reported. Each
// organization gets, in slot order, the Actions for its parts (COMMIT
// PREPARED or ROLLBACK PREPARED); Ledger.Resolve tells it what to do with
// any prepared worker gid it finds (recovery). Snapshot and RestoreLedger
// save and load the state; replaying the consensus ledger from slot 1
// rebuilds the same bytes.
//
// # Safety argument
//
// Atomicity: every honest organization applies the same outcome to all of
// its parts of a transaction, and COMMIT only when every participant had
// prepared.
//
//  1. SCP agreement gives honest validators the same value for every slot
//     (as long as their quorums intersect in well-behaved validators).
//     Apply is a deterministic function of the values in slot order and of
//     the shared Membership, so honest ledgers are identical: each gid
//     has at most one final decision, the same everywhere, and every
//     organization derives its actions from it.
//  2. A final COMMIT carries, for every participant, PREPARED votes from
//     its threshold of validators; unless the organization has at least
//     that many Byzantine validators (then it is itself Byzantine, and can
//     only spoil its own data), one of them is honest. An honest validator
//     signs PREPARED only when all of its organization's parts in that very
//     request (named by its hash) are prepared, and nobody finalizes a
//     prepared part but the organization's validator, on a final decision
//     (the gateway refuses COMMIT/ROLLBACK PREPARED from coordinators). So
//     when COMMIT becomes final, the parts of every honest participant are
//     still prepared and COMMIT PREPARED succeeds. ABORT is always safe:
//     rolling back prepared parts, or finding nothing to roll back, never
//     commits anything.
//  3. Parts outside the final request: a worker gid belongs to exactly
//     one gid (PartOwner), and Resolve commits a part only if the final
//     decision is COMMIT and lists that very part for that organization;
//     everything else owned by a final gid is rolled back. No part is
//     committed without the all-PREPARED evidence of the request that
//     lists it. This is atomicity only if the final request is one its
//     coordinator meant: a rival request for an honest coordinator's gid
//     listing only some of its parts, learned first by one participant
//     (a Participant keeps the first request of a gid, its gateway
//     prepares the parts that request lists), would get those parts
//     committed and the others rolled back. That is enforced, not
//     assumed: a gid names its coordinator's key (KeyTag), and
//     Request.check refuses a request whose gid names another key on
//     every path (SignRequest, Verify, CheckRequest, DecodeRequest, so
//     Learn, AddRequest and decision validity), so every request that
//     verifies for a gid was signed by the key that owns it; another key
//     with the same tag takes a 2^96 second-preimage search. What is left
//     is a coordinator signing two requests for its own gid: then what
//     becomes final is one request it signed, decided and applied by
//     every honest organization exactly as if it had submitted that
//     request alone (its parts committed only with every participant's
//     PREPARED, the parts of the other request rolled back everywhere).
//     It gains nothing it could not ask for honestly, and the honest
//     organizations never disagree: they resolve every part against the
//     same final decision (1).
//
// Why "COMMIT wins" is a safe rule for Combine: a COMMIT needs PREPARED
// votes from every participant, and an honest validator never signs ABORT
// after PREPARED or PREPARED after ABORT for one gid (Participant.SignVote
// refuses, the refusal is persisted before any vote leaves — Save — and
// final gids are refused for good), nor votes on two requests of one gid.
// Two threshold sets of an organization's n validators share at least
// 2·threshold − n ≥ 1 validators, so an organization with fewer Byzantine
// validators than that (for a one-validator organization: an honest
// validator) never has both a PREPARED and an ABORT vote, and an ABORT
// justified by such an organization excludes any COMMIT. A gid justified
// both ways therefore proves a Byzantine participant (or an equivocating
// coordinator), and then either outcome is safe for the honest ones by 2
// and 3: the COMMIT is backed by every participant's PREPARED, so all
// honest parts are prepared. Any fixed rule keeps Combine deterministic;
// COMMIT wins also means that a lying organization cannot veto, within a
// slot, a transaction every participant prepared. (Across slots the first
// final decision stands whatever it is, by 1.)
//
// Liveness: a request whose parts are all prepared is committed as soon as
// the votes reach a validator that nominates; a part that failed, or is
// missing for longer than the timeout (a coordinator that died before
// preparing it), makes its organization vote ABORT, so no request waits
// forever on a crashed coordinator. A participant that voted PREPARED
// waits for the others: they vote too, in time. Validators of one
// organization judge its parts independently; if they disagree (one saw
// the part prepared, another timed out), the organization may reach
// neither threshold and the transaction waits for the other participants'
// votes: give an organization's validators the same view of its workers.
//
// # A validator's loop
//
// One goroutine owns the Ledger, the Proposer and the Participant (none is
// safe for concurrent use); with the validator host (package validator),
// Config.Driver = NewDriver(membership), Config.Propose = Proposer.Propose:
//
//	request (coordinator or peer) -> Proposer.AddRequest; Participant.Learn
//	vote (peer)                   -> Proposer.AddVote
//	tick                          -> Participant.Tick; votes := Participant.Decide(status of own parts)
//	                                 if Participant.Unsaved: persist Participant.Save() (sync)
//	                                 then Proposer.AddVote and broadcast each vote
//	rebroadcast timer             -> broadcast Proposer.Requests and Participant.Votes
//	slot s externalized           -> Ledger.Apply(s, v); persist (Snapshot, or replay the SCP ledger)
//	                                 Proposer.Prune; Participant.Prune
//	                                 apply Ledger.Actions(own org, last applied) to own workers
//
// Requests and votes must be rebroadcast until their gid is final: a
// participant that never learns a request never votes on it, and once the
// others voted PREPARED nobody else can abort it (the end-to-end test
// found this with a restarted validator whose pool was lost).
//
// # What the other pieces must do
//
//   - The coordinator submits the signed request to the participants'
//     validators before it sends PREPARE TRANSACTION, waits until the
//     decision is final and applied by every participant, and returns
//     COMMIT, or an error naming the gid when it was aborted. A
//     coordinator that dies at any point leaves a request whose missing
//     parts time out into ABORT.
//   - The gateway relays PREPARE TRANSACTION only for a gid whose request
//     its validator knows and which is not final, and never relays COMMIT
//     PREPARED or ROLLBACK PREPARED: only the validator finalizes.
//   - The validator's worker I/O computes PartStatus from its workers'
//     pg_prepared_xacts (a part is named by the worker name the request
//     uses, compared exactly), applies each Action idempotently (COMMIT
//     PREPARED of a part no longer prepared means it was already
//     committed: an honest organization voted PREPARED only for parts it
//     held prepared, and nobody else finalizes them), records the last
//     slot applied, and periodically sweeps every prepared gid with
//     Ledger.Resolve (parts prepared after an ABORT, parts an equivocating
//     coordinator left outside the final request).
package commit
