package catalog

import (
	"strconv"
	"strings"
)

// Type identifies a PostgreSQL data type by its OID. The named constants are
// the types whose values pgfed can hash; any other OID is a valid Type that
// the hash functions reject with a *TypeError.
type Type uint32

// The built-in types pgfed can hash, with PostgreSQL's OIDs.
const (
	TypeBool        Type = 16
	TypeBytea       Type = 17
	TypeName        Type = 19
	TypeInt8        Type = 20
	TypeInt2        Type = 21
	TypeInt4        Type = 23
	TypeText        Type = 25
	TypeOID         Type = 26
	TypeFloat4      Type = 700
	TypeFloat8      Type = 701
	TypeBpchar      Type = 1042
	TypeVarchar     Type = 1043
	TypeDate        Type = 1082
	TypeTimestamp   Type = 1114
	TypeTimestamptz Type = 1184
	TypeNumeric     Type = 1700
	TypeUUID        Type = 2950
)

// typeNames holds each hashable type's canonical name (pg_type.typname).
var typeNames = map[Type]string{
	TypeBool:        "bool",
	TypeBytea:       "bytea",
	TypeName:        "name",
	TypeInt8:        "int8",
	TypeInt2:        "int2",
	TypeInt4:        "int4",
	TypeText:        "text",
	TypeOID:         "oid",
	TypeFloat4:      "float4",
	TypeFloat8:      "float8",
	TypeBpchar:      "bpchar",
	TypeVarchar:     "varchar",
	TypeDate:        "date",
	TypeTimestamp:   "timestamp",
	TypeTimestamptz: "timestamptz",
	TypeNumeric:     "numeric",
	TypeUUID:        "uuid",
}

// sqlNames holds the names PostgreSQL uses for a type in error messages
// (format_type), where they differ from typname.
var sqlNames = map[Type]string{
	TypeBool:        "boolean",
	TypeInt8:        "bigint",
	TypeInt2:        "smallint",
	TypeInt4:        "integer",
	TypeFloat4:      "real",
	TypeFloat8:      "double precision",
	TypeBpchar:      "character",
	TypeVarchar:     "character varying",
	TypeTimestamp:   "timestamp without time zone",
	TypeTimestamptz: "timestamp with time zone",
}

// typeAliases maps the SQL spellings PostgreSQL accepts to types.
var typeAliases = map[string]Type{
	"boolean":                     TypeBool,
	"bigint":                      TypeInt8,
	"smallint":                    TypeInt2,
	"integer":                     TypeInt4,
	"int":                         TypeInt4,
	"real":                        TypeFloat4,
	"double precision":            TypeFloat8,
	"character":                   TypeBpchar,
	"char":                        TypeBpchar,
	"character varying":           TypeVarchar,
	"decimal":                     TypeNumeric,
	"timestamp without time zone": TypeTimestamp,
	"timestamp with time zone":    TypeTimestamptz,
}

// OID returns the type's PostgreSQL OID.
func (t Type) OID() uint32 { return uint32(t) }

// String returns the type's name as in pg_type.typname ("int4", "uuid"), or
// "type <oid>" for a type this package does not know.
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return "type " + strconv.FormatUint(uint64(t), 10)
}

// SQLName returns the name PostgreSQL uses for the type in messages
// ("integer", "timestamp with time zone").
func (t Type) SQLName() string {
	if n, ok := sqlNames[t]; ok {
		return n
	}
	return t.String()
}

// Hashable reports whether the hash functions of this package support t.
func (t Type) Hashable() bool {
	_, ok := typeNames[t]
	return ok
}

// TypeByName returns the hashable type named name, accepting typnames
// ("int4"), SQL spellings ("integer", "character varying") and, case
// insensitively, either with surrounding blanks. ok is false for any other
// name.
func TypeByName(name string) (t Type, ok bool) {
	n := strings.ToLower(strings.Join(strings.Fields(name), " "))
	if t, ok := typeAliases[n]; ok {
		return t, true
	}
	for t, tn := range typeNames {
		if tn == n {
			return t, true
		}
	}
	return 0, false
}
