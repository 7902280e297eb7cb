package ledger

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/pgfed/pgfed/consensus"
)

// SaveEnvelopes appends the node's own envelopes (Ready.Persist) and syncs
// them. It must return before any of them is sent. For each slot and
// protocol (nomination, ballot) the last saved envelope is the latest.
func (l *Ledger) SaveEnvelopes(envs []consensus.Envelope) error {
	if len(envs) == 0 {
		return nil
	}
	payloads := make([][]byte, 0, len(envs))
	for _, e := range envs {
		if e.Statement.NodeID != l.opts.Node {
			return fmt.Errorf("ledger: save envelope of slot %d: node %s is not ours", e.Statement.Slot, e.Statement.NodeID)
		}
		payloads = append(payloads, e.Encode())
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if err := l.envs.append(!l.opts.NoSync, payloads...); err != nil {
		return fmt.Errorf("ledger: save envelopes: %w", err)
	}
	for _, e := range envs {
		l.latest[keyOf(e)] = e
	}
	l.nEnvRec += len(envs)
	return nil
}

// Envelopes returns the node's latest own envelopes, by slot, nomination
// before ballot: what Node.Restore takes.
func (l *Ledger) Envelopes() []consensus.Envelope {
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := make([]envKey, 0, len(l.latest))
	for k := range l.latest {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].slot != keys[j].slot {
			return keys[i].slot < keys[j].slot
		}
		return keys[i].nom && !keys[j].nom
	})
	out := make([]consensus.Envelope, 0, len(keys))
	for _, k := range keys {
		out = append(out, l.latest[k])
	}
	return out
}

// EnvelopeRecords is how many records envelopes.log holds (live or not); a
// host compacts when it is much larger than the live set.
func (l *Ledger) EnvelopeRecords() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.nEnvRec
}

// Compact forgets own envelopes of slots below keepFrom and rewrites
// envelopes.log with the live records only: a new file is written and
// synced, then renamed over the old one and the folder synced, so a crash
// leaves either file complete.
func (l *Ledger) Compact(keepFrom uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	for k := range l.latest {
		if k.slot < keepFrom {
			delete(l.latest, k)
		}
	}
	path := filepath.Join(l.dir, EnvelopesFile)
	tmp := path + ".tmp"
	os.Remove(tmp)
	h := header{kind: "ENVLOG01", network: l.opts.Network, node: l.opts.Node}
	nl, _, err := openLog(tmp, h, false, func(scanned) error { return nil })
	if err != nil {
		return fmt.Errorf("ledger: compact: %w", err)
	}
	var payloads [][]byte
	for _, e := range l.latest {
		payloads = append(payloads, e.Encode())
	}
	sort.Slice(payloads, func(i, j int) bool { return string(payloads[i]) < string(payloads[j]) })
	if err := nl.append(!l.opts.NoSync, payloads...); err != nil {
		nl.close()
		os.Remove(tmp)
		return fmt.Errorf("ledger: compact: %w", err)
	}
	if !l.opts.NoSync {
		if err := nl.f.Sync(); err != nil {
			nl.close()
			os.Remove(tmp)
			return fmt.Errorf("ledger: compact: %w", err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		nl.close()
		os.Remove(tmp)
		return fmt.Errorf("ledger: compact: %w", err)
	}
	if err := syncDir(l.dir); err != nil {
		nl.close()
		return fmt.Errorf("ledger: compact: %w", err)
	}
	l.envs.close()
	nl.path = path
	l.envs = nl
	l.nEnvRec = len(payloads)
	return nil
}
