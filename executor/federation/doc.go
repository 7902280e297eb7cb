// Package federation is the validator side of the federated commit
// (DESIGN.md, "Federated commit"): it runs package consensus/commit inside
// an organization's validator (package consensus/validator), spreads
// requests and votes among the validators, watches the organization's own
// workers, signs its votes, finalizes its prepared parts once SCP decided,
// and answers coordinators (Client) with the final decision of their
// transactions.
//
// # Wiring
//
//	app, _ := federation.New(cfg)
//	v, _ := validator.Start(ctx, validator.Config{..., Driver: app.Driver(),
//		Propose: app.Propose, OnDecision: app.OnDecision})
//	app.Start(ctx, v) // restores the state, opens links and server, runs the loop
//	...
//	app.Close(); v.Close()
//
// # Main loop
//
// One goroutine (App.run) does all the worker I/O, writes the state and
// sends the votes; the commit state (Ledger, Proposer, Participant) sits
// under a mutex because the validator's goroutine calls Propose and
// OnDecision, the client server learns requests and reads final
// decisions, and the links' goroutine learns requests and votes, but
// nobody does I/O while holding it.
//
//	off the loop:
//	  request or vote from a peer (verified on the links' goroutine, gossip.go):
//		request -> Proposer.AddRequest; Participant.Learn if it names us
//		vote    -> Proposer.AddVote; Nudge the validator to nominate
//	  a peer's applied slot: answer the coordinators whose COMMIT every
//		participant has now applied
//	  request from a coordinator (server.go): the same, then broadcast it;
//		the server waits for the gid. A request submitted again (the
//		coordinator's PREPAREs are done) asks for a check.
//	  slot externalized (OnDecision, the validator's goroutine):
//		Ledger.Apply it if it is the next; Prune; wake the coordinators
//		waiting for its gids; wake the loop
//	for {
//		select {
//		case check (the gateway saw a PREPARE TRANSACTION succeed, Prepared):
//			list pg_prepared_xacts on every worker;
//			votes := Participant.Decide(status of our parts);
//			persist the state (fsync) -> only then AddVote and broadcast
//		case tick: Participant.Tick, then the same check
//		case slot externalized:
//			Ledger.Apply every slot of the validator's ledger beyond ours
//			(those OnDecision could not), in order, then Nudge;
//			apply Ledger.Actions(our org, last applied) in slot order;
//			tell the peers, then record the last slot applied (fsync)
//		case rebroadcast timer: send Proposer.Requests and our own votes
//		case sweep timer: Ledger.Resolve every prepared gid on our workers;
//			roll back orphans (below)
//		}
//	}
//
// # Latency
//
// A transaction's commit waits for: its parts to be seen prepared (the
// gateway's hint makes that immediate: Prepared), the votes to reach a
// validator that nominates (the vote's arrival nudges it), the slot
// running at that time to end (slots are sequential; the next one starts
// as soon as the previous one is applied to the commit ledger, with
// everything justified by then: batching), SCP's rounds (a few message
// delays and fsyncs), and each participant's COMMIT PREPARED and applied
// report. Propose proposes nothing while the commit ledger lags behind the
// validator's, so a slot is never filled with decisions the previous one
// already made final.
//
// # Ordering contract
//
//   - Persist before send: a vote leaves the process only after the
//     Participant's state that records it (Participant.Save) is durable in
//     StateFile; if the write fails, the votes are held back (a restarted
//     validator then cannot sign the opposite kind for a gid whose vote
//     was seen).
//   - Apply in slot order: the commit ledger is fed the validator's
//     ledger records in slot order, and the organization's actions are
//     carried out in slot order; the last slot applied moves only past
//     slots whose every action succeeded. After a restart the commit
//     ledger is replayed from the validator's durable ledger, and the
//     actions from the last slot recorded: they are idempotent.
//
// # Dissemination
//
// Requests and votes travel on links of their own between the validators:
// a second consensus/transport (the same keys, handshake and framing as
// the SCP links, on another port, frame kinds 32 and 33), so the
// validator host needs no change and a flood of federation frames cannot
// crowd SCP envelopes out of their queues. Every frame is decoded and
// verified (commit.Membership.CheckRequest, CheckVote) before it is
// learned, on the links' goroutine; queues are bounded and drop when full,
// because every validator rebroadcasts its pending requests and its own
// votes every RebroadcastInterval (and to a peer as soon as it connects)
// until their gid is final — a participant that never learns a request
// never votes.
//
// # Durability
//
// StateFile (JSON, written to a temporary file, synced, renamed, folder
// synced) holds the Participant's saved state, the last slot applied and
// the vetoed gids. The applied slot lives in the validator's own folder,
// not in a table on the workers: COMMIT PREPARED cannot run inside a
// transaction block, so no worker table could be updated atomically with
// it anyway, and the validator needs no write access to the workers'
// schemas. Exactness comes from idempotence instead: only this
// organization's validator finalizes its parts, so a part no longer in
// pg_prepared_xacts when its COMMIT is applied was committed by us before
// (we, or our organization's threshold, voted PREPARED only on parts seen
// prepared, and nobody rolls back a part but on a final ABORT); and one no
// longer there for an ABORT was rolled back or never prepared (a late
// PREPARE is rolled back by the sweep). The applied slot only saves
// replaying old actions.
//
// # Orphans
//
// A coordinator that prepares a part and dies before its request reaches
// any validator leaves a prepared transaction no vote can name. With
// OrphanTimeout, a one-validator organization rolls back a prepared part
// under OrphanPrefix that no request it knows names after that many ticks:
// it first records the gid as vetoed (durably), so its parts count as
// failed and the organization can only vote ABORT if the request shows up
// later; a gid it already voted PREPARED is never touched. This is safe
// for a one-validator organization only (in a larger one, the other
// validators may have voted PREPARED) and only when every prepared
// transaction under the prefix on the workers is federated: executor/dtx's
// same-organization 2PC uses the same gid form and must not share it.
//
// # Client protocol
//
// See protocol.go: one TCP exchange per request; the request carries its
// coordinator's signature, each answer carries the validator's signature
// over the client's nonce. The decision is answered as soon as it is
// final, and a COMMIT again once every participant organization reported
// the slot applied (each validator broadcasts its last applied slot on the
// links); Client.Commit returns on the latter, or with ErrNotApplied when
// its ctx ends in between. The validator links' transport was not reused:
// it admits only the peers listed in its configuration, and coordinators
// come and go.
package federation
