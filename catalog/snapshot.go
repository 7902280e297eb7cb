package catalog

import (
	"slices"
	"sort"
)

// Snapshot is one immutable version of the whole catalog: nodes,
// organizations, co-location groups, tables, shards and placements. Only
// Builder.Build makes one, after checking every invariant, so a reader can
// rely on them: every table's shards cover the int32 hash space exactly
// once (per organization for organization tables), every shard has a
// placement on a known primary node, and co-located tables share shard
// boundaries and placements.
//
// A Snapshot is safe for concurrent use. Methods that return slices return
// fresh copies; lookups by key cost a map access, ShardForHash a division or
// a binary search.
type Snapshot struct {
	version int64

	nodes   []Node // by ID
	nodeIdx map[int32]int
	addrIdx map[nodeAddr]int

	orgs   []Organization // by name
	orgIdx map[string]int

	groups   []ColocationGroup // by ID
	groupIdx map[int32]int

	tables   []Table // by relation name
	tableIdx map[RelationName]int
	oidIdx   map[uint32]int
	sets     []shardSet // parallel to tables

	shardIdx   map[int64]Shard
	placements map[int64][]Placement // by shard, sorted by node id
	nodeCount  map[int32]int         // placements per node
}

// nodeAddr keys nodes by host and port.
type nodeAddr struct {
	host string
	port int
}

// shardSet holds one table's shards.
type shardSet struct {
	// byOrg maps an organization ("" for hash and reference tables) to its
	// shards in index (range) order.
	byOrg map[string][]Shard
	// uniform is set, per organization, when the ranges are exactly
	// ShardRanges(n), so ShardIndex finds a shard without a search.
	uniform map[string]bool
}

// Version returns the catalog version the snapshot was built from; the
// store bumps it with every change.
func (s *Snapshot) Version() int64 { return s.version }

// Nodes returns every node, ordered by id.
func (s *Snapshot) Nodes() []Node { return slices.Clone(s.nodes) }

// Node returns the node with the given id.
func (s *Snapshot) Node(id int32) (Node, bool) {
	i, ok := s.nodeIdx[id]
	if !ok {
		return Node{}, false
	}
	return s.nodes[i], true
}

// NodeByAddr returns the node at host:port.
func (s *Snapshot) NodeByAddr(host string, port int) (Node, bool) {
	i, ok := s.addrIdx[nodeAddr{host, port}]
	if !ok {
		return Node{}, false
	}
	return s.nodes[i], true
}

// NodesActive returns the nodes that can take new placements (active
// primaries), ordered by (host, port) as Citus orders them for placement.
func (s *Snapshot) NodesActive() []Node {
	var out []Node
	for _, n := range s.nodes {
		if n.Placeable() {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, compareNodes)
	return out
}

// NodesOf returns the nodes of an organization, ordered by (host, port).
func (s *Snapshot) NodesOf(org string) []Node {
	var out []Node
	for _, n := range s.nodes {
		if n.Organization == org {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, compareNodes)
	return out
}

// PlacementCount returns how many shard placements a node holds.
func (s *Snapshot) PlacementCount(nodeID int32) int { return s.nodeCount[nodeID] }

// Organizations returns every organization, ordered by name.
func (s *Snapshot) Organizations() []Organization { return slices.Clone(s.orgs) }

// Organization returns the organization with the given name.
func (s *Snapshot) Organization(name string) (Organization, bool) {
	i, ok := s.orgIdx[name]
	if !ok {
		return Organization{}, false
	}
	return s.orgs[i], true
}

// ColocationGroups returns every co-location group, ordered by id.
func (s *Snapshot) ColocationGroups() []ColocationGroup { return slices.Clone(s.groups) }

// ColocationGroup returns the co-location group with the given id.
func (s *Snapshot) ColocationGroup(id int32) (ColocationGroup, bool) {
	i, ok := s.groupIdx[id]
	if !ok {
		return ColocationGroup{}, false
	}
	return s.groups[i], true
}

// DefaultColocationGroup returns the group a new table with the given
// method, shard count and distribution type joins under Citus's
// colocate_with => 'default': the lowest-numbered group that admits it.
// ok is false when there is none (a new group is then created).
func (s *Snapshot) DefaultColocationGroup(method DistributionMethod, shardCount int, typ Type) (ColocationGroup, bool) {
	for _, g := range s.groups { // by id
		if g.Method == method && g.ShardCount == shardCount && g.ColumnType == typ {
			return g, true
		}
	}
	return ColocationGroup{}, false
}

// Tables returns every distributed and reference table, ordered by schema
// and name.
func (s *Snapshot) Tables() []Table { return slices.Clone(s.tables) }

// Table returns the distributed or reference table schema.name; ok is false
// for any other relation (a local table, say).
func (s *Snapshot) Table(schema, name string) (Table, bool) {
	i, ok := s.tableIdx[RelationName{schema, name}]
	if !ok {
		return Table{}, false
	}
	return s.tables[i], true
}

// TableByOID returns the table with the given OID in the metadata database.
func (s *Snapshot) TableByOID(oid uint32) (Table, bool) {
	i, ok := s.oidIdx[oid]
	if !ok || oid == 0 {
		return Table{}, false
	}
	return s.tables[i], true
}

// TablesIn returns the tables of a co-location group, ordered by name.
func (s *Snapshot) TablesIn(colocationID int32) []Table {
	var out []Table
	for _, t := range s.tables {
		if t.ColocationID == colocationID {
			out = append(out, t)
		}
	}
	return out
}

// ColocatedWith reports whether tables a and b are both in the catalog and
// in the same co-location group (a table is co-located with itself).
func (s *Snapshot) ColocatedWith(a, b RelationName) bool {
	i, ok := s.tableIdx[a]
	j, ok2 := s.tableIdx[b]
	return ok && ok2 && s.tables[i].ColocationID == s.tables[j].ColocationID
}

// ShardsOf returns a table's shards in index order; for an organization
// table, ordered by organization, then index. It returns nil for a relation
// that is not in the catalog.
func (s *Snapshot) ShardsOf(table RelationName) []Shard {
	i, ok := s.tableIdx[table]
	if !ok {
		return nil
	}
	set := s.sets[i]
	if len(set.byOrg) == 1 {
		for _, shards := range set.byOrg {
			return slices.Clone(shards)
		}
	}
	orgs := make([]string, 0, len(set.byOrg))
	for o := range set.byOrg {
		orgs = append(orgs, o)
	}
	slices.Sort(orgs)
	var out []Shard
	for _, o := range orgs {
		out = append(out, set.byOrg[o]...)
	}
	return out
}

// ShardsOfOrganization returns the shards of an organization table that
// hold an organization's rows, in index order; nil when there are none.
func (s *Snapshot) ShardsOfOrganization(table RelationName, org string) []Shard {
	i, ok := s.tableIdx[table]
	if !ok || s.tables[i].Method != MethodOrganization {
		return nil
	}
	return slices.Clone(s.sets[i].byOrg[org])
}

// Shard returns the shard with the given id.
func (s *Snapshot) Shard(id int64) (Shard, bool) {
	sh, ok := s.shardIdx[id]
	return sh, ok
}

// ShardForHash returns the shard of a hash table whose range holds the hash
// value h, or the single shard of a reference table. ok is false when table
// is not in the catalog or is an organization table (see
// ShardForOrganization).
func (s *Snapshot) ShardForHash(table RelationName, h int32) (Shard, bool) {
	i, ok := s.tableIdx[table]
	if !ok || s.tables[i].Method == MethodOrganization {
		return Shard{}, false
	}
	return s.sets[i].find("", h)
}

// ShardForOrganization returns the shard of an organization table that
// holds the rows of organization org whose hash-column hash is h (h is
// ignored when the table has no hash column). ok is false when table is not
// an organization table in the catalog or org has no shards of it.
func (s *Snapshot) ShardForOrganization(table RelationName, org string, h int32) (Shard, bool) {
	i, ok := s.tableIdx[table]
	if !ok || s.tables[i].Method != MethodOrganization {
		return Shard{}, false
	}
	return s.sets[i].find(org, h)
}

// find returns the shard of organization org whose range holds h.
func (set shardSet) find(org string, h int32) (Shard, bool) {
	shards := set.byOrg[org]
	if len(shards) == 0 {
		return Shard{}, false
	}
	if set.uniform[org] {
		return shards[ShardIndex(h, len(shards))], true
	}
	i := sort.Search(len(shards), func(i int) bool { return shards[i].Range.Max >= h })
	if i == len(shards) || !shards[i].Range.Contains(h) {
		return Shard{}, false // unreachable for a built snapshot: ranges cover int32
	}
	return shards[i], true
}

// PlacementsOf returns the placements of a shard, ordered by node id.
func (s *Snapshot) PlacementsOf(shardID int64) []Placement {
	return slices.Clone(s.placements[shardID])
}

// Edit returns a Builder holding a copy of the snapshot's contents, to build
// a changed catalog from (the snapshot itself is not affected).
func (s *Snapshot) Edit() *Builder {
	b := &Builder{
		version: s.version,
		nodes:   slices.Clone(s.nodes),
		orgs:    slices.Clone(s.orgs),
		groups:  slices.Clone(s.groups),
		tables:  slices.Clone(s.tables),
	}
	for _, t := range s.tables {
		b.shards = append(b.shards, s.ShardsOf(t.Relation)...)
	}
	for _, sh := range b.shards {
		b.placements = append(b.placements, s.placements[sh.ID]...)
	}
	return b
}
