//go:build !unix

package ledger

import (
	"errors"
	"fmt"
	"os"
)

// ErrLocked is returned by Open when another process holds the folder
// (never on platforms without flock, where the lock file is advisory only).
var ErrLocked = errors.New("ledger: data folder in use")

func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return f, nil
}
