package citus

import (
	"context"
	"strconv"

	"github.com/jackc/pgerrcode"

	"github.com/pgfed/pgfed/catalog"
)

func init() {
	register(
		&funcSpec{
			name:    "worker_hash",
			params:  []param{{name: "value", typ: "any"}},
			returns: "int4", strict: true, run: workerHash,
		},
		&funcSpec{
			name:    "get_shard_id_for_distribution_column",
			params:  []param{{name: "table_name", typ: "regclass"}, {name: "distribution_value", typ: "any", def: "NULL"}},
			returns: "int8", run: shardIDFor,
		},
	)
}

// unknownOID is the type of an undecorated literal ('abc'), read as text.
const unknownOID = 705

// workerHash is worker_hash(value): the value's hash as PostgreSQL's
// default hash function for its type computes it.
func workerHash(_ context.Context, _ *runner, a []arg) ([][]*string, error) {
	typ := catalog.Type(a[0].typ)
	if a[0].typ == unknownOID {
		typ = catalog.TypeText
	}
	h, err := catalog.HashText(typ, a[0].str())
	if err != nil {
		return nil, err
	}
	return one(strconv.Itoa(int(h))), nil
}

// shardIDFor is get_shard_id_for_distribution_column(table_name,
// distribution_value): the shard a value goes to (the only shard of a
// reference table). The value is read as the distribution column's type.
func shardIDFor(ctx context.Context, r *runner, a []arg) ([][]*string, error) {
	if a[0].null() {
		return nil, errorf(pgerrcode.NullValueNotAllowedDataException, "relation cannot be NULL")
	}
	snap, err := r.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	oid, _ := strconv.ParseUint(a[0].str(), 10, 32)
	t, ok := snap.TableByOID(uint32(oid))
	if !ok {
		return nil, errorf(pgerrcode.InvalidParameterValue, "relation is not distributed").
			withDetail("Relation with OID %d is not a distributed or reference table.", oid)
	}
	shards := snap.ShardsOf(t.Relation)
	if t.Method == catalog.MethodReference {
		return one(strconv.FormatInt(shards[0].ID, 10)), nil
	}
	if t.Method == catalog.MethodOrganization {
		return nil, notSupported("get_shard_id_for_distribution_column does not apply to organization table %s", t.Relation).
			withHint("An organization table's shard depends on the organization and the hash column: see citus_shards.")
	}
	if a[1].null() {
		return nil, errorf(pgerrcode.InvalidParameterValue, "distribution value cannot be NULL for tables other than reference tables.")
	}
	// Read the value as the column's type in the client's session (its
	// TimeZone and DateStyle), as an INSERT would; the text that comes
	// back is unambiguous (timestamptz carries its offset).
	rows, err := r.env.Meta.Query(ctx, "SELECT CAST("+quoteLiteral(a[1].str())+" AS pg_catalog."+t.ColumnType.String()+")::text")
	if err != nil {
		return nil, err
	}
	h, err := catalog.HashText(t.ColumnType, string(rows.Values[0][0]))
	if err != nil {
		return nil, err
	}
	s, ok := snap.ShardForHash(t.Relation, h)
	if !ok {
		return nil, errorf(pgerrcode.InternalError, "no shard of %s holds hash %d", t.Relation, h)
	}
	return one(strconv.FormatInt(s.ID, 10)), nil
}
