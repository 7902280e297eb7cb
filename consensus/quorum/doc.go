// Package quorum holds the set arithmetic of federated Byzantine agreement:
// quorum sets (thresholds over validators and nested sets), slices,
// v-blocking sets and the transitive quorum test, the sanity rules and
// normalization stellar-core applies to quorum sets, their canonical encoding
// and hash, node weights for leader election, and the analysis of a whole
// network: whether all its quorums intersect.
package quorum
