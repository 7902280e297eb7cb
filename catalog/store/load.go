package store

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"

	"github.com/pgfed/pgfed/catalog"
)

// The queries that read the catalog, sent together in one batch. Table
// and column names come from pg_class and pg_attribute, so they follow
// renames.
const (
	loadVersionSQL = `SELECT version FROM pgfed.version`
	loadOrgsSQL    = `SELECT name FROM pgfed.organization`
	loadNodesSQL   = `SELECT nodeid, nodename, nodeport, coalesce(organization, ''), isactive, noderole FROM pgfed.node`
	loadGroupsSQL  = `SELECT colocationid, method, shardcount, distributioncolumntype FROM pgfed.colocation`
	loadTablesSQL  = `
SELECT p.logicalrelid::oid, n.nspname, c.relname, p.partmethod,
	p.partattnum, a.attname, p.partkeytype, p.hashattnum, h.attname, p.hashkeytype,
	p.colocationid, g.shardcount
FROM pgfed.partition p
JOIN pgfed.colocation g USING (colocationid)
LEFT JOIN pg_class c ON c.oid = p.logicalrelid
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = p.logicalrelid AND a.attnum = p.partattnum AND NOT a.attisdropped
LEFT JOIN pg_attribute h ON h.attrelid = p.logicalrelid AND h.attnum = p.hashattnum AND NOT h.attisdropped`
	loadShardsSQL     = `SELECT shardid, logicalrelid::oid, shardindex, coalesce(organization, ''), shardminvalue, shardmaxvalue FROM pgfed.shard`
	loadPlacementsSQL = `SELECT shardid, nodeid FROM pgfed.placement`
)

// Load reads the whole catalog in one read-only REPEATABLE READ
// transaction (one round trip for the queries) and checks it into a
// Snapshot. It does not touch the cache; Snapshot does. A table dropped
// outside pgfed is left out with a warning; a catalog that breaks an
// invariant fails with a *catalog.InvariantError.
func (s *Store) Load(ctx context.Context) (*catalog.Snapshot, error) {
	var snap *catalog.Snapshot
	err := s.withRead(ctx, func(c *pgx.Conn) error {
		return pgx.BeginTxFunc(ctx, c, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
			func(tx pgx.Tx) error {
				var err error
				snap, err = load(ctx, tx, s.log)
				return err
			})
	})
	if err != nil {
		return nil, fmt.Errorf("catalog store: load the catalog: %w", err)
	}
	return snap, nil
}

// load reads the catalog as tx sees it.
func load(ctx context.Context, tx pgx.Tx, log hclog.Logger) (*catalog.Snapshot, error) {
	batch := &pgx.Batch{}
	for _, q := range []string{loadVersionSQL, loadOrgsSQL, loadNodesSQL, loadGroupsSQL, loadTablesSQL, loadShardsSQL, loadPlacementsSQL} {
		batch.Queue(q)
	}
	br := tx.SendBatch(ctx, batch)
	defer br.Close()
	b := catalog.NewBuilder(0)
	l := loader{b: b, log: log, rels: map[uint32]catalog.RelationName{}, shards: map[int64]bool{}}
	steps := []struct {
		what string
		read func(pgx.BatchResults) error
	}{
		{"version", l.version}, {"organizations", l.orgs}, {"nodes", l.nodes}, {"co-location groups", l.groups},
		{"tables", l.tables}, {"shards", l.shardRows}, {"placements", l.placements},
	}
	for _, st := range steps {
		if err := st.read(br); err != nil {
			return nil, fmt.Errorf("read %s: %w", st.what, err)
		}
	}
	if err := br.Close(); err != nil {
		return nil, err
	}
	return b.Build()
}

// loader turns query results into Builder entries.
type loader struct {
	b      *catalog.Builder
	log    hclog.Logger
	rels   map[uint32]catalog.RelationName // tables kept, by OID
	shards map[int64]bool                  // shards kept
}

func (l *loader) version(br pgx.BatchResults) error {
	var v int64
	if err := br.QueryRow().Scan(&v); err != nil {
		return err
	}
	l.b.SetVersion(v)
	return nil
}

func (l *loader) orgs(br pgx.BatchResults) error {
	rows, _ := br.Query()
	var name string
	_, err := pgx.ForEachRow(rows, []any{&name}, func() error {
		l.b.AddOrganization(catalog.Organization{Name: name})
		return nil
	})
	return err
}

func (l *loader) nodes(br pgx.BatchResults) error {
	rows, _ := br.Query()
	var n catalog.Node
	var role string
	_, err := pgx.ForEachRow(rows, []any{&n.ID, &n.Host, &n.Port, &n.Organization, &n.Active, &role}, func() error {
		r, ok := catalog.ParseNodeRole(role)
		if !ok {
			return fmt.Errorf("%v: unknown role %q", n, role)
		}
		n.Role = r
		l.b.AddNode(n)
		return nil
	})
	return err
}

func (l *loader) groups(br pgx.BatchResults) error {
	rows, _ := br.Query()
	var g catalog.ColocationGroup
	var method string
	var typ uint32
	_, err := pgx.ForEachRow(rows, []any{&g.ID, &method, &g.ShardCount, &typ}, func() error {
		m, ok := catalog.ParseDistributionMethod(method)
		if !ok {
			return fmt.Errorf("%v: unknown method %q", g, method)
		}
		g.Method, g.ColumnType = m, catalog.Type(typ)
		l.b.AddColocationGroup(g)
		return nil
	})
	return err
}

func (l *loader) tables(br pgx.BatchResults) error {
	rows, _ := br.Query()
	var (
		oid                           uint32
		schema, name, column, hashCol *string
		method                        string
		attnum, hashAttnum            *int16
		columnType, hashType          uint32
		t                             catalog.Table
	)
	_, err := pgx.ForEachRow(rows, []any{&oid, &schema, &name, &method, &attnum, &column, &columnType,
		&hashAttnum, &hashCol, &hashType, &t.ColocationID, &t.ShardCount}, func() error {
		if schema == nil || name == nil {
			l.log.Warn("distributed table dropped outside pgfed: ignoring its catalog rows", "oid", oid)
			return nil
		}
		rel := catalog.RelationName{Schema: *schema, Name: *name}
		m, ok := catalog.ParseDistributionMethod(method)
		if !ok {
			return fmt.Errorf("table %v: unknown method %q", rel, method)
		}
		if (attnum != nil && column == nil) || (hashAttnum != nil && hashCol == nil) {
			return newError(pgerrcode.DataCorrupted, ErrColumnNotFound,
				"table %v: its distribution column was dropped; the table cannot be routed", rel)
		}
		t.Relation, t.OID, t.Method = rel, oid, m
		t.Column, t.ColumnType = deref(column), catalog.Type(columnType)
		t.HashColumn, t.HashColumnType = deref(hashCol), catalog.Type(hashType)
		l.rels[oid] = rel
		l.b.AddTable(t)
		return nil
	})
	return err
}

func (l *loader) shardRows(br pgx.BatchResults) error {
	rows, _ := br.Query()
	var (
		sh  catalog.Shard
		oid uint32
	)
	_, err := pgx.ForEachRow(rows, []any{&sh.ID, &oid, &sh.Index, &sh.Organization, &sh.Range.Min, &sh.Range.Max}, func() error {
		rel, ok := l.rels[oid]
		if !ok {
			return nil // of a table dropped outside pgfed
		}
		sh.Table = rel
		l.shards[sh.ID] = true
		l.b.AddShard(sh)
		return nil
	})
	return err
}

func (l *loader) placements(br pgx.BatchResults) error {
	rows, _ := br.Query()
	var p catalog.Placement
	_, err := pgx.ForEachRow(rows, []any{&p.ShardID, &p.NodeID}, func() error {
		if l.shards[p.ShardID] {
			l.b.AddPlacement(p)
		}
		return nil
	})
	return err
}

// deref returns *p, or "" for nil.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
