package dtx

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
)

// GIDPrefix starts every global transaction id pgfed prepares on a worker;
// recovery looks only at prepared transactions with this prefix.
const GIDPrefix = "pgfed_"

// maxCoordinatorID is the longest coordinator id; with the rest of a gid
// it stays far below PostgreSQL's 200-byte limit.
const maxCoordinatorID = 40

// TxID identifies a distributed transaction among all those of all
// coordinators, across restarts.
//
// It is a random 64-bit epoch drawn from crypto/rand when the process
// starts, and a counter. A sequence in the metadata database would cost a
// round trip per transaction — 1PC and read-only transactions included,
// which need an id for logging and deadlock detection but never touch the
// metadata database — and would tie every Begin to that database being up.
// The epoch makes ids unique across restarts and even between coordinators
// misconfigured with the same id: two processes share an epoch with
// probability about n²/2⁶⁵ for n process starts (one in 10¹¹ after a
// million starts), and within a process the counter never repeats. A reused
// gid could not do harm anyway: its decision record would collide on the
// primary key and that commit would fail, never commit someone else's
// transaction.
type TxID struct {
	// Epoch is the random number of the process that began the
	// transaction.
	Epoch uint64
	// Seq counts the transactions of that process, from 1.
	Seq uint64
}

// String returns the epoch as 16 hex digits followed by the counter in
// decimal, the form used in gids: "9f86d081884c7d65" + "42".
func (id TxID) String() string {
	return fmt.Sprintf("%016x%d", id.Epoch, id.Seq)
}

// txIDSource hands out the TxIDs of one process.
type txIDSource struct {
	epoch uint64
	seq   atomic.Uint64
}

// newTxIDSource draws a random epoch.
func newTxIDSource() (*txIDSource, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("dtx: draw a transaction id epoch: %w", err)
	}
	return &txIDSource{epoch: binary.LittleEndian.Uint64(b[:])}, nil
}

// next returns a fresh TxID.
func (s *txIDSource) next() TxID { return TxID{Epoch: s.epoch, Seq: s.seq.Add(1)} }

// GID is a parsed global transaction id,
// pgfed_<coordinator>_<txid>_<node>: one per written worker of a
// distributed transaction.
type GID struct {
	// Coordinator is the id of the coordinator that prepared it.
	Coordinator string
	// Txn is the TxID in its String form.
	Txn string
	// Node is the worker the gid was prepared on.
	Node int32
}

// String returns the gid.
func (g GID) String() string {
	return GIDPrefix + g.Coordinator + "_" + g.Txn + "_" + strconv.Itoa(int(g.Node))
}

// formatGID returns the gid of a transaction's part on a node.
func formatGID(coordinator string, id TxID, node int32) string {
	return GID{Coordinator: coordinator, Txn: id.String(), Node: node}.String()
}

// ParseGID reads a gid made by pgfed; ok is false for any other string.
func ParseGID(s string) (g GID, ok bool) {
	rest, ok := strings.CutPrefix(s, GIDPrefix)
	if !ok {
		return GID{}, false
	}
	parts := strings.Split(rest, "_")
	if len(parts) != 3 || validCoordinatorID(parts[0]) != nil || len(parts[1]) <= 16 {
		return GID{}, false
	}
	n, err := strconv.ParseInt(parts[2], 10, 32)
	if err != nil || n <= 0 {
		return GID{}, false
	}
	return GID{Coordinator: parts[0], Txn: parts[1], Node: int32(n)}, true
}

// validCoordinatorID checks a coordinator id: 1 to 40 ASCII letters,
// digits or hyphens (no underscore: it separates the parts of a gid).
func validCoordinatorID(id string) error {
	if id == "" || len(id) > maxCoordinatorID {
		return fmt.Errorf("dtx: coordinator id %q must have 1 to %d characters", id, maxCoordinatorID)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Errorf("dtx: coordinator id %q may hold only letters, digits and '-'", id)
		}
	}
	return nil
}

// quoteLiteral quotes s as an SQL string literal (standard_conforming_strings
// on, as in every supported PostgreSQL).
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
