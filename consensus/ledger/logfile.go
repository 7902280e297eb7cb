package ledger

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// logFile is one append-only file of framed records, its first record a
// header.
type logFile struct {
	f    *os.File
	path string
	size int64 // end of the last good record
	// broken is set when a failed append could not be undone; later appends
	// fail with it.
	broken error
}

// openLog opens (creating if needed) the log at path, checks its header
// against want, truncates a torn tail, and calls fn for every record after
// the header. It returns how many bytes of torn tail it removed.
func openLog(path string, want header, sync bool, fn func(scanned) error) (*logFile, int64, error) {
	name := filepath.Base(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, 0, fmt.Errorf("ledger: %w", err)
	}
	l := &logFile{f: f, path: path}
	first := true
	end, err := scan(f, name, func(s scanned) error {
		if first {
			first = false
			h, err := decodeHeader(s.payload)
			if err != nil {
				return err
			}
			if h.kind != want.kind {
				return fmt.Errorf("%w: file kind %q, want %q", ErrCorrupt, h.kind, want.kind)
			}
			if h.network != want.network {
				return fmt.Errorf("%w: network %s, want %s", ErrWrongFolder, h.network, want.network)
			}
			if h.node != want.node {
				return fmt.Errorf("%w: node %s, want %s", ErrWrongFolder, h.node, want.node)
			}
			return nil
		}
		return fn(s)
	})
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("ledger: %s: %w", name, err)
	}
	torn := st.Size() - end
	if torn > 0 {
		if err := f.Truncate(end); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("ledger: %s: truncating torn tail at %d: %w", name, end, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("ledger: %s: %w", name, err)
		}
	}
	l.size = end
	if first { // empty (or only a torn header): write the header
		l.size = 0
		if err := l.append(sync, want.encode()); err != nil {
			f.Close()
			return nil, 0, err
		}
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, 0, err
		}
	}
	return l, torn, nil
}

// append writes the payloads as records at the end of the file and, if
// sync, syncs it. It returns the offset of each record.
func (l *logFile) append(sync bool, payloads ...[]byte) error {
	_, err := l.appendOffsets(sync, payloads...)
	return err
}

func (l *logFile) appendOffsets(sync bool, payloads ...[]byte) ([]int64, error) {
	if l.broken != nil {
		return nil, l.broken
	}
	var buf []byte
	offs := make([]int64, len(payloads))
	for i, p := range payloads {
		offs[i] = l.size + int64(len(buf))
		buf = append(buf, frame(p)...)
	}
	name := filepath.Base(l.path)
	if _, err := l.f.WriteAt(buf, l.size); err != nil {
		// Undo a partial write so the next append does not follow garbage.
		if terr := l.f.Truncate(l.size); terr != nil {
			l.broken = fmt.Errorf("ledger: %s: write failed (%v) and could not be undone: %w", name, err, terr)
		}
		return nil, fmt.Errorf("ledger: %s: %w", name, err)
	}
	if sync {
		if err := l.f.Sync(); err != nil {
			// After a failed fsync the page cache state is unknown.
			l.broken = fmt.Errorf("ledger: %s: sync failed: %w", name, err)
			return nil, l.broken
		}
	}
	l.size += int64(len(buf))
	return offs, nil
}

func (l *logFile) close() error { return l.f.Close() }

// ErrWrongFolder is wrapped when a data folder belongs to another network
// or node.
var ErrWrongFolder = errors.New("ledger: data folder of another network or node")

// syncDir makes a directory's entries (created or renamed files) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("ledger: sync %s: %w", dir, err)
	}
	return nil
}
