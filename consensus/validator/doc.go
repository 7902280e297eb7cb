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
//		case <-closeDelay:  nominate the next slot
//		}
//		drain Ready: ledger append (externalized, with their proof) ->
//		persist own envelopes (fsync) -> sign and send -> OnDecision ->
//		Advance
//	}
//
// Slots are decided one after the other: after slot s externalizes and is
// appended to the ledger, the validator waits Config.CloseDelay and then
// nominates slot s+1 if it has something to propose (Config.Propose, or the
// items given to Submit) or a peer already started s+1. A slot decided out
// of order (the node was behind) waits in memory until the slots before it
// arrive through catch-up, so the ledger is always contiguous.
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
