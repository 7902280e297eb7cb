package catalog

import (
	"cmp"
	"math"
	"slices"
)

// Builder collects a catalog's contents and checks them into a Snapshot.
// The zero value is an empty builder at version 0. Adding never fails;
// Build reports every broken invariant at once. A Builder is not safe for
// concurrent use.
type Builder struct {
	version    int64
	nodes      []Node
	orgs       []Organization
	groups     []ColocationGroup
	tables     []Table
	shards     []Shard
	placements []Placement
}

// NewBuilder returns an empty builder for catalog version version.
func NewBuilder(version int64) *Builder { return &Builder{version: version} }

// SetVersion sets the version of the snapshot to build.
func (b *Builder) SetVersion(v int64) *Builder { b.version = v; return b }

// AddNode adds worker nodes.
func (b *Builder) AddNode(n ...Node) *Builder { b.nodes = append(b.nodes, n...); return b }

// AddOrganization adds organizations.
func (b *Builder) AddOrganization(o ...Organization) *Builder {
	b.orgs = append(b.orgs, o...)
	return b
}

// AddColocationGroup adds co-location groups.
func (b *Builder) AddColocationGroup(g ...ColocationGroup) *Builder {
	b.groups = append(b.groups, g...)
	return b
}

// AddTable adds distributed or reference tables.
func (b *Builder) AddTable(t ...Table) *Builder { b.tables = append(b.tables, t...); return b }

// AddShard adds shards.
func (b *Builder) AddShard(s ...Shard) *Builder { b.shards = append(b.shards, s...); return b }

// AddPlacement adds shard placements.
func (b *Builder) AddPlacement(p ...Placement) *Builder {
	b.placements = append(b.placements, p...)
	return b
}

// Build checks the contents and returns them as a Snapshot, or an
// *InvariantError naming every violation:
//
//   - nodes: positive unique ids, a host, a port in 1..65535, unique
//     host:port, a known role and a known organization (or none);
//   - organizations: unique non-empty names of at most MaxNameLength bytes;
//   - co-location groups: positive unique ids, a known method, a valid
//     shard count (1 for reference groups) and a hashable column type (none
//     for reference groups; an organization group without one has 1 shard);
//   - tables: unique names and OIDs, a column and type that fit the method,
//     a known co-location group whose method, shard count and type match;
//   - shards: positive unique ids of known tables; per table (and per
//     organization of an organization table, which must be known) exactly
//     ShardCount shards whose ranges, sorted, start at MinInt32, follow one
//     another with no gap or overlap, end at MaxInt32, and whose Index is
//     their position; a reference table's one shard holds FullRange;
//   - placements: of known shards on known primary nodes, no duplicates, at
//     least one per shard, and a shard of an organization only on that
//     organization's nodes;
//   - co-location: tables of one group have the same organizations, the
//     same ranges and the same placement nodes, shard index by shard index.
//
// The Builder can be used again after Build; the snapshot shares nothing
// with it.
func (b *Builder) Build() (*Snapshot, error) {
	var p problems
	s := &Snapshot{
		version:    b.version,
		nodeIdx:    map[int32]int{},
		addrIdx:    map[nodeAddr]int{},
		orgIdx:     map[string]int{},
		groupIdx:   map[int32]int{},
		tableIdx:   map[RelationName]int{},
		oidIdx:     map[uint32]int{},
		shardIdx:   map[int64]Shard{},
		placements: map[int64][]Placement{},
		nodeCount:  map[int32]int{},
	}
	s.buildOrgs(b.orgs, &p)
	s.buildNodes(b.nodes, &p)
	s.buildGroups(b.groups, &p)
	s.buildTables(b.tables, &p)
	s.buildShards(b.shards, &p)
	s.buildPlacements(b.placements, &p)
	s.checkColocation(&p)
	if err := p.err(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Snapshot) buildOrgs(orgs []Organization, p *problems) {
	s.orgs = slices.Clone(orgs)
	slices.SortFunc(s.orgs, func(a, b Organization) int { return cmp.Compare(a.Name, b.Name) })
	for i, o := range s.orgs {
		switch {
		case o.Name == "":
			p.addf("organization with an empty name")
		case len(o.Name) > MaxNameLength:
			p.addf("organization %q: name longer than %d bytes", o.Name, MaxNameLength)
		}
		if _, dup := s.orgIdx[o.Name]; dup {
			p.addf("organization %q listed twice", o.Name)
			continue
		}
		s.orgIdx[o.Name] = i
	}
}

func (s *Snapshot) buildNodes(nodes []Node, p *problems) {
	s.nodes = slices.Clone(nodes)
	slices.SortFunc(s.nodes, func(a, b Node) int { return cmp.Compare(a.ID, b.ID) })
	for i, n := range s.nodes {
		if n.ID <= 0 {
			p.addf("%v: node id must be positive", n)
		}
		if _, dup := s.nodeIdx[n.ID]; dup {
			p.addf("node id %d used twice", n.ID)
		}
		s.nodeIdx[n.ID] = i
		if n.Host == "" {
			p.addf("%v: empty host name", n)
		}
		if n.Port < 1 || n.Port > math.MaxUint16 {
			p.addf("%v: port %d outside 1..65535", n, n.Port)
		}
		a := nodeAddr{n.Host, n.Port}
		if j, dup := s.addrIdx[a]; dup {
			p.addf("%v and %v have the same address", s.nodes[j], n)
		}
		s.addrIdx[a] = i
		if !n.Role.Valid() {
			p.addf("%v: unknown role %v", n, n.Role)
		}
		if n.Organization != "" {
			if _, ok := s.orgIdx[n.Organization]; !ok {
				p.addf("%v: unknown organization %q", n, n.Organization)
			}
		}
	}
}

func (s *Snapshot) buildGroups(groups []ColocationGroup, p *problems) {
	s.groups = slices.Clone(groups)
	slices.SortFunc(s.groups, func(a, b ColocationGroup) int { return cmp.Compare(a.ID, b.ID) })
	for i, g := range s.groups {
		if g.ID <= 0 {
			p.addf("%v: id must be positive", g)
		}
		if _, dup := s.groupIdx[g.ID]; dup {
			p.addf("%v listed twice", g)
		}
		s.groupIdx[g.ID] = i
		if err := CheckShardCount(g.ShardCount); err != nil {
			p.addf("%v: %v", g, err)
		}
		switch g.Method {
		case MethodHash:
			if !g.ColumnType.Hashable() {
				p.addf("%v: column type %v cannot be hashed", g, g.ColumnType)
			}
		case MethodReference:
			if g.ShardCount != 1 || g.ColumnType != 0 {
				p.addf("%v: a reference group has 1 shard and no column type, not %d and %v", g, g.ShardCount, g.ColumnType)
			}
		case MethodOrganization:
			if g.ColumnType == 0 && g.ShardCount != 1 {
				p.addf("%v: an organization group without a hash column has 1 shard per organization, not %d", g, g.ShardCount)
			}
			if g.ColumnType != 0 && !g.ColumnType.Hashable() {
				p.addf("%v: column type %v cannot be hashed", g, g.ColumnType)
			}
		default:
			p.addf("%v: unknown distribution method %v", g, g.Method)
		}
	}
}

func (s *Snapshot) buildTables(tables []Table, p *problems) {
	s.tables = slices.Clone(tables)
	slices.SortFunc(s.tables, func(a, b Table) int { return a.Relation.compare(b.Relation) })
	s.sets = make([]shardSet, len(s.tables))
	for i, t := range s.tables {
		s.sets[i] = shardSet{byOrg: map[string][]Shard{}, uniform: map[string]bool{}}
		if t.Relation.Schema == "" || t.Relation.Name == "" {
			p.addf("table %v: schema and name must not be empty", t)
		}
		if _, dup := s.tableIdx[t.Relation]; dup {
			p.addf("table %v listed twice", t)
		}
		s.tableIdx[t.Relation] = i
		if t.OID != 0 {
			if j, dup := s.oidIdx[t.OID]; dup {
				p.addf("tables %v and %v have the same OID %d", s.tables[j], t, t.OID)
			}
			s.oidIdx[t.OID] = i
		}
		checkTableColumns(t, p)
		g, ok := s.ColocationGroup(t.ColocationID)
		switch {
		case !ok:
			p.addf("table %v: unknown colocation group %d", t, t.ColocationID)
		case !g.Admits(t):
			p.addf("table %v (%v, %d shards, type %v) does not fit %v (%v, %d shards, type %v)",
				t, t.Method, t.ShardCount, t.DistributionType(), g, g.Method, g.ShardCount, g.ColumnType)
		}
	}
}

// checkTableColumns checks that a table's columns fit its method.
func checkTableColumns(t Table, p *problems) {
	switch t.Method {
	case MethodHash:
		if t.Column == "" || !t.ColumnType.Hashable() {
			p.addf("hash table %v: needs a distribution column of a hashable type, has %q of %v", t, t.Column, t.ColumnType)
		}
		if t.HashColumn != "" || t.HashColumnType != 0 {
			p.addf("hash table %v: a hash column is for organization tables only", t)
		}
	case MethodReference:
		if t.Column != "" || t.ColumnType != 0 || t.HashColumn != "" || t.HashColumnType != 0 {
			p.addf("reference table %v: has no distribution column", t)
		}
	case MethodOrganization:
		if t.Column == "" {
			p.addf("organization table %v: needs an organization column", t)
		}
		if (t.HashColumn == "") != (t.HashColumnType == 0) || (t.HashColumn != "" && !t.HashColumnType.Hashable()) {
			p.addf("organization table %v: hash column %q of %v: a column needs a hashable type", t, t.HashColumn, t.HashColumnType)
		}
	default:
		p.addf("table %v: unknown distribution method %v", t, t.Method)
	}
}

func (s *Snapshot) buildShards(shards []Shard, p *problems) {
	for _, sh := range shards {
		if sh.ID <= 0 {
			p.addf("%v of table %v: id must be positive", sh, sh.Table)
		}
		if _, dup := s.shardIdx[sh.ID]; dup {
			p.addf("%v listed twice", sh)
			continue
		}
		i, ok := s.tableIdx[sh.Table]
		if !ok {
			p.addf("%v: unknown table %v", sh, sh.Table)
			continue
		}
		t := s.tables[i]
		if t.Method == MethodOrganization {
			if _, ok := s.orgIdx[sh.Organization]; !ok {
				p.addf("%v of table %v: unknown organization %q", sh, t, sh.Organization)
				continue
			}
		} else if sh.Organization != "" {
			p.addf("%v of %v table %v: has organization %q", sh, t.Method, t, sh.Organization)
		}
		s.shardIdx[sh.ID] = sh
		s.sets[i].byOrg[sh.Organization] = append(s.sets[i].byOrg[sh.Organization], sh)
	}
	for i, t := range s.tables {
		set := s.sets[i]
		if len(set.byOrg) == 0 && t.Method != MethodOrganization {
			p.addf("table %v has no shards", t)
		}
		for org, list := range set.byOrg {
			slices.SortFunc(list, func(a, b Shard) int { return cmp.Compare(a.Range.Min, b.Range.Min) })
			set.uniform[org] = checkRanges(t, org, list, p)
		}
	}
}

// checkRanges checks that sorted shards cover the int32 hash space exactly
// once with t.ShardCount shards indexed in order, and reports whether their
// ranges are exactly ShardRanges(t.ShardCount).
func checkRanges(t Table, org string, list []Shard, p *problems) bool {
	what := "table " + t.String()
	if org != "" {
		what += " organization " + org
	}
	if len(list) != t.ShardCount {
		p.addf("%s: has %d shards, not %d", what, len(list), t.ShardCount)
	}
	if t.Method == MethodReference {
		for _, sh := range list {
			if sh.Range != FullRange || sh.Index != 0 {
				p.addf("%s: reference %v holds %v at index %d, not %v at 0", what, sh, sh.Range, sh.Index, FullRange)
			}
		}
		return false
	}
	next := int64(math.MinInt32)
	for i, sh := range list {
		switch {
		case sh.Range.Min > sh.Range.Max:
			p.addf("%s: %v has an empty range %v", what, sh, sh.Range)
		case int64(sh.Range.Min) > next:
			p.addf("%s: hash values %d..%d belong to no shard (gap before %v)", what, next, int64(sh.Range.Min)-1, sh)
		case int64(sh.Range.Min) < next:
			p.addf("%s: %v range %v overlaps %v", what, sh, sh.Range, list[i-1])
		}
		if sh.Index != i {
			p.addf("%s: %v at range position %d has index %d", what, sh, i, sh.Index)
		}
		next = max(next, int64(sh.Range.Max)+1)
	}
	if next <= math.MaxInt32 {
		p.addf("%s: hash values %d..%d belong to no shard", what, next, int64(math.MaxInt32))
	}
	want, err := ShardRanges(len(list))
	if err != nil {
		return false
	}
	for i, sh := range list {
		if sh.Range != want[i] {
			return false
		}
	}
	return true
}

func (s *Snapshot) buildPlacements(placements []Placement, p *problems) {
	for _, pl := range placements {
		sh, ok := s.shardIdx[pl.ShardID]
		if !ok {
			p.addf("placement %v: unknown shard", pl)
			continue
		}
		n, ok := s.Node(pl.NodeID)
		switch {
		case !ok:
			p.addf("placement %v: unknown node", pl)
			continue
		case n.Role != NodeRolePrimary:
			p.addf("placement %v: %v is a %v", pl, n, n.Role)
		case n.Organization != sh.Organization && sh.Organization != "":
			p.addf("placement %v: %v of organization %q is not a node of organization %q", pl, n, n.Organization, sh.Organization)
		}
		if slices.ContainsFunc(s.placements[pl.ShardID], func(q Placement) bool { return q.NodeID == pl.NodeID }) {
			p.addf("placement %v listed twice", pl)
			continue
		}
		s.placements[pl.ShardID] = append(s.placements[pl.ShardID], pl)
		s.nodeCount[pl.NodeID]++
	}
	for _, list := range s.placements {
		slices.SortFunc(list, func(a, b Placement) int { return cmp.Compare(a.NodeID, b.NodeID) })
	}
	for i := range s.tables {
		for _, list := range s.sets[i].byOrg {
			for _, sh := range list {
				if len(s.placements[sh.ID]) == 0 {
					p.addf("%v of table %v has no placement", sh, sh.Table)
				}
			}
		}
	}
}

// checkColocation checks that the tables of each group agree, shard by
// shard, with the group's first table (in name order).
func (s *Snapshot) checkColocation(p *problems) {
	first := map[int32]int{}
	for i, t := range s.tables {
		f, ok := first[t.ColocationID]
		if !ok {
			first[t.ColocationID] = i
			continue
		}
		a, b := s.sets[f], s.sets[i]
		ta := s.tables[f]
		for org, la := range a.byOrg {
			if _, ok := b.byOrg[org]; !ok {
				p.addf("co-located tables %v and %v: only %v has shards for organization %q", ta, t, ta, org)
			}
			lb := b.byOrg[org]
			for k := 0; k < len(la) && k < len(lb); k++ {
				if la[k].Range != lb[k].Range {
					p.addf("co-located tables %v and %v: %v holds %v but %v holds %v", ta, t, la[k], la[k].Range, lb[k], lb[k].Range)
				}
				if !s.sameNodes(la[k].ID, lb[k].ID) {
					p.addf("co-located tables %v and %v: %v and %v are placed on different nodes", ta, t, la[k], lb[k])
				}
			}
		}
		for org := range b.byOrg {
			if _, ok := a.byOrg[org]; !ok {
				p.addf("co-located tables %v and %v: only %v has shards for organization %q", ta, t, t, org)
			}
		}
	}
}

// sameNodes reports whether two shards are placed on the same set of nodes.
func (s *Snapshot) sameNodes(a, b int64) bool {
	pa, pb := s.placements[a], s.placements[b]
	return slices.EqualFunc(pa, pb, func(x, y Placement) bool { return x.NodeID == y.NodeID })
}
