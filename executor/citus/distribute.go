package citus

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgerrcode"

	"github.com/pgfed/pgfed/catalog"
)

func init() {
	register(
		&funcSpec{
			name: "create_distributed_table",
			params: []param{{name: "table_name", typ: "regclass"}, {name: "distribution_column", typ: "text"},
				{name: "distribution_type", typ: "text", def: "'hash'"}, {name: "colocate_with", typ: "text", def: "'default'"},
				{name: "shard_count", typ: "int4", def: "NULL"}},
			returns: "void", run: createDistributed,
		},
		&funcSpec{
			name:    "create_reference_table",
			params:  []param{{name: "table_name", typ: "regclass"}},
			returns: "void", run: createReference,
		},
	)
}

// DefaultShardCount is citus.shard_count's default.
const DefaultShardCount = 32

// distSpec is what to distribute and how.
type distSpec struct {
	oid          uint32
	name         string // the table_name argument, for messages
	method       catalog.DistributionMethod
	column       string // the distribution (or organization) column
	hashColumn   string // organization tables: the hashed column
	colocateWith uint32 // a table's OID, or 0
	colocateNone bool
	shardCount   int
}

// createDistributed is create_distributed_table(table_name,
// distribution_column, distribution_type, colocate_with, shard_count).
func createDistributed(ctx context.Context, r *runner, a []arg) ([][]*string, error) {
	if r.env.Txn != nil {
		return nil, inBlock("create_distributed_table")
	}
	if a[0].null() || a[1].null() {
		return nil, errorf(pgerrcode.NullValueNotAllowedDataException, "table_name and distribution_column cannot be NULL")
	}
	oid, _ := strconv.ParseUint(a[0].str(), 10, 32)
	spec := distSpec{oid: uint32(oid), name: a[0].str(), column: a[1].str()}
	switch strings.ToLower(a[2].str()) {
	case "hash":
		spec.method = catalog.MethodHash
	case "org", "organization":
		spec.method = catalog.MethodOrganization
		if col, hash, ok := strings.Cut(spec.column, ","); ok {
			spec.column, spec.hashColumn = strings.TrimSpace(col), strings.TrimSpace(hash)
		}
	case "append", "range":
		return nil, notSupported("distribution type %q is not supported by pgfed", a[2].str()).
			withHint("Use 'hash' (or 'org' to place rows by organization).")
	default:
		return nil, errorf(pgerrcode.InvalidParameterValue, "invalid distribution type %q", a[2].str()).
			withHint("Use 'hash' or 'org'.")
	}
	countGiven := !a[4].null()
	if countGiven {
		n, err := strconv.Atoi(a[4].str())
		if err != nil {
			return nil, errorf(pgerrcode.InvalidParameterValue, "invalid shard_count %q", a[4].str())
		}
		spec.shardCount = n
	} else {
		n, err := r.settingShardCount(ctx)
		if err != nil {
			return nil, err
		}
		spec.shardCount = n
	}
	if spec.method == catalog.MethodOrganization && spec.hashColumn == "" {
		if countGiven && spec.shardCount != 1 {
			return nil, errorf(pgerrcode.InvalidParameterValue, "an organization table without a hash column has one shard per organization").
				withHint("Name a hash column: distribution_column => 'org_column, hash_column'.")
		}
		spec.shardCount = 1
	}
	if spec.shardCount < 1 || spec.shardCount > catalog.MaxShardCount {
		return nil, errorf(pgerrcode.InvalidParameterValue, "%d is outside the valid range for parameter \"shard_count\" (1 .. %d)",
			spec.shardCount, catalog.MaxShardCount)
	}
	switch with := a[3].str(); strings.ToLower(with) {
	case "default", "":
	case "none":
		spec.colocateNone = true
	default:
		if countGiven {
			return nil, errorf(pgerrcode.InvalidParameterValue, "Cannot use colocate_with with a table and shard_count at the same time")
		}
		other, err := r.regclass(ctx, with)
		if err != nil {
			return nil, err
		}
		spec.colocateWith = other
	}
	if err := r.checkOwner(ctx, spec.oid); err != nil {
		return nil, err
	}
	if err := r.atomically(ctx, func(ctx context.Context, c *change) error { return r.distribute(ctx, c, spec) }); err != nil {
		return nil, err
	}
	return void(), nil
}

// createReference is create_reference_table(table_name).
func createReference(ctx context.Context, r *runner, a []arg) ([][]*string, error) {
	if r.env.Txn != nil {
		return nil, inBlock("create_reference_table")
	}
	if a[0].null() {
		return nil, errorf(pgerrcode.NullValueNotAllowedDataException, "table_name cannot be NULL")
	}
	oid, _ := strconv.ParseUint(a[0].str(), 10, 32)
	spec := distSpec{oid: uint32(oid), name: a[0].str(), method: catalog.MethodReference, shardCount: 1}
	if err := r.checkOwner(ctx, spec.oid); err != nil {
		return nil, err
	}
	if err := r.atomically(ctx, func(ctx context.Context, c *change) error { return r.distribute(ctx, c, spec) }); err != nil {
		return nil, err
	}
	return void(), nil
}

// settingShardCount reads citus.shard_count from the session (default
// DefaultShardCount).
func (r *runner) settingShardCount(ctx context.Context) (int, error) {
	rows, err := r.env.Meta.Query(ctx, "SELECT current_setting('citus.shard_count', true)")
	if err != nil {
		return 0, err
	}
	if len(rows.Values) != 1 || rows.Values[0][0] == nil || len(rows.Values[0][0]) == 0 {
		return DefaultShardCount, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(rows.Values[0][0])))
	if err != nil {
		return 0, errorf(pgerrcode.InvalidParameterValue, "invalid value for parameter \"citus.shard_count\": %q", rows.Values[0][0])
	}
	return n, nil
}

// regclass resolves a table name as the client's session would.
func (r *runner) regclass(ctx context.Context, name string) (uint32, error) {
	rows, err := r.env.Meta.Query(ctx, "SELECT "+quoteLiteral(name)+"::regclass::oid")
	if err != nil {
		return 0, err
	}
	oid, _ := strconv.ParseUint(string(rows.Values[0][0]), 10, 32)
	return uint32(oid), nil
}

// distribute makes a table distributed (or reference) in a change:
// checks, catalog rows, shards with the shell's shape on the workers, the
// shell's rows copied into them, the shell emptied.
func (r *runner) distribute(ctx context.Context, c *change, spec distSpec) error {
	if t, ok := c.snap.TableByOID(spec.oid); ok {
		return errorf(pgerrcode.DuplicateObject, "table %s is already distributed", quoteIdent(t.Relation.Name))
	}
	sh, err := readShell(ctx, c.tx, spec.oid)
	if err != nil {
		return err
	}
	if err := checkRelation(sh); err != nil {
		return err
	}
	// No writes to the shell until the change commits: rows written
	// after the copy would be lost with the truncation.
	if _, err := c.tx.Exec(ctx, "LOCK TABLE "+sh.rel.String()+" IN EXCLUSIVE MODE"); err != nil {
		return err
	}
	tb := catalog.Table{Relation: sh.rel, Method: spec.method, ShardCount: spec.shardCount}
	if spec.method != catalog.MethodReference {
		if tb.Column, tb.ColumnType, err = distColumn(sh, spec.column); err != nil {
			return err
		}
		if spec.method == catalog.MethodOrganization && tb.ColumnType != catalog.TypeText && tb.ColumnType != catalog.TypeVarchar {
			return errorf(pgerrcode.DatatypeMismatch, "the organization column %q of %s must be text or varchar", spec.column, sh.rel)
		}
		if spec.hashColumn != "" {
			if tb.HashColumn, tb.HashColumnType, err = distColumn(sh, spec.hashColumn); err != nil {
				return err
			}
		}
	}
	group, existing, err := r.chooseGroup(ctx, c, spec, &tb, sh)
	if err != nil {
		return err
	}
	if err := checkConstraints(c.snap, sh, tb, group); err != nil {
		return err
	}
	if !existing {
		if group, err = c.tx.CreateColocationGroup(ctx, catalog.ColocationGroup{Method: tb.Method, ShardCount: tb.ShardCount, ColumnType: tb.DistributionType()}); err != nil {
			return err
		}
	}
	tb.ColocationID = group
	if tb, err = c.tx.AddDistributedTable(ctx, tb); err != nil {
		return err
	}
	shards, placed, err := r.addShards(ctx, c, tb, existing)
	if err != nil {
		return err
	}
	if err := r.createShards(ctx, c, sh, tb, shards, placed); err != nil {
		return err
	}
	n, err := moveShellRows(ctx, c, sh, tb, shards, placed)
	if err != nil {
		return err
	}
	r.log.Info("distributing table", "table", sh.rel.String(), "method", tb.Method.String(), "shards", len(shards),
		"colocation", tb.ColocationID, "rows", n)
	if n == 0 {
		return nil
	}
	r.notice("Copying data from local table...", "")
	var local []string
	for i, ref := range sh.referencedBy {
		if _, ok := c.snap.TableByOID(sh.referencedByOID[i]); !ok {
			local = append(local, ref)
		}
	}
	if len(local) > 0 {
		r.notice("copying the data has completed; the local data is kept because "+strings.Join(local, ", ")+" references it",
			"To remove the local data, run: SELECT truncate_local_data_after_distributing_table($$"+sh.rel.Schema+"."+sh.rel.Name+"$$)")
		return nil
	}
	// Distributed tables whose shells reference this one have empty
	// shells (or local rows already copied): CASCADE reaches only them.
	_, err = c.tx.Exec(ctx, "TRUNCATE ONLY "+sh.rel.String()+" CASCADE")
	return err
}

// checkRelation refuses what cannot be distributed.
func checkRelation(sh *shell) error {
	switch {
	case sh.relkind == "p":
		return notSupported("distributing partitioned tables is not supported: %s", sh.rel)
	case sh.relkind != "r":
		return errorf(pgerrcode.WrongObjectType, "%s is not a regular table", sh.rel)
	case sh.persistence == "t":
		return notSupported("cannot distribute a temporary table")
	}
	return nil
}

// distColumn looks up a distribution column and checks pgfed can hash
// its type.
func distColumn(sh *shell, name string) (string, catalog.Type, error) {
	col, ok := sh.column(name)
	if !ok {
		return "", 0, errorf(pgerrcode.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", name, sh.rel.Name)
	}
	typ := catalog.Type(col.typeOID)
	if !typ.Hashable() {
		return "", 0, notSupported("could not identify a hash function for type %s", col.typ).
			withDetail("Distribution columns must be of a type pgfed hashes as PostgreSQL does: integer types, text, varchar, char, name, uuid, numeric, date, timestamp(tz), float, bool, oid or bytea.")
	}
	return col.name, typ, nil
}

// chooseGroup picks the co-location group: the named table's, the first
// group with the same method, shard count and type ('default'), or a new
// one. existing reports whether the group already exists.
func (r *runner) chooseGroup(ctx context.Context, c *change, spec distSpec, tb *catalog.Table, sh *shell) (int32, bool, error) {
	if spec.colocateWith != 0 {
		other, ok := c.snap.TableByOID(spec.colocateWith)
		if !ok || other.Method != tb.Method {
			name := strconv.FormatUint(uint64(spec.colocateWith), 10)
			if ok {
				name = other.Relation.Name
			} else if rows, err := r.env.Meta.Query(ctx, "SELECT "+name+"::regclass::text"); err == nil && len(rows.Values) == 1 {
				name = string(rows.Values[0][0])
			}
			e := errorf(pgerrcode.InvalidParameterValue, "cannot colocate tables %s and %s", name, sh.rel.Name)
			if !ok {
				return 0, false, e.withDetail("%s is not a distributed table.", name)
			}
			return 0, false, e.withDetail("The distribution methods of %s and %s differ.", name, sh.rel.Name)
		}
		if other.DistributionType() != tb.DistributionType() {
			return 0, false, errorf(pgerrcode.InvalidParameterValue, "cannot colocate tables %s and %s", other.Relation.Name, sh.rel.Name).
				withDetail("Distribution column types don't match for %s and %s.", other.Relation.Name, sh.rel.Name)
		}
		tb.ShardCount = other.ShardCount
		return other.ColocationID, true, nil
	}
	if spec.colocateNone {
		return 0, false, nil
	}
	for _, g := range c.snap.ColocationGroups() {
		if g.Admits(*tb) && len(c.snap.TablesIn(g.ID)) > 0 {
			return g.ID, true, nil
		}
	}
	return 0, false, nil
}

// checkConstraints applies Citus's rules: UNIQUE, PRIMARY KEY and EXCLUDE
// must include the distribution column; foreign keys go to a reference
// table, or to a co-located table on the distribution column.
func checkConstraints(snap *catalog.Snapshot, sh *shell, tb catalog.Table, group int32) error {
	if tb.Method != catalog.MethodReference {
		col, _ := sh.column(tb.Column)
		for name, keys := range sh.uniques {
			found := false
			for _, k := range keys {
				found = found || k == col.attnum
			}
			if !found {
				return notSupported("cannot create constraint on \"%s\"", sh.rel.Name).
					withDetail("Distributed relations cannot have UNIQUE, EXCLUDE, or PRIMARY KEY constraints that do not include the partition column (with an equality operator if EXCLUDE); %s does not include %s.", name, tb.Column)
			}
		}
	}
	for _, con := range sh.constraints {
		if con.typ != 'f' {
			continue
		}
		if err := checkForeignKey(snap, sh, tb, group, con); err != nil {
			return err
		}
	}
	return nil
}

// checkForeignKey checks one foreign key of a table being distributed.
func checkForeignKey(snap *catalog.Snapshot, sh *shell, tb catalog.Table, group int32, con shellConstraint) error {
	ref, ok := snap.TableByOID(con.refTable)
	if con.refTable == sh.oid {
		ref, ok = tb, true
		ref.ColocationID = group
	}
	fkError := notSupported("cannot create foreign key constraint").
		withDetail("Foreign keys are supported in two cases, either in between two colocated tables including partition column in the same ordinal in the both tables or from distributed to reference tables")
	switch {
	case !ok:
		return notSupported("referenced table \"%s\" must be a distributed table or a reference table", con.refName).
			withDetail("Foreign key %s of %s references a local table.", con.name, sh.rel.Name).
			withHint("Distribute %s (or make it a reference table) first.", con.refName)
	case ref.Method == catalog.MethodReference:
		return nil
	case tb.Method == catalog.MethodReference:
		return notSupported("cannot create foreign key constraint since foreign keys from reference tables and local tables to distributed tables are not supported").
			withDetail("Foreign key %s of %s references distributed table %s.", con.name, sh.rel.Name, con.refName)
	case ref.ColocationID != group && !(con.refTable == sh.oid):
		return fkError
	}
	for i, col := range con.cols {
		if col == tb.Column && i < len(con.refCols) && con.refCols[i] == ref.Column {
			return nil
		}
	}
	return fkError
}

// errNotEnough converts catalog's placement error to Citus's.
func errNotEnough(err error) error {
	if errors.Is(err, catalog.ErrNotEnoughNodes) {
		return errorf(pgerrcode.InvalidParameterValue, "couldn't find any worker nodes").
			withHint("Add more worker nodes with citus_add_node.")
	}
	return err
}
