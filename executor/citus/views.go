package citus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgerrcode"
	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/catalog/store"
)

// viewsVersion marks the views this build creates (in the comment of
// pgfed.citus_tables); Init replaces views of another version.
const viewsVersion = "pgfed citus api views v1"

// viewNames are the views a query may read, unqualified or in
// pg_catalog, each defined in the pgfed schema.
var viewNames = map[string]bool{
	"citus_shards": true, "citus_tables": true, "pg_dist_node": true, "pg_dist_partition": true,
	"pg_dist_shard": true, "pg_dist_placement": true, "pg_dist_colocation": true, "pgfed_organizations": true,
}

// viewsSQL defines the views over the catalog schema, with Citus's
// columns (plus organization where pgfed has one). citus_shards and
// citus_tables report sizes of 0 here: Run joins in the sizes read from
// the workers.
const viewsSQL = `
CREATE OR REPLACE VIEW pgfed.pg_dist_node AS
	SELECT n.nodeid, n.nodeid AS groupid, n.nodename, n.nodeport, 'default'::text AS noderack,
		true AS hasmetadata, n.isactive, n.noderole, 'default'::name AS nodecluster,
		true AS metadatasynced, n.isactive AS shouldhaveshards, n.organization
	FROM pgfed.node n;
CREATE OR REPLACE VIEW pgfed.pg_dist_partition AS
	SELECT p.logicalrelid,
		(CASE p.partmethod WHEN 'hash' THEN 'h' WHEN 'reference' THEN 'n' ELSE 'o' END)::"char" AS partmethod,
		CASE WHEN p.partattnum IS NOT NULL THEN
			'{VAR :varno 1 :varattno ' || p.partattnum || ' :vartype ' || p.partkeytype ||
			' :vartypmod -1 :varcollid ' || coalesce(a.attcollation, 0) || ' :varlevelsup 0 :varnosyn 1 :varattnosyn ' ||
			p.partattnum || ' :location -1}' END AS partkey,
		p.colocationid,
		(CASE p.partmethod WHEN 'reference' THEN 't' ELSE 's' END)::"char" AS repmodel,
		false AS autoconverted
	FROM pgfed.partition p
	LEFT JOIN pg_attribute a ON a.attrelid = p.logicalrelid AND a.attnum = p.partattnum;
CREATE OR REPLACE VIEW pgfed.pg_dist_shard AS
	SELECT s.logicalrelid, s.shardid, 't'::"char" AS shardstorage,
		CASE WHEN p.partmethod <> 'reference' THEN s.shardminvalue::text END AS shardminvalue,
		CASE WHEN p.partmethod <> 'reference' THEN s.shardmaxvalue::text END AS shardmaxvalue,
		s.organization
	FROM pgfed.shard s JOIN pgfed.partition p USING (logicalrelid);
CREATE OR REPLACE VIEW pgfed.pg_dist_placement AS
	SELECT (row_number() OVER (ORDER BY pl.shardid, pl.nodeid))::bigint AS placementid,
		pl.shardid, 1 AS shardstate, 0::bigint AS shardlength, pl.nodeid AS groupid
	FROM pgfed.placement pl;
CREATE OR REPLACE VIEW pgfed.pg_dist_colocation AS
	SELECT g.colocationid, g.shardcount, (CASE g.method WHEN 'reference' THEN -1 ELSE 1 END) AS replicationfactor,
		g.distributioncolumntype,
		(CASE WHEN g.distributioncolumntype IN (25, 1042, 1043) THEN 100 ELSE 0 END)::oid AS distributioncolumncollation,
		g.method AS distributionmethod
	FROM pgfed.colocation g;
CREATE OR REPLACE VIEW pgfed.citus_shards AS
	SELECT s.logicalrelid AS table_name, s.shardid,
		CASE WHEN n.nspname = 'public' THEN c.relname || '_' || s.shardid
			ELSE n.nspname || '.' || c.relname || '_' || s.shardid END AS shard_name,
		CASE p.partmethod WHEN 'hash' THEN 'distributed' WHEN 'reference' THEN 'reference' ELSE 'organization' END AS citus_table_type,
		p.colocationid AS colocation_id, nd.nodename, nd.nodeport, 0::bigint AS shard_size, nd.nodeid
	FROM pgfed.shard s JOIN pgfed.partition p USING (logicalrelid)
	JOIN pg_class c ON c.oid = s.logicalrelid JOIN pg_namespace n ON n.oid = c.relnamespace
	JOIN pgfed.placement pl ON pl.shardid = s.shardid JOIN pgfed.node nd ON nd.nodeid = pl.nodeid;
CREATE OR REPLACE VIEW pgfed.citus_tables AS
	SELECT p.logicalrelid AS table_name,
		CASE p.partmethod WHEN 'hash' THEN 'distributed' WHEN 'reference' THEN 'reference' ELSE 'organization' END AS citus_table_type,
		coalesce(a.attname::text, '<none>') AS distribution_column, p.colocationid AS colocation_id,
		pg_size_pretty(0::bigint) AS table_size,
		(SELECT count(*) FROM pgfed.shard s WHERE s.logicalrelid = p.logicalrelid) AS shard_count,
		pg_get_userbyid(c.relowner) AS table_owner, coalesce(am.amname, 'heap') AS access_method
	FROM pgfed.partition p JOIN pg_class c ON c.oid = p.logicalrelid
	LEFT JOIN pg_attribute a ON a.attrelid = p.logicalrelid AND a.attnum = p.partattnum
	LEFT JOIN pg_am am ON am.oid = c.relam;
CREATE OR REPLACE VIEW pgfed.pgfed_organizations AS
	SELECT o.name, (SELECT count(*) FROM pgfed.node n WHERE n.organization = o.name) AS node_count
	FROM pgfed.organization o;
COMMENT ON VIEW pgfed.citus_tables IS '` + viewsVersion + `'`

// errViewsCurrent ends the Update of an Init that has nothing to do.
var errViewsCurrent = errors.New("views are current")

// Init creates the views in the metadata database's pgfed schema (after
// store.Init), or replaces those of another version. It is idempotent and
// safe to run from several coordinators at once: it runs in a catalog
// transaction, which serializes it with every catalog change, and changes
// nothing when the views are current.
func Init(ctx context.Context, st *store.Store) error {
	err := st.Update(ctx, func(tx *store.Tx) error {
		var comment *string
		if err := queryRow(ctx, tx, "SELECT obj_description(to_regclass('pgfed.citus_tables'), 'pg_class')", nil, &comment); err != nil {
			return err
		}
		if comment != nil && *comment == viewsVersion {
			return errViewsCurrent
		}
		for _, v := range []string{"citus_shards", "citus_tables", "pg_dist_node", "pg_dist_partition", "pg_dist_shard",
			"pg_dist_placement", "pg_dist_colocation", "pgfed_organizations"} {
			if _, err := tx.Exec(ctx, "DROP VIEW IF EXISTS pgfed."+v); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, viewsSQL)
		return err
	})
	if err != nil && !errors.Is(err, errViewsCurrent) {
		return fmt.Errorf("citus: create the views: %w", err)
	}
	return nil
}

// initOnce remembers, per Store, that Init succeeded.
var initOnce sync.Map // *store.Store -> struct{}

// ensureViews runs Init once per Store.
func (r *runner) ensureViews(ctx context.Context) error {
	if _, ok := initOnce.Load(r.env.Store); ok {
		return nil
	}
	if err := Init(ctx, r.env.Store); err != nil {
		return err
	}
	initOnce.Store(r.env.Store, struct{}{})
	return nil
}

// viewFor returns the view a RangeVar reads ("" for none).
func viewFor(rv *pg.RangeVar) string {
	if (rv.Schemaname == "" || rv.Schemaname == "pg_catalog") && viewNames[rv.Relname] && rv.Catalogname == "" {
		return rv.Relname
	}
	return ""
}

// rewriteViews points a query's references to our views at the pgfed
// schema; citus_shards and citus_tables become subqueries that join the
// shard sizes read from the workers.
func (r *runner) rewriteViews(ctx context.Context, n *pg.Node) error {
	if err := r.ensureViews(ctx); err != nil {
		return err
	}
	var sizes map[sizeKey]placementInfo
	var err error
	walk(n, func(m protoreflect.Message) bool {
		if err != nil {
			return false
		}
		node, ok := m.Interface().(*pg.Node)
		if !ok {
			return true
		}
		rv := node.GetRangeVar()
		if rv == nil {
			return true
		}
		v := viewFor(rv)
		if v == "" {
			return true
		}
		if v != "citus_shards" && v != "citus_tables" {
			rv.Schemaname = "pgfed"
			return false
		}
		if sizes == nil {
			if sizes, err = r.shardSizes(ctx); err != nil {
				return false
			}
		}
		var sub *pg.Node
		if sub, err = sizedView(v, sizes); err != nil {
			return false
		}
		alias := rv.Alias
		if alias == nil {
			alias = &pg.Alias{Aliasname: v}
		}
		node.Node = &pg.Node_RangeSubselect{RangeSubselect: &pg.RangeSubselect{Subquery: sub, Alias: alias}}
		return false
	})
	return err
}

// sizeKey is a shard placement.
type sizeKey struct {
	shard int64
	node  int32
}

// placementInfo is what the workers and the catalog add to citus_shards:
// the placement's size and the shard's name as catalog.ShardName spells
// it (shortened for long table names), schema-qualified outside public.
type placementInfo struct {
	size int64
	name string
}

// sizedView returns the query that stands for citus_shards or
// citus_tables with the sizes joined in.
func sizedView(view string, sizes map[sizeKey]placementInfo) (*pg.Node, error) {
	var vals strings.Builder
	for k, s := range sizes {
		if vals.Len() > 0 {
			vals.WriteString(", ")
		}
		fmt.Fprintf(&vals, "(%d::bigint, %d, %d::bigint, %s::text)", k.shard, k.node, s.size, quoteLiteral(s.name))
	}
	if vals.Len() == 0 {
		vals.WriteString("(0::bigint, 0, 0::bigint, ''::text)")
	}
	sz := "(VALUES " + vals.String() + ") AS sz(shardid, nodeid, size, name)"
	var sql string
	if view == "citus_shards" {
		sql = `SELECT v.table_name, v.shardid, coalesce(sz.name, v.shard_name) AS shard_name, v.citus_table_type, v.colocation_id, v.nodename, v.nodeport,
			coalesce(sz.size, 0)::bigint AS shard_size
			FROM pgfed.citus_shards v LEFT JOIN ` + sz + ` ON sz.shardid = v.shardid AND sz.nodeid = v.nodeid`
	} else {
		// A table's size counts each shard once (its first placement), as
		// citus_table_size does.
		sql = `SELECT v.table_name, v.citus_table_type, v.distribution_column, v.colocation_id,
			pg_size_pretty(coalesce((SELECT sum(x.size) FROM (SELECT DISTINCT ON (sz.shardid) sz.size
				FROM ` + sz + ` JOIN pgfed.shard s ON s.shardid = sz.shardid
				WHERE s.logicalrelid = v.table_name ORDER BY sz.shardid, sz.nodeid) x), 0)::bigint) AS table_size,
			v.shard_count, v.table_owner, v.access_method
			FROM pgfed.citus_tables v`
	}
	tree, err := pg.Parse(sql)
	if err != nil {
		return nil, errorf(pgerrcode.InternalError, "build %s: %v", view, err)
	}
	return tree.Stmts[0].Stmt, nil
}

// shardSizes reads the size (pg_total_relation_size) of every shard
// placement from the workers, each worker in one query, outside any
// transaction.
func (r *runner) shardSizes(ctx context.Context) (map[sizeKey]placementInfo, error) {
	snap, err := r.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	byNode := map[int32][]catalog.Shard{}
	for _, t := range snap.Tables() {
		for _, s := range snap.ShardsOf(t.Relation) {
			for _, p := range snap.PlacementsOf(s.ID) {
				byNode[p.NodeID] = append(byNode[p.NodeID], s)
			}
		}
	}
	if err := r.syncPools(ctx); err != nil {
		return nil, err
	}
	sizes := map[sizeKey]placementInfo{}
	display := map[int64]string{}
	for _, shards := range byNode {
		for _, s := range shards {
			display[s.ID] = s.Name()
			if s.Table.Schema != "public" {
				display[s.ID] = s.Table.Schema + "." + s.Name()
			}
		}
	}
	for _, id := range sortedNodes(byNode) {
		shards := byNode[id]
		ids := make([]string, len(shards))
		names := make([]string, len(shards))
		for i, s := range shards {
			ids[i] = strconv.FormatInt(s.ID, 10)
			names[i] = quoteLiteral(s.QualifiedName())
		}
		sql := "SELECT id, coalesce(pg_total_relation_size(to_regclass(name)), 0) FROM unnest(ARRAY[" +
			strings.Join(ids, ",") + "]::bigint[], ARRAY[" + strings.Join(names, ",") + "]::text[]) AS u(id, name)"
		rows, err := r.workerQuery(ctx, id, sql)
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			sid, _ := strconv.ParseInt(row[0], 10, 64)
			size, _ := strconv.ParseInt(row[1], 10, 64)
			sizes[sizeKey{sid, id}] = placementInfo{size: size, name: display[sid]}
		}
	}
	return sizes, nil
}
