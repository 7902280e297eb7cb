// Package ledger is the durable state of one validator, kept as files in a
// data folder:
//
//   - envelopes.log: the node's own latest SCP envelopes per slot (Ready
//     .Persist). The host appends them and syncs BEFORE sending anything, so
//     after a crash Envelopes gives what Node.Restore needs and the restarted
//     node never contradicts what it said. Later records for the same slot and
//     protocol replace earlier ones; Compact rewrites the file with the live
//     records only.
//   - ledger.log: the append-only ledger of externalized values, one record
//     per slot in slot order (slot 1, 2, 3, ...), each with the signed
//     envelopes (CONFIRM or EXTERNALIZE statements of a quorum) that prove
//     the decision to anyone holding the signers' keys.
//   - LOCK: held (flock) while the folder is open, so two processes never
//     share a folder.
//
// # Record format
//
// Both logs are sequences of records framed as
//
//	u32 length | u32 CRC-32C (Castagnoli) of the payload | payload
//
// in big-endian order. The first record of each file is a header naming the
// file kind, the network id and the node id; opening a folder of another
// network or node fails. A slot record's payload is
//
//	'R' | u64 slot | u32 len | value | u32 n | n × (u32 len | envelope)
//
// with envelopes in consensus.Envelope.Encode form (signature included).
//
// # Recovery
//
// Open scans both files. A last record that is incomplete, or whose
// checksum fails and which ends exactly at the end of the file, is the
// trace of a write torn by a crash: the file is truncated to the end of the
// previous record, and the ledger is a consistent prefix of what was
// written. A bad record followed by more data is corruption, not a torn
// write, and Open fails with ErrCorrupt naming the file and offset.
//
// # Use
//
//	l, err := ledger.Open(dir, ledger.Options{Network: nid, Node: id})
//	node.Purge(l.Last() - 1); node.Restore(l.Envelopes())
//	for each Ready: l.Append(record) for externalized slots; l.SaveEnvelopes(rd.Persist); send
//	for rec, err := range l.Records(from) { replay }
//
// A Ledger is safe for concurrent use.
package ledger
