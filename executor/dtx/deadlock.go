package dtx

import (
	"strings"

	"github.com/jackc/pgerrcode"
)

// DeadlockError is returned to the session of a transaction the deadlock
// detector cancelled; its SQLSTATE is 40P01 (deadlock_detected).
type DeadlockError struct {
	// Victim is the cancelled transaction.
	Victim TxID
	// Cycle describes the wait-for cycle, one "txn X (worker N, pid P)
	// waits for txn Y (pid Q)" per edge.
	Cycle []string
}

// Error names the victim and the cycle.
func (e *DeadlockError) Error() string {
	return "distributed deadlock detected; cancelled transaction " + e.Victim.String() +
		", the youngest in the cycle: " + strings.Join(e.Cycle, "; ")
}

// SQLState returns 40P01.
func (e *DeadlockError) SQLState() string { return pgerrcode.DeadlockDetected }
