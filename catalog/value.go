package catalog

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgerrcode"
)

// HashValue hashes a Go value as a value of type typ, converting it the way
// an assignment cast in PostgreSQL would (integers must fit the target, a
// float becomes numeric through its shortest 15 or 6 significant digits).
// Accepted Go types:
//
//   - all integer kinds, for int2, int4, int8, oid, numeric, float4, float8
//   - float32 and float64, for float4, float8, numeric
//   - bool, for bool
//   - string, for every type: text types hash the string, the others parse
//     it as HashText does
//   - []byte: the raw bytes of a bytea or of a uuid (16), else as a string
//   - [16]byte, for uuid
//   - time.Time: its calendar date for date, its wall clock for timestamp,
//     its instant for timestamptz
//   - Numeric, for numeric
//
// A nil value fails (NULL has no hash) with null_value_not_allowed, another
// Go type with datatype_mismatch, a type this package cannot hash with a
// *TypeError.
func HashValue(typ Type, v any) (int32, error) {
	if !typ.Hashable() {
		return 0, &TypeError{Type: typ}
	}
	switch x := v.(type) {
	case nil:
		return 0, inputError(typ, "NULL", pgerrcode.NullValueNotAllowedDataException,
			fmt.Sprintf("cannot hash a NULL %s", typ.SQLName()))
	case string:
		return HashText(typ, x)
	case []byte:
		if typ == TypeBytea || (typ == TypeUUID && len(x) == 16) {
			return HashBytes(x), nil
		}
		return HashText(typ, string(x))
	case [16]byte:
		if typ == TypeUUID {
			return HashUUID(x), nil
		}
	case bool:
		if typ == TypeBool {
			return HashBool(x), nil
		}
	case Numeric:
		if typ == TypeNumeric {
			if err := x.checkFormat(x.String()); err != nil {
				return 0, err
			}
			return x.Hash(), nil
		}
	case time.Time:
		return hashTime(typ, x)
	case float32:
		return hashFloat(typ, float64(x), true)
	case float64:
		return hashFloat(typ, x, false)
	case int:
		return hashInt(typ, int64(x), v)
	case int8:
		return hashInt(typ, int64(x), v)
	case int16:
		return hashInt(typ, int64(x), v)
	case int32:
		return hashInt(typ, int64(x), v)
	case int64:
		return hashInt(typ, x, v)
	case uint:
		return hashUint(typ, uint64(x), v)
	case uint8:
		return hashInt(typ, int64(x), v)
	case uint16:
		return hashInt(typ, int64(x), v)
	case uint32:
		return hashInt(typ, int64(x), v)
	case uint64:
		return hashUint(typ, x, v)
	}
	return 0, mismatch(typ, v)
}

// mismatch reports a Go value that cannot stand for a value of typ.
func mismatch(typ Type, v any) error {
	return inputError(typ, fmt.Sprint(v), pgerrcode.DatatypeMismatch,
		fmt.Sprintf("cannot hash Go value %v of type %T as %s", v, v, typ.SQLName()))
}

// hashUint hashes an unsigned integer, which may exceed int64.
func hashUint(typ Type, u uint64, v any) (int32, error) {
	if u <= math.MaxInt64 {
		return hashInt(typ, int64(u), v)
	}
	switch typ {
	case TypeNumeric, TypeFloat4, TypeFloat8:
		return HashText(typ, strconv.FormatUint(u, 10))
	}
	return 0, rangeError(typ, strconv.FormatUint(u, 10))
}

// hashInt hashes an integer as a value of typ.
func hashInt(typ Type, i int64, v any) (int32, error) {
	switch typ {
	case TypeInt2:
		if i < math.MinInt16 || i > math.MaxInt16 {
			return 0, rangeError(typ, strconv.FormatInt(i, 10))
		}
		return HashInt2(int16(i)), nil
	case TypeInt4:
		if i < math.MinInt32 || i > math.MaxInt32 {
			return 0, rangeError(typ, strconv.FormatInt(i, 10))
		}
		return HashInt4(int32(i)), nil
	case TypeInt8:
		return HashInt8(i), nil
	case TypeOID:
		if i < 0 || i > math.MaxUint32 {
			return 0, rangeError(typ, strconv.FormatInt(i, 10))
		}
		return HashOID(uint32(i)), nil
	case TypeNumeric:
		return NumericFromInt64(i).Hash(), nil
	case TypeFloat4:
		return HashFloat4(float32(i)), nil
	case TypeFloat8:
		return HashFloat8(float64(i)), nil
	}
	return 0, mismatch(typ, v)
}

// hashFloat hashes a float as a value of typ; single says it came from a
// float32 (whose numeric conversion keeps 6 significant digits).
func hashFloat(typ Type, f float64, single bool) (int32, error) {
	switch typ {
	case TypeFloat4:
		// float8_to_float4 refuses to round to an infinity or to zero.
		g := float32(f)
		switch {
		case math.IsInf(float64(g), 0) && !math.IsInf(f, 0):
			return 0, inputError(typ, strconv.FormatFloat(f, 'g', -1, 64), pgerrcode.NumericValueOutOfRange,
				"value out of range: overflow")
		case g == 0 && f != 0:
			return 0, inputError(typ, strconv.FormatFloat(f, 'g', -1, 64), pgerrcode.NumericValueOutOfRange,
				"value out of range: underflow")
		}
		return HashFloat4(g), nil
	case TypeFloat8:
		return HashFloat8(f), nil
	case TypeNumeric:
		switch {
		case math.IsNaN(f):
			return NumericNaN.Hash(), nil
		case math.IsInf(f, 0):
			return 0, nil
		}
		digits := 15
		if single {
			digits = 6
		}
		return HashText(typ, strconv.FormatFloat(f, 'g', digits, 64))
	}
	return 0, mismatch(typ, f)
}

// hashTime hashes a time.Time as a date, timestamp or timestamptz.
func hashTime(typ Type, t time.Time) (int32, error) {
	switch typ {
	case TypeDate:
		y, m, _ := t.Date()
		d := DateFromTime(t)
		if !validJulian(y, int(m)) || d == DateInfinity || d == DateNegInfinity {
			return 0, inputError(typ, t.String(), pgerrcode.DatetimeFieldOverflow, "date out of range")
		}
		return HashDate(d), nil
	case TypeTimestamp, TypeTimestamptz:
		ts := LocalTimestampFromTime(t)
		if typ == TypeTimestamptz {
			ts = TimestampFromTime(t)
		}
		y := t.Year()
		if y < -4800 || y > 300000 || ts < minTimestamp || ts >= endTimestamp {
			return 0, inputError(typ, t.String(), pgerrcode.DatetimeFieldOverflow, "timestamp out of range")
		}
		return HashTimestamp(ts), nil
	}
	return 0, mismatch(typ, t)
}
