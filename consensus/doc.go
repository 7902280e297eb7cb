// Package consensus is the Stellar Consensus Protocol (SCP) for pgfed's
// validators: a deterministic state machine, with no I/O, no goroutines, no
// clock and no randomness of its own, that decides one value per slot by
// federated Byzantine agreement among the organizations' validators.
//
// It follows draft-mazieres-dinrg-scp and stellar-core's src/scp: nomination
// (leader election with weights, accumulated leaders and round skipping,
// federated voting on nominated values, combination of the confirmed
// candidates) feeds the ballot protocol (PREPARE, CONFIRM, EXTERNALIZE with
// the step rules applied in stellar-core's order). Quorum-set arithmetic
// lives in package quorum; the simulator in package scptest.
//
// # Main loop
//
// The host owns one Node and serializes every call to it, in the style of
// etcd's raft:
//
//	for {
//		select {
//		case env := <-incoming: // signature verified by the transport
//			err := node.Step(env)
//			var uq *consensus.UnknownQSetError
//			if errors.As(err, &uq) { fetch uq.Hash, node.AddQSet(q), Step again }
//		case <-ticker.C:
//			node.Tick()
//		case v := <-proposals: // e.g. after the previous slot externalized
//			node.Nominate(slot, v, prev)
//		}
//		if node.HasReady() {
//			rd := node.Ready()
//			persist(rd.Persist) // durable before anything is sent
//			broadcast(sign(rd.Send))
//			apply(rd.Externalized)
//			node.Advance()
//		}
//	}
//
// After a restart the host calls Node.Restore with what it persisted, before
// any other call for those slots, and nominates again the slots that have
// not externalized. It periodically rebroadcasts Node.LatestMessages and
// purges old slots with Node.Purge.
//
// Statements are signed by the transport over SigningBytes (network id,
// message kind, canonical statement), never by the core. Values are opaque;
// the Driver validates and combines them and must be deterministic.
package consensus
