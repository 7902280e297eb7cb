// Package scptest is a deterministic, seeded simulator for package
// consensus: N nodes in one process, a simulated network that drops,
// duplicates, delays, reorders and partitions messages, nodes that crash
// and restart from what they persisted, and Byzantine nodes that
// equivocate or send garbage.
//
// Time advances in ticks. Each tick the simulator delivers the messages
// that are due (in a seeded random order), ticks every running node, and
// carries out each node's Ready batch exactly as a host must: persist, then
// send (every envelope is encoded and decoded on the way, so the codec is
// exercised), then apply the externalized values and nominate the next
// slot. Every node rebroadcasts its latest statements periodically, which
// is what lets the network recover from lost messages once faults heal.
//
// Run checks, on every tick, safety (no two well-behaved nodes externalize
// different values for a slot; meaningful for topologies whose quorums
// intersect), that no node reports a broken invariant, and that no node
// ever sends a statement that does not supersede its previous one for the
// slot (so a restarted node never contradicts itself); at the end it reports
// whether every well-behaved node externalized every slot (liveness).
package scptest
