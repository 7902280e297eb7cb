package federation

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// StateFile is the name of the durable state in Config.DataDir.
const StateFile = "federation.state"

// state is what the validator persists besides the consensus ledger:
//
//   - Participant: commit.Participant.Save, written (and synced) before any
//     vote it signed leaves the process;
//   - Applied: the last slot whose Actions for the organization were all
//     carried out on its workers (progress only: actions are idempotent, so
//     replaying from an older Applied is safe);
//   - Vetoed: the gids whose orphan part this validator rolled back (or
//     was about to), with the tick: their parts count as failed, so the
//     organization can only ever vote ABORT on them.
type state struct {
	Participant []byte            `json:"participant,omitempty"`
	Applied     uint64            `json:"applied"`
	Vetoed      map[string]uint64 `json:"vetoed,omitempty"`
}

// loadState reads the state (the zero state when there is none).
func loadState(dir string) (state, bool, error) {
	var s state
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if os.IsNotExist(err) {
		return s, false, nil
	}
	if err != nil {
		return s, false, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, false, fmt.Errorf("%s: %w", filepath.Join(dir, StateFile), err)
	}
	return s, true, nil
}

// saveState writes the state durably: a temporary file, fsync, rename over
// the old one, fsync of the folder.
func saveState(dir string, s state) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, StateFile)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
