package catalog

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/jackc/pgerrcode"
)

// numeric's binary sign words.
const (
	numericPos  = 0x0000
	numericNeg  = 0x4000
	numericNaNW = 0xC000
	numericPInf = 0xD000
	numericNInf = 0xF000
)

// binarySize holds the length of the fixed-size binary formats.
var binarySize = map[Type]int{TypeBool: 1, TypeInt2: 2, TypeInt4: 4, TypeOID: 4, TypeDate: 4, TypeFloat4: 4,
	TypeInt8: 8, TypeFloat8: 8, TypeTimestamp: 8, TypeTimestamptz: 8, TypeUUID: 16}

// HashBinary hashes a value given in PostgreSQL's binary wire format for
// typ (the format of a Bind parameter or a DataRow field with format code
// 1), validating it as the type's receive function does. Malformed data
// fails with invalid_binary_representation (22P03).
func HashBinary(typ Type, b []byte) (int32, error) {
	if !typ.Hashable() {
		return 0, &TypeError{Type: typ}
	}
	if size := binarySize[typ]; size != 0 && len(b) != size {
		return 0, binaryError(typ, fmt.Sprintf("incorrect binary data format: %d bytes for %s, want %d", len(b), typ.SQLName(), size))
	}
	be := binary.BigEndian
	switch typ {
	case TypeBool:
		return HashBool(b[0] != 0), nil
	case TypeInt2:
		return HashInt2(int16(be.Uint16(b))), nil
	case TypeInt4:
		return HashInt4(int32(be.Uint32(b))), nil
	case TypeOID:
		return HashOID(be.Uint32(b)), nil
	case TypeInt8:
		return HashInt8(int64(be.Uint64(b))), nil
	case TypeFloat4:
		return HashFloat4(math.Float32frombits(be.Uint32(b))), nil
	case TypeFloat8:
		return HashFloat8(math.Float64frombits(be.Uint64(b))), nil
	case TypeUUID:
		return HashBytes(b), nil
	case TypeDate:
		d := int32(be.Uint32(b))
		if d != DateInfinity && d != DateNegInfinity && (d < -postgresEpochJDate || d >= dateEndJulian-postgresEpochJDate) {
			return 0, inputError(typ, fmt.Sprint(d), pgerrcode.DatetimeFieldOverflow, "date out of range")
		}
		return HashDate(d), nil
	case TypeTimestamp, TypeTimestamptz:
		ts := int64(be.Uint64(b))
		if ts != TimestampInfinity && ts != TimestampNegInfinity && (ts < minTimestamp || ts >= endTimestamp) {
			return 0, inputError(typ, fmt.Sprint(ts), pgerrcode.DatetimeFieldOverflow, "timestamp out of range")
		}
		return HashTimestamp(ts), nil
	case TypeText, TypeVarchar:
		if err := checkText(typ, string(b)); err != nil {
			return 0, err
		}
		return HashBytes(b), nil
	case TypeBytea:
		return HashBytes(b), nil
	case TypeName:
		if err := checkText(typ, string(b)); err != nil {
			return 0, err
		}
		if len(b) >= nameDataLen {
			return 0, inputError(typ, string(b), pgerrcode.NameTooLong, "identifier too long")
		}
		return HashBytes(b), nil
	case TypeBpchar:
		if err := checkText(typ, string(b)); err != nil {
			return 0, err
		}
		return HashBpchar(string(b)), nil
	case TypeNumeric:
		n, err := NumericFromBinary(b)
		if err != nil {
			return 0, err
		}
		return n.Hash(), nil
	}
	return 0, &TypeError{Type: typ}
}

// binaryError is invalid_binary_representation (22P03).
func binaryError(typ Type, msg string) error {
	return inputError(typ, "", pgerrcode.InvalidBinaryRepresentation, msg)
}

// NumericFromBinary reads a numeric in PostgreSQL's binary format (ndigits,
// weight, sign, dscale as 16-bit words, then the base-10000 digits) and
// validates it as numeric_recv does, truncating digits the display scale
// hides.
func NumericFromBinary(b []byte) (Numeric, error) {
	bad := func(msg string) (Numeric, error) { return Numeric{}, binaryError(TypeNumeric, msg) }
	if len(b) < 8 {
		return bad("insufficient data left in message")
	}
	be := binary.BigEndian
	ndigits := int(be.Uint16(b))
	n := Numeric{weight: int(int16(be.Uint16(b[2:]))), dscale: int(be.Uint16(b[6:]))}
	if ndigits > 3000 { // NUMERIC_MAX_PRECISION + NUMERIC_MAX_RESULT_SCALE
		return bad("invalid length in external \"numeric\" value")
	}
	if len(b) != 8+2*ndigits {
		return bad("incorrect binary data format")
	}
	switch be.Uint16(b[4:]) {
	case numericPos:
	case numericNeg:
		n.neg = true
	case numericNaNW:
		return NumericNaN, nil
	case numericPInf:
		return Numeric{kind: numericPosInf}, nil
	case numericNInf:
		return Numeric{kind: numericNegInf}, nil
	default:
		return bad("invalid sign in external \"numeric\" value")
	}
	if n.dscale > maxDisplayScle {
		return bad("invalid scale in external \"numeric\" value")
	}
	n.digits = make([]int16, ndigits)
	for i := range n.digits {
		d := int16(be.Uint16(b[8+2*i:]))
		if d < 0 || d >= nbase {
			return bad("invalid digit in external \"numeric\" value")
		}
		n.digits[i] = d
	}
	n.truncate(n.dscale)
	n.strip()
	if err := n.checkFormat(""); err != nil {
		return Numeric{}, err
	}
	return n, nil
}

// truncate is trunc_var: it drops the decimal digits after rscale.
func (n *Numeric) truncate(rscale int) {
	di := (n.weight+1)*decDigits + rscale
	if di <= 0 {
		n.digits = nil
		return
	}
	nd := (di + decDigits - 1) / decDigits
	if nd <= len(n.digits) {
		n.digits = n.digits[:nd:nd]
		if r := di % decDigits; r > 0 {
			p := int16([...]int{0, 1000, 100, 10}[r])
			d := append([]int16(nil), n.digits...)
			d[nd-1] -= d[nd-1] % p
			n.digits = d
		}
	}
}
