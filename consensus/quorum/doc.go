// Package quorum holds the set arithmetic of federated Byzantine agreement:
// quorum sets (thresholds over validators and nested sets), slices,
// v-blocking sets and the transitive quorum test, the sanity rules and
// normalization stellar-core applies to quorum sets, their canonical encoding
// and hash, node weights for leader election, and the analysis of a whole
// network: whether all its quorums intersect.
//
// The package does no I/O and keeps no global state; everything is a
// function of its arguments.
//
// # Quorum sets (used by the SCP core)
//
// QSet.IsSlice, QSet.IsVBlocking and ContainsQuorum are the predicates of
// federated voting. QSet.Sane is stellar-core's isQuorumSetSane (strict for
// the local configuration, non-strict for sets received from peers).
// Normalize canonicalizes a set (optionally removing the local node, as
// leader election does); QSet.Encode is the XDR of stellar-core's
// SCPQuorumSet, so QSet.Hash of a normalized set equals stellar-core's
// quorum set hash; Decode parses it back and rejects malformed or oversized
// input. QSet.Weight and NodeWeight give leader-election weights.
//
// # Organizations
//
// OrgQSet builds the quorum set of stellar-core's generateQuorumSet for one
// tier of organizations (one per bank): a simple majority inside each,
// n - floor((n-1)/3) organizations across. DevOrgs and OrgNetwork make
// deterministic development networks (pgfed dev --orgs N).
//
// # Network analysis
//
// A Network maps node ids to quorum sets (ParseStellarbeat reads the
// stellarbeat.io JSON format, with Stellar "G..." strkeys or hex keys).
// CheckIntersection follows stellar-core's first checker: it compiles the
// network to bitsets, splits the dependency graph into strongly connected
// components (Tarjan), reports a split when two components hold quorums and
// "no quorum" when none does, and otherwise enumerates the minimal quorums
// of the one component, bottom-up, committing to one node at a time (highest
// in-degree first) and pruning when more than half the component is
// committed, when the committed set is already a quorum, when the greatest
// quorum inside committed ∪ remaining misses a committed node, and (a rule
// stellar-core lacks) when some committed node needs more nodes to be
// satisfied than the half-size limit leaves; for each minimal quorum it
// looks for a quorum in the complement. The search is exponential: under
// 0.2 s up to 9 organizations of 3 validators, about 25 s for 10 (where
// all 262,440 minimal quorums fit in half the network). It polls its context.
//
// FindMinimalSets computes, for networks of at most MaxDetailNodes nodes,
// the minimal quorums, minimal blocking sets and minimal splitting sets as
// fbas_analyzer defines them. Check and CheckNetwork bundle both into the
// Report behind `pgfed quorum check`, with its exit codes.
//
// Every analysis is checked against a naive enumeration of all node subsets
// on seeded random networks (property_test.go).
package quorum
