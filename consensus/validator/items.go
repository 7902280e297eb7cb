package validator

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/pgfed/pgfed/consensus"
)

// The default value of a slot is a set of opaque items (byte strings),
// encoded canonically as
//
//	u32 count | count × (u32 length | bytes)
//
// with the items strictly increasing (bytes.Compare), so that a set has one
// encoding. Combine is the sorted union; Validate accepts any non-empty,
// canonical set within the limits. The federated commit plugs its own
// Driver in instead.

// MaxItemSize bounds one item.
const MaxItemSize = 64 << 10

// ErrBadItems is wrapped by DecodeItems's errors.
var ErrBadItems = errors.New("validator: malformed item set")

// EncodeItems returns the canonical encoding of the set of items (sorted
// and deduplicated here).
func EncodeItems(items [][]byte) consensus.Value {
	s := slices.Clone(items)
	slices.SortFunc(s, bytes.Compare)
	s = slices.CompactFunc(s, bytes.Equal)
	b := binary.BigEndian.AppendUint32(nil, uint32(len(s)))
	for _, it := range s {
		b = binary.BigEndian.AppendUint32(b, uint32(len(it)))
		b = append(b, it...)
	}
	return b
}

// DecodeItems parses a canonical item set. The items alias v.
func DecodeItems(v consensus.Value) ([][]byte, error) {
	if len(v) < 4 {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadItems, len(v))
	}
	n := binary.BigEndian.Uint32(v)
	rest := v[4:]
	if uint64(n)*4 > uint64(len(rest)) {
		return nil, fmt.Errorf("%w: %d items in %d bytes", ErrBadItems, n, len(v))
	}
	items := make([][]byte, 0, n)
	for i := uint32(0); i < n; i++ {
		if len(rest) < 4 {
			return nil, fmt.Errorf("%w: truncated at item %d", ErrBadItems, i)
		}
		l := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if l > MaxItemSize || int(l) > len(rest) {
			return nil, fmt.Errorf("%w: item %d of %d bytes", ErrBadItems, i, l)
		}
		it := rest[:l:l]
		rest = rest[l:]
		if len(items) > 0 && bytes.Compare(items[len(items)-1], it) >= 0 {
			return nil, fmt.Errorf("%w: items not strictly increasing at %d", ErrBadItems, i)
		}
		items = append(items, it)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrBadItems, len(rest))
	}
	return items, nil
}

// ItemDriver is the default consensus.Driver: values are item sets.
type ItemDriver struct {
	// MaxItems bounds the items of a value (default 1000); Combine keeps
	// the smallest MaxItems of the union.
	MaxItems int
}

func (d ItemDriver) maxItems() int {
	if d.MaxItems <= 0 {
		return 1000
	}
	return d.MaxItems
}

// Validate accepts a canonical, non-empty item set of at most MaxItems
// items. It depends on nothing but the value, as SCP requires.
func (d ItemDriver) Validate(_ uint64, v consensus.Value, _ bool) consensus.ValidationLevel {
	items, err := DecodeItems(v)
	if err != nil || len(items) == 0 || len(items) > d.maxItems() {
		return consensus.Invalid
	}
	return consensus.FullyValid
}

// Combine returns the sorted union of the candidates' items, cut to
// MaxItems (the smallest ones). Candidates that do not decode are skipped.
func (d ItemDriver) Combine(_ uint64, cands []consensus.Value) consensus.Value {
	var all [][]byte
	for _, c := range cands {
		items, err := DecodeItems(c)
		if err != nil {
			continue
		}
		all = append(all, items...)
	}
	slices.SortFunc(all, bytes.Compare)
	all = slices.CompactFunc(all, bytes.Equal)
	return EncodeItems(capItems(all, d.maxItems()))
}

// capItems keeps the first items (sorted) while there are at most max of
// them and their encoding fits in consensus.MaxValueSize.
func capItems(sorted [][]byte, max int) [][]byte {
	size := 4
	for i, it := range sorted {
		size += 4 + len(it)
		if i == max || size > consensus.MaxValueSize {
			return sorted[:i]
		}
	}
	return sorted
}
