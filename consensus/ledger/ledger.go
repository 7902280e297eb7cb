package ledger

import (
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"sync"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
)

// File names inside the data folder.
const (
	LedgerFile    = "ledger.log"
	EnvelopesFile = "envelopes.log"
	LockFile      = "LOCK"
)

// Options configures Open.
type Options struct {
	// Network and Node are written in each file's header; opening a folder
	// written for another network or node fails with ErrWrongFolder.
	Network consensus.Hash
	Node    quorum.NodeID
	// NoSync skips fsync (benchmarks and tests on throwaway folders only:
	// a crash may then lose acknowledged writes).
	NoSync bool
}

// Ledger is an open data folder. See the package documentation.
type Ledger struct {
	dir  string
	opts Options
	lock *os.File

	mu     sync.Mutex
	closed bool
	ledger *logFile
	first  uint64  // slot of offsets[0] (1 when empty)
	offs   []int64 // offset of the record of slot first+i
	last   consensus.Value

	envs    *logFile
	latest  map[envKey]consensus.Envelope
	nEnvRec int // records in envelopes.log, for compaction

	// Torn counts the bytes of torn tail removed by Open, per file.
	torn map[string]int64
}

type envKey struct {
	slot uint64
	nom  bool
}

// ErrClosed is returned by calls on a closed Ledger.
var ErrClosed = errors.New("ledger: closed")

// ErrOutOfOrder is wrapped by Append when a record is not for the slot after
// the last one.
var ErrOutOfOrder = errors.New("ledger: record out of order")

// Open opens (creating if needed) the data folder dir, recovers from torn
// writes and loads the index.
func Open(dir string, opts Options) (*Ledger, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, LockFile))
	if err != nil {
		return nil, err
	}
	l := &Ledger{dir: dir, opts: opts, lock: lock, first: 1, latest: map[envKey]consensus.Envelope{}, torn: map[string]int64{}}
	sync := !opts.NoSync
	var torn int64
	l.ledger, torn, err = openLog(filepath.Join(dir, LedgerFile), header{kind: "LEDGER01", network: opts.Network, node: opts.Node}, sync, func(s scanned) error {
		r, err := DecodeRecord(s.payload)
		if err != nil {
			return err
		}
		if len(l.offs) == 0 {
			l.first = r.Slot
		} else if want := l.first + uint64(len(l.offs)); r.Slot != want {
			return fmt.Errorf("%w: %w: slot %d after %d", ErrCorrupt, ErrOutOfOrder, r.Slot, want-1)
		}
		l.offs = append(l.offs, s.off)
		l.last = r.Value
		return nil
	})
	if err != nil {
		lock.Close()
		return nil, err
	}
	l.torn[LedgerFile] = torn
	l.envs, torn, err = openLog(filepath.Join(dir, EnvelopesFile), header{kind: "ENVLOG01", network: opts.Network, node: opts.Node}, sync, func(s scanned) error {
		env, err := consensus.DecodeEnvelope(s.payload)
		if err != nil {
			return err
		}
		if env.Statement.NodeID != opts.Node {
			return fmt.Errorf("%w: envelope of node %s", ErrCorrupt, env.Statement.NodeID)
		}
		l.latest[keyOf(env)] = env
		l.nEnvRec++
		return nil
	})
	if err != nil {
		l.ledger.close()
		lock.Close()
		return nil, err
	}
	l.torn[EnvelopesFile] = torn
	return l, nil
}

func keyOf(env consensus.Envelope) envKey {
	return envKey{slot: env.Statement.Slot, nom: env.Statement.Type() == consensus.TypeNominate}
}

// Dir is the data folder.
func (l *Ledger) Dir() string { return l.dir }

// Torn reports how many bytes of torn tail Open removed from file
// (LedgerFile or EnvelopesFile).
func (l *Ledger) Torn(file string) int64 { return l.torn[file] }

// Close closes the files and releases the folder lock.
func (l *Ledger) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	return errors.Join(l.ledger.close(), l.envs.close(), l.lock.Close())
}

// Last returns the highest slot in the ledger (0 when empty).
func (l *Ledger) Last() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastLocked()
}

func (l *Ledger) lastLocked() uint64 {
	if len(l.offs) == 0 {
		return l.first - 1
	}
	return l.first + uint64(len(l.offs)) - 1
}

// LastValue returns the value of the highest slot (nil when empty).
func (l *Ledger) LastValue() consensus.Value {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append(consensus.Value(nil), l.last...)
}

// Append adds the record of the slot after Last (any slot >= 1 when the
// ledger is empty) and syncs it. Records of other slots fail with
// ErrOutOfOrder.
func (l *Ledger) Append(r Record) error {
	if r.Slot == 0 {
		return fmt.Errorf("%w: slot 0", ErrOutOfOrder)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if len(l.offs) > 0 || l.first != 1 {
		if want := l.lastLocked() + 1; r.Slot != want {
			return fmt.Errorf("%w: slot %d, want %d", ErrOutOfOrder, r.Slot, want)
		}
	}
	offs, err := l.ledger.appendOffsets(!l.opts.NoSync, EncodeRecord(r))
	if err != nil {
		return fmt.Errorf("ledger: append slot %d: %w", r.Slot, err)
	}
	if len(l.offs) == 0 {
		l.first = r.Slot
	}
	l.offs = append(l.offs, offs[0])
	l.last = append(consensus.Value(nil), r.Value...)
	return nil
}

// Get returns the record of slot; ok is false when the ledger does not hold
// it.
func (l *Ledger) Get(slot uint64) (r Record, ok bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return Record{}, false, ErrClosed
	}
	if slot < l.first || slot > l.lastLocked() || len(l.offs) == 0 {
		return Record{}, false, nil
	}
	r, err = l.readLocked(slot)
	return r, err == nil, err
}

func (l *Ledger) readLocked(slot uint64) (Record, error) {
	p, err := readRecordAt(l.ledger.f, l.offs[slot-l.first])
	if err != nil {
		return Record{}, fmt.Errorf("ledger: read slot %d: %w", slot, err)
	}
	r, err := DecodeRecord(p)
	if err != nil {
		return Record{}, fmt.Errorf("ledger: read slot %d: %w", slot, err)
	}
	return r, nil
}

// Records iterates over the records from slot from on, in slot order, up
// to the last record present when the iteration reaches it. It stops after
// yielding an error.
func (l *Ledger) Records(from uint64) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		slot := max(from, l.firstSlot())
		for ; ; slot++ {
			r, ok, err := l.Get(slot)
			if err != nil {
				yield(Record{}, err)
				return
			}
			if !ok || !yield(r, nil) {
				return
			}
		}
	}
}

func (l *Ledger) firstSlot() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.first
}
