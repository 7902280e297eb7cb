package ledger

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// frameHeader is the size of a record's length and checksum.
const frameHeader = 8

// MaxRecordSize bounds one record's payload. Larger length fields are
// treated as torn writes (at the end of a file) or corruption.
const MaxRecordSize = 256 << 20

// ErrCorrupt is wrapped by errors about damaged files that are not torn
// writes: a bad record followed by more data, or a header of another kind.
var ErrCorrupt = errors.New("ledger: corrupt file")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frame returns payload framed as a record.
func frame(payload []byte) []byte {
	b := make([]byte, frameHeader, frameHeader+len(payload))
	binary.BigEndian.PutUint32(b[0:], uint32(len(payload)))
	binary.BigEndian.PutUint32(b[4:], crc32.Checksum(payload, castagnoli))
	return append(b, payload...)
}

// scanned is one record found by scan.
type scanned struct {
	off     int64 // offset of the frame header
	payload []byte
}

// scan reads every complete, intact record of f from the start and calls
// fn for each. It returns the offset just after the last good record and
// whether the rest of the file (if any) is a torn write. A bad record with
// data after it is reported as ErrCorrupt.
func scan(f *os.File, name string, fn func(scanned) error) (end int64, err error) {
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("ledger: %s: %w", name, err)
	}
	size := st.Size()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("ledger: %s: %w", name, err)
	}
	r := bufio.NewReaderSize(f, 64<<10)
	var off int64
	var hdr [frameHeader]byte
	for off < size {
		if size-off < frameHeader {
			return off, nil // torn header
		}
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return 0, fmt.Errorf("ledger: %s at offset %d: %w", name, off, err)
		}
		n := int64(binary.BigEndian.Uint32(hdr[0:]))
		sum := binary.BigEndian.Uint32(hdr[4:])
		end := off + frameHeader + n
		if end > size {
			return off, nil // torn payload
		}
		if n > MaxRecordSize {
			return 0, fmt.Errorf("%w: %s at offset %d: record of %d bytes exceeds %d", ErrCorrupt, name, off, n, MaxRecordSize)
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return 0, fmt.Errorf("ledger: %s at offset %d: %w", name, off, err)
		}
		if crc32.Checksum(payload, castagnoli) != sum {
			if end == size {
				return off, nil // last record torn inside its payload
			}
			return 0, fmt.Errorf("%w: %s at offset %d: checksum mismatch", ErrCorrupt, name, off)
		}
		if err := fn(scanned{off: off, payload: payload}); err != nil {
			return 0, fmt.Errorf("ledger: %s at offset %d: %w", name, off, err)
		}
		off = end
	}
	return off, nil
}

// readRecordAt reads the record whose frame starts at off.
func readRecordAt(f *os.File, off int64) ([]byte, error) {
	var hdr [frameHeader]byte
	if _, err := f.ReadAt(hdr[:], off); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[0:])
	if n > MaxRecordSize {
		return nil, fmt.Errorf("%w: record at offset %d of %d bytes", ErrCorrupt, off, n)
	}
	payload := make([]byte, n)
	if _, err := f.ReadAt(payload, off+frameHeader); err != nil {
		return nil, err
	}
	if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(hdr[4:]) {
		return nil, fmt.Errorf("%w: record at offset %d: checksum mismatch", ErrCorrupt, off)
	}
	return payload, nil
}
