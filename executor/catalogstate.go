package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/pgfed/pgfed/wire"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/planner"
)

// catalogState is what the sessions plan with: one catalog snapshot, the
// shapes of its tables as the metadata database declares them, and the
// planner over both (with its plan cache). It is immutable.
type catalogState struct {
	snap    *catalog.Snapshot
	schema  *planner.Schema
	planner *planner.Planner // for the default search path
	// gen numbers the states of a handler; statements prepared on worker
	// connections under an older one are dropped.
	gen uint64

	// defs, aggs and cacheSize make the planners of other search paths.
	defs      []planner.TableDef
	aggs      []string
	views     []planner.ViewDef // views over distributed tables (views.go)
	cacheSize int
	mu        sync.Mutex
	byPath    map[string]*planner.Planner

	// guarded maps the lower-case names of the user-defined functions
	// whose bodies read distributed tables to the table each reads: a
	// local statement calling one is refused (functionguard.go).
	guarded map[string]string
	// funcs holds the lower-case names of every function and relation
	// of the metadata database when the state was loaded, and notFuncs
	// the words since found to name no function or view: a call to, or
	// a FROM naming, any other name reloads the state (routines.go).
	funcs    map[string]bool
	notFuncs sync.Map
	nNot     atomic.Int32

	// seqs is what the coordinator's write values need (sequence.go).
	seqs seqState
}

// maxSearchPaths bounds the planners kept for sessions' own search paths.
const maxSearchPaths = 64

// plannerFor returns the planner of a search path (nil: the default one),
// making it on first use.
func (st *catalogState) plannerFor(path []string) *planner.Planner {
	if path == nil {
		return st.planner
	}
	key := strings.Join(path, "\x00")
	st.mu.Lock()
	defer st.mu.Unlock()
	if p, ok := st.byPath[key]; ok {
		return p
	}
	if st.byPath == nil || len(st.byPath) >= maxSearchPaths {
		st.byPath = map[string]*planner.Planner{}
	}
	p := planner.New(st.snap, planner.NewSchema(path, st.defs, st.aggs...).WithViews(st.views), st.cacheSize)
	st.byPath[key] = p
	return p
}

// current returns the planner of the newest catalog. The store's snapshot
// is cheap when its Watch runs (an atomic load); a new catalog version
// reloads the table shapes from the metadata database, makes a new
// planner and points the worker pools at the catalog's active nodes.
func (h *Handler) current(ctx context.Context) (*catalogState, error) {
	snap, err := h.store.Snapshot(ctx)
	if err != nil {
		return nil, catalogError(err)
	}
	if cur := h.cur.Load(); cur != nil && cur.snap == snap {
		return cur, nil
	}
	h.reloadMu.Lock()
	defer h.reloadMu.Unlock()
	if cur := h.cur.Load(); cur != nil && cur.snap == snap {
		return cur, nil
	}
	// An invalidate while the shapes load (DDL committed by another
	// session) may not be in what they read: the state made then serves
	// this statement only.
	before := h.gen.Load()
	defs, aggs, guarded, err := h.loadSchema(ctx, snap)
	if err != nil {
		return nil, catalogError(err)
	}
	views, funcs, err := h.loadViews(ctx, snap)
	if err != nil {
		return nil, catalogError(err)
	}
	schema := planner.NewSchema(nil, defs, aggs...).WithViews(views)
	if err := h.pools.SetNodes(snap.NodesActive()); err != nil {
		return nil, err
	}
	size := h.cfg.PlanCacheSize
	if size < 0 {
		size = 0
	}
	st := &catalogState{snap: snap, schema: schema, planner: planner.New(snap, schema, size), gen: h.gen.Add(1),
		defs: defs, aggs: aggs, views: views, cacheSize: size, guarded: guarded, funcs: funcs}
	if st.gen == before+1 {
		h.cur.Store(st)
	}
	h.log.Debug("catalog loaded", "version", snap.Version(), "tables", len(snap.Tables()), "nodes", len(snap.NodesActive()),
		"guarded functions", len(guarded))
	return st, nil
}

// invalidate drops the current planner, so that the next statement reloads
// the table shapes (after DDL on the metadata database). It takes a
// generation number, so that a reload running meanwhile does not keep
// what it read before the DDL.
func (h *Handler) invalidate() {
	h.gen.Add(1)
	h.cur.Store(nil)
}

// schemaQuery reads the columns of the distributed and reference tables,
// the names of user-defined aggregates, the tables' primary keys (a
// query grouped by a key may read the table's other columns), and the
// user-defined functions reading the tables (guardedFunctionsQuery), in
// one round trip.
const schemaQuery = `SELECT n.nspname, c.relname, a.attname, a.atttypid::int8,
	COALESCE(CASE WHEN a.attcollation <> t.typcollation THEN co.collname END, '')
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE a.attrelid IN (SELECT logicalrelid FROM pgfed.partition) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.oid, a.attnum;
SELECT DISTINCT p.proname FROM pg_proc p WHERE p.prokind = 'a' AND p.pronamespace <> 'pg_catalog'::regnamespace;
SELECT n.nspname, c.relname, a.attname
FROM pg_index x
JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, i)
JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
WHERE x.indisprimary AND x.indrelid IN (SELECT logicalrelid FROM pgfed.partition)
ORDER BY c.oid, k.i;
` + guardedFunctionsQuery

// loadSchema reads the table shapes the planner needs from the metadata
// database, and the functions reading the tables (by lower-case name,
// with the table each reads; nil when none).
func (h *Handler) loadSchema(ctx context.Context, snap *catalog.Snapshot) ([]planner.TableDef, []string, map[string]string, error) {
	c, err := h.metaPool.Acquire(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	defer c.Release()
	res, err := c.PgConn().Exec(ctx, schemaQuery).ReadAll()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read the distributed tables' columns: %w", err)
	}
	if len(res) != 4 {
		return nil, nil, nil, fmt.Errorf("read the distributed tables' columns: %d results", len(res))
	}
	var defs []planner.TableDef
	for _, row := range res[0].Rows {
		rel := catalog.RelationName{Schema: string(row[0]), Name: string(row[1])}
		if len(defs) == 0 || defs[len(defs)-1].Relation != rel {
			defs = append(defs, planner.TableDef{Relation: rel})
		}
		oid, _ := strconv.ParseUint(string(row[3]), 10, 32)
		d := &defs[len(defs)-1]
		d.Columns = append(d.Columns, planner.Column{Name: string(row[2]), Type: catalog.Type(oid), Collation: string(row[4])})
	}
	var aggs []string
	for _, row := range res[1].Rows {
		aggs = append(aggs, string(row[0]))
	}
	for _, row := range res[2].Rows {
		rel := catalog.RelationName{Schema: string(row[0]), Name: string(row[1])}
		for i := range defs {
			if defs[i].Relation == rel {
				defs[i].PrimaryKey = append(defs[i].PrimaryKey, string(row[2]))
				break
			}
		}
	}
	var guarded map[string]string
	for _, row := range res[3].Rows {
		if guarded == nil {
			guarded = map[string]string{}
		}
		guarded[strings.ToLower(string(row[0]))] = string(row[1])
	}
	return defs, aggs, guarded, nil
}

// typeNames caches format_type(oid, typmod), the SQL names of the column
// types of intermediate results.
type typeNames struct {
	mu    sync.Mutex
	names map[[2]int64]string
}

// typeName returns the SQL name of a column type, asking the metadata
// database the first time.
func (h *Handler) typeName(ctx context.Context, oid uint32, typmod int32) (string, error) {
	key := [2]int64{int64(oid), int64(typmod)}
	h.types.mu.Lock()
	name, ok := h.types.names[key]
	h.types.mu.Unlock()
	if ok {
		return name, nil
	}
	c, err := h.metaPool.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer c.Release()
	res := c.PgConn().ExecParams(ctx, "SELECT format_type($1, $2)",
		[][]byte{[]byte(strconv.FormatUint(uint64(oid), 10)), []byte(strconv.FormatInt(int64(typmod), 10))},
		[]uint32{26, 23}, nil, nil).Read()
	if res.Err != nil {
		return "", fmt.Errorf("name of type %d: %w", oid, res.Err)
	}
	if len(res.Rows) != 1 || res.Rows[0][0] == nil {
		return "", fmt.Errorf("name of type %d: no answer", oid)
	}
	name = string(res.Rows[0][0])
	h.types.mu.Lock()
	if h.types.names == nil {
		h.types.names = make(map[[2]int64]string)
	}
	h.types.names[key] = name
	h.types.mu.Unlock()
	return name, nil
}

// columnTypes returns the SQL type names of the fields of a result.
func (h *Handler) columnTypes(ctx context.Context, fields []pgconn.FieldDescription) ([]string, error) {
	out := make([]string, len(fields))
	for i, f := range fields {
		n, err := h.typeName(ctx, f.DataTypeOID, f.TypeModifier)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// catalogError is the client's error when the catalog cannot be read: the
// cause's SQLSTATE when it has one, else 08006 (the metadata database is
// unreachable).
func catalogError(err error) error {
	w := &wire.Error{Code: pgerrcode.ConnectionFailure, Message: "cannot read the pgfed catalog: " + err.Error()}
	var s interface{ SQLState() string }
	if errors.As(err, &s) {
		w.Code = s.SQLState()
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		w.Code = pe.Code
	}
	return w
}
