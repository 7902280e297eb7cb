package executor

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/big"
	"strconv"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/wire"
)

// sortValue is a sort key's value decoded once, so that the k-way merge
// compares without parsing.
type sortValue struct {
	null bool
	// rank orders the special values: -1 for -infinity, 1 for +infinity,
	// 2 for NaN, 0 for ordinary values.
	rank int8
	i    int64
	f    float64
	num  *pgtype.Numeric
	b    []byte
}

// keyDecoder decodes the values of one sort key column.
type keyDecoder struct {
	typ    catalog.Type
	binary bool
	m      *pgtype.Map
}

// decode decodes one value of the key's column.
func (d *keyDecoder) decode(v []byte) (sortValue, error) {
	if v == nil {
		return sortValue{null: true}, nil
	}
	format := int16(pgtype.TextFormatCode)
	if d.binary {
		format = pgtype.BinaryFormatCode
	}
	switch d.typ {
	case catalog.TypeInt2, catalog.TypeInt4, catalog.TypeInt8, catalog.Type(26):
		if d.binary {
			var n int64
			switch len(v) {
			case 2:
				n = int64(int16(binary.BigEndian.Uint16(v)))
			case 4:
				n = int64(int32(binary.BigEndian.Uint32(v)))
				if d.typ == 26 {
					n = int64(binary.BigEndian.Uint32(v))
				}
			case 8:
				n = int64(binary.BigEndian.Uint64(v))
			}
			return sortValue{i: n}, nil
		}
		n, err := strconv.ParseInt(string(v), 10, 64)
		return sortValue{i: n}, err
	case catalog.TypeFloat4, catalog.TypeFloat8:
		var f float64
		var err error
		switch {
		case d.binary && len(v) == 4:
			f = float64(math.Float32frombits(binary.BigEndian.Uint32(v)))
		case d.binary && len(v) == 8:
			f = math.Float64frombits(binary.BigEndian.Uint64(v))
		default:
			f, err = strconv.ParseFloat(string(v), 64)
		}
		if math.IsNaN(f) {
			return sortValue{rank: 2}, err // PostgreSQL sorts NaN above everything
		}
		return sortValue{f: f}, err
	case catalog.TypeBool:
		if len(v) > 0 && (v[0] == 't' || v[0] == 1) {
			return sortValue{i: 1}, nil
		}
		return sortValue{}, nil
	case catalog.TypeUUID:
		if d.binary {
			return sortValue{b: v}, nil
		}
		return sortValue{b: bytes.ToLower(v)}, nil
	case catalog.TypeDate:
		var x pgtype.Date
		if err := d.m.Scan(uint32(d.typ), format, v, &x); err != nil {
			return sortValue{}, err
		}
		return sortValue{rank: int8(x.InfinityModifier), i: x.Time.Unix()}, nil
	case catalog.TypeTimestamp:
		var x pgtype.Timestamp
		if err := d.m.Scan(uint32(d.typ), format, v, &x); err != nil {
			return sortValue{}, err
		}
		return sortValue{rank: int8(x.InfinityModifier), i: x.Time.UnixMicro()}, nil
	case catalog.TypeTimestamptz:
		var x pgtype.Timestamptz
		if err := d.m.Scan(uint32(d.typ), format, v, &x); err != nil {
			return sortValue{}, err
		}
		return sortValue{rank: int8(x.InfinityModifier), i: x.Time.UnixMicro()}, nil
	case catalog.TypeNumeric:
		var x pgtype.Numeric
		if err := d.m.Scan(uint32(d.typ), format, v, &x); err != nil {
			return sortValue{}, err
		}
		switch {
		case x.NaN:
			return sortValue{rank: 2}, nil
		case x.InfinityModifier != pgtype.Finite:
			return sortValue{rank: int8(x.InfinityModifier)}, nil
		}
		return sortValue{num: &x}, nil
	}
	return sortValue{}, &wire.Error{Code: pgerrcode.InternalError,
		Message: "pgfed cannot merge sorted rows of type " + d.typ.String() + " on the coordinator"}
}

// compareValues orders two decoded values of one key, ascending with NULLs
// last (the caller applies DESC and NULLS FIRST).
func compareValues(typ catalog.Type, a, b sortValue) int {
	if a.rank != b.rank {
		return int(a.rank) - int(b.rank)
	}
	if a.rank != 0 {
		return 0
	}
	switch typ {
	case catalog.TypeFloat4, catalog.TypeFloat8:
		switch {
		case a.f < b.f:
			return -1
		case a.f > b.f:
			return 1
		}
		return 0
	case catalog.TypeUUID:
		return bytes.Compare(a.b, b.b)
	case catalog.TypeNumeric:
		return compareNumeric(a.num, b.num)
	}
	switch {
	case a.i < b.i:
		return -1
	case a.i > b.i:
		return 1
	}
	return 0
}

// compareNumeric compares two finite numerics exactly.
func compareNumeric(a, b *pgtype.Numeric) int {
	ai, bi := new(big.Int).Set(a.Int), new(big.Int).Set(b.Int)
	ten := big.NewInt(10)
	switch {
	case a.Exp > b.Exp:
		ai.Mul(ai, new(big.Int).Exp(ten, big.NewInt(int64(a.Exp-b.Exp)), nil))
	case b.Exp > a.Exp:
		bi.Mul(bi, new(big.Int).Exp(ten, big.NewInt(int64(b.Exp-a.Exp)), nil))
	}
	return ai.Cmp(bi)
}
