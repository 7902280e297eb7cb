package citus

import (
	"context"
	"strconv"

	"github.com/jackc/pgerrcode"

	"github.com/pgfed/pgfed/catalog"
)

func init() {
	for name, fn := range map[string]string{
		"citus_table_size":          "pg_table_size",
		"citus_relation_size":       "pg_relation_size",
		"citus_total_relation_size": "pg_total_relation_size",
	} {
		register(&funcSpec{
			name:    name,
			params:  []param{{name: "logicalrelid", typ: "regclass"}},
			returns: "int8", strict: true,
			run: func(ctx context.Context, r *runner, a []arg) ([][]*string, error) {
				return tableSize(ctx, r, a, name, fn)
			},
		})
	}
	register(&funcSpec{
		name:    "recover_prepared_transactions",
		returns: "int4",
		run:     recoverPrepared, superuser: true,
	})
}

// tableSize is citus_table_size and its siblings: the sum over the
// table's shards (one placement each) of the PostgreSQL size function fn.
func tableSize(ctx context.Context, r *runner, a []arg, name, fn string) ([][]*string, error) {
	snap, err := r.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	oid, _ := strconv.ParseUint(a[0].str(), 10, 32)
	t, ok := snap.TableByOID(uint32(oid))
	if !ok {
		return nil, errorf(pgerrcode.InvalidParameterValue, "cannot calculate the size because relation with OID %d is not distributed", oid).
			withHint("%s applies to distributed and reference tables; use %s for local ones.", name, fn)
	}
	if err := r.syncPools(ctx); err != nil {
		return nil, err
	}
	byNode := map[int32][]catalog.Shard{}
	for _, s := range snap.ShardsOf(t.Relation) {
		p := snap.PlacementsOf(s.ID)[0]
		byNode[p.NodeID] = append(byNode[p.NodeID], s)
	}
	var total int64
	for _, id := range sortedNodes(byNode) {
		sql := "SELECT coalesce(sum(" + fn + "(to_regclass(n))), 0)::bigint FROM unnest(ARRAY["
		for i, s := range byNode[id] {
			if i > 0 {
				sql += ", "
			}
			sql += quoteLiteral(s.QualifiedName())
		}
		rows, err := r.workerQuery(ctx, id, sql+"]::text[]) AS u(n)")
		if err != nil {
			return nil, err
		}
		n, _ := strconv.ParseInt(rows[0][0], 10, 64)
		total += n
	}
	return one(strconv.FormatInt(total, 10)), nil
}

// recoverPrepared is recover_prepared_transactions(): one recovery round
// (see dtx.Coordinator.Recover); it returns the number of prepared
// transactions settled.
func recoverPrepared(ctx context.Context, r *runner, _ []arg) ([][]*string, error) {
	if err := r.syncPools(ctx); err != nil {
		return nil, err
	}
	res, err := r.env.Coord.Recover(ctx)
	if err != nil {
		return nil, err
	}
	return one(strconv.Itoa(res.Committed + res.RolledBack)), nil
}
