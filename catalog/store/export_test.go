package store

import "time"

// SetWatchCheckInterval shortens Watch's quiet-period check for a test and
// returns a function restoring it; call it before Watch starts and restore
// after Watch has returned.
func SetWatchCheckInterval(d time.Duration) (restore func()) {
	old := watchCheckInterval
	watchCheckInterval = d
	return func() { watchCheckInterval = old }
}
