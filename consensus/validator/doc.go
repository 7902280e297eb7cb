// Package validator is the host around the SCP core: a running validator
// with its ledger (package ledger), its links to the other validators
// (package transport), envelope signing and verification, catching up,
// and the application's values.
//
// # Main loop
//
// One goroutine (run, in loop.go) owns the consensus.Node, which is not
// safe for concurrent use, and serializes everything that touches it:
//
//	for {
//		select {
//		case m := <-transport.Inbound():
//			connected: learn the peer's quorum set, ask it for slots >= next
//			envelope:  guard (decode, known signer, duplicate, signature over
//			           network id + kind + statement, replay, equivocation)
//			           -> Node.Step; a statement for the next slot makes us
//			           join it, one for a later slot makes us catch up
//			get-state: answer with ledger records and current state
//			record:    verify the proof (signatures, quorum by our own
//			           quorum set) and adopt it
//		case <-tick:        Node.Tick
//		case <-rebroadcast: send Node.CurrentState of the open slots
//		case item := <-Submit: add to the pool; maybe nominate
//		case <-Nudge:       maybe nominate; or, in a slot joined with
//		                    nothing to propose, nominate the value now
//		case <-closeDelay:  nominate the next slot
//		}
//		drain Ready: ledger append (externalized, with their proof) ->
//		persist own envelopes (fsync) -> sign and send -> OnDecision ->
//		Advance
//	}
//
// Slots are decided one after the other: after slot s externalizes, is
// appended to the ledger and delivered (OnDecision), the validator waits
// Config.CloseDelay (none by default) and then nominates slot s+1 if it has
// something to propose (Config.Propose, or the items given to Submit) or a
// peer already started s+1. With nothing to propose it waits: Submit, or
// Nudge from an application with its own Propose, starts the slot as soon
// as there is something. What arrives while a slot runs is batched into
// the next. A slot decided out of order (the node was behind) waits in
// memory until the slots before it arrive through catch-up, so the ledger
// is always contiguous.
//
// # Latency
//
// Nomination converges at once when the nodes elect the same leaders, or
// leaders that nominate the same value; otherwise it waits for a
// nomination timeout to add leaders. A node that joins a slot a peer
// started before its own application had anything (say, the votes that
// justify a decision reached the peer first) nominates nothing; when the
// application then has a value (Nudge), the node nominates it at once, a
// nomination round early, rather than leave its leadership empty until its
// timeout. The default timers (Config.TickInterval and the timeouts in
// ticks) are sized for a LAN.
//
// # Restart
//
// Start opens the data folder, truncating torn writes, purges the node
// below the ledger and restores the node's own latest envelopes
// (Node.Restore), so the restarted node never contradicts itself; then it
// connects, asks its peers for the slots it missed, verifies and appends
// them, and rejoins the current slot.
//
// # Values
//
// By default a value is a set of opaque items (EncodeItems), combined by
// union (ItemDriver). The federated commit supplies its own Driver and
// Propose through Config.
package validator
