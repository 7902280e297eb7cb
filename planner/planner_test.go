package planner

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/pgfed/pgfed/catalog"
)

// TestPlanner runs the datadriven files under testdata/planner. Commands:
//
//	catalog            build a fresh catalog and schema from the input lines:
//	                     node <id> <host:port>
//	                     hash <name>(<col> <type>, ...) by <col> [shards <n>] [colocate <table>|none]
//	                     reference <name>(<col> <type>, ...)
//	                     local <name>(<col> <type>, ...)
//	                     org <name>(<col> <type>, ...) by <orgcol> hash <col> [shards <n>]
//	                     view <name>(<col>, ...) [barrier] as <query>
//	                   (nodes may end with "org <name>"; tables may end
//	                   with "pk <col>,<col>", their primary key)
//	plan               the physical plan of the input statement
//	bind params=a,b    the plan bound to parameter values (text; NULL for null)
//	build              the relational algebra of the input statement
//	pushdown           the algebra after pushdown (Collects moved up)
//	explain [verbose]  the EXPLAIN text (workers' parts left unfilled)
//
// Errors are output: "error <sqlstate>: <message>".
func TestPlanner(t *testing.T) {
	datadriven.Walk(t, filepath.Join("..", "testdata", "planner"), func(t *testing.T, path string) {
		var p *Planner
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if d.Cmd == "catalog" {
				var err error
				p, err = testPlanner(d.Input)
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				return ""
			}
			if p == nil {
				t.Fatalf("%s: %s before catalog", d.Pos, d.Cmd)
			}
			switch d.Cmd {
			case "plan":
				pl, err := p.Plan(d.Input)
				if err != nil {
					return errString(err)
				}
				return pl.String()
			case "bind":
				pl, err := p.Plan(d.Input)
				if err != nil {
					return errString(err)
				}
				var vals []Param
				for _, a := range d.CmdArgs {
					if a.Key != "params" {
						continue
					}
					for _, v := range a.Vals {
						if v == "NULL" {
							vals = append(vals, Param{Null: true})
						} else {
							vals = append(vals, Param{Value: []byte(v)})
						}
					}
				}
				b, err := pl.Bind(vals)
				if err != nil {
					return errString(err)
				}
				return b.String()
			case "pushdown":
				tree, err := p.Pushed(d.Input)
				if err != nil {
					return errString(err)
				}
				return tree.String()
			case "build":
				tree, err := p.Build(d.Input)
				if err != nil {
					return errString(err)
				}
				return tree.String()
			case "explain":
				pl, err := p.Plan(d.Input)
				if err != nil {
					return errString(err)
				}
				return Explain(pl, ExplainOptions{Verbose: d.HasArg("verbose")}).String()
			}
			t.Fatalf("%s: unknown command %s", d.Pos, d.Cmd)
			return ""
		})
	})
}

// errString formats an error with its SQLSTATE.
func errString(err error) string {
	var s interface{ SQLState() string }
	if errors.As(err, &s) {
		return "error " + s.SQLState() + ": " + err.Error() + "\n"
	}
	return "error: " + err.Error() + "\n"
}

// extraTypes are non-hashable types the test files may name.
var extraTypes = map[string]catalog.Type{"jsonb": 3802, "json": 114, "interval": 1186}

// testPlanner builds a catalog and schema from the catalog directive.
func testPlanner(input string) (*Planner, error) {
	b := catalog.NewBuilder(1)
	var nodes []catalog.Node
	var defs []TableDef
	groups := map[string]int32{} // table -> group
	groupNodes := map[int32][][]int32{}
	var nextGroup int32 = 1
	nextShard := catalog.FirstShardID
	refGroup := int32(0)
	var orgs []string
	var views []ViewDef
	for _, line := range strings.Split(input, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kind, rest, _ := strings.Cut(line, " ")
		if kind == "view" {
			head, query, ok := strings.Cut(rest, " as ")
			open, close := strings.Index(head, "("), strings.Index(head, ")")
			if !ok || open < 0 || close < open {
				return nil, fmt.Errorf("bad line %q", line)
			}
			v := ViewDef{Relation: catalog.RelationName{Schema: "public", Name: strings.TrimSpace(head[:open])}, Query: query,
				SecurityBarrier: strings.Contains(head[close:], "barrier")}
			for _, c := range strings.Split(head[open+1:close], ",") {
				v.Columns = append(v.Columns, strings.TrimSpace(c))
			}
			views = append(views, v)
			continue
		}
		if kind == "node" {
			f := strings.Fields(rest)
			id, _ := strconv.Atoi(f[0])
			host, port, _ := strings.Cut(f[1], ":")
			pn, _ := strconv.Atoi(port)
			n := catalog.Node{ID: int32(id), Host: host, Port: pn, Active: true}
			if len(f) == 4 && f[2] == "org" {
				n.Organization = f[3]
				if !slices.Contains(orgs, f[3]) {
					orgs = append(orgs, f[3])
					b.AddOrganization(catalog.Organization{Name: f[3]})
				}
			}
			nodes = append(nodes, n)
			b.AddNode(n)
			continue
		}
		open, close := strings.Index(rest, "("), strings.Index(rest, ")")
		if open < 0 || close < open {
			return nil, fmt.Errorf("bad line %q", line)
		}
		name := strings.TrimSpace(rest[:open])
		def := TableDef{Relation: catalog.RelationName{Schema: "public", Name: name}}
		for _, c := range strings.Split(rest[open+1:close], ",") {
			f := strings.Fields(c)
			typ, ok := catalog.TypeByName(strings.Join(f[1:], " "))
			if !ok {
				typ = extraTypes[f[1]]
			}
			def.Columns = append(def.Columns, Column{Name: f[0], Type: typ})
		}
		defs = append(defs, def)
		opts := strings.Fields(rest[close+1:])
		opt := func(k string) string {
			for i := 0; i+1 < len(opts); i++ {
				if opts[i] == k {
					return opts[i+1]
				}
			}
			return ""
		}
		if pk := opt("pk"); pk != "" {
			defs[len(defs)-1].PrimaryKey = strings.Split(pk, ",")
		}
		switch kind {
		case "local":
		case "reference":
			if refGroup == 0 {
				refGroup = nextGroup
				nextGroup++
				b.AddColocationGroup(catalog.ColocationGroup{ID: refGroup, Method: catalog.MethodReference, ShardCount: 1})
			}
			b.AddTable(catalog.Table{Relation: def.Relation, Method: catalog.MethodReference, ColocationID: refGroup, ShardCount: 1})
			b.AddShard(catalog.Shard{ID: nextShard, Table: def.Relation, Range: catalog.FullRange})
			for _, n := range nodes {
				b.AddPlacement(catalog.Placement{ShardID: nextShard, NodeID: n.ID})
			}
			nextShard++
		case "hash":
			col := opt("by")
			n := 4
			if s := opt("shards"); s != "" {
				n, _ = strconv.Atoi(s)
			}
			var typ catalog.Type
			for _, c := range def.Columns {
				if c.Name == col {
					typ = c.Type
				}
			}
			g, ok := groups[opt("colocate")]
			if !ok {
				g = nextGroup
				nextGroup++
				b.AddColocationGroup(catalog.ColocationGroup{ID: g, Method: catalog.MethodHash, ShardCount: n, ColumnType: typ})
				rr, err := catalog.RoundRobin(nodes, n, 1)
				if err != nil {
					return nil, err
				}
				groupNodes[g] = rr
			} else {
				n = len(groupNodes[g])
			}
			groups[name] = g
			b.AddTable(catalog.Table{Relation: def.Relation, Method: catalog.MethodHash, Column: col, ColumnType: typ, ColocationID: g, ShardCount: n})
			ranges, _ := catalog.ShardRanges(n)
			for i, r := range ranges {
				b.AddShard(catalog.Shard{ID: nextShard, Table: def.Relation, Index: i, Range: r})
				for _, nid := range groupNodes[g][i] {
					b.AddPlacement(catalog.Placement{ShardID: nextShard, NodeID: nid})
				}
				nextShard++
			}
		case "org":
			col, hcol := opt("by"), opt("hash")
			n := 1
			if s := opt("shards"); s != "" {
				n, _ = strconv.Atoi(s)
			}
			var htyp catalog.Type
			for _, c := range def.Columns {
				if c.Name == hcol {
					htyp = c.Type
				}
			}
			g, ok := groups[opt("colocate")]
			if !ok {
				g = nextGroup
				nextGroup++
				b.AddColocationGroup(catalog.ColocationGroup{ID: g, Method: catalog.MethodOrganization, ShardCount: n, ColumnType: htyp})
			}
			groups[name] = g
			b.AddTable(catalog.Table{Relation: def.Relation, Method: catalog.MethodOrganization, Column: col,
				HashColumn: hcol, HashColumnType: htyp, ColocationID: g, ShardCount: n})
			ranges, _ := catalog.ShardRanges(n)
			sorted := slices.Clone(orgs)
			slices.Sort(sorted)
			for _, o := range sorted {
				var onodes []catalog.Node
				for _, nd := range nodes {
					if nd.Organization == o {
						onodes = append(onodes, nd)
					}
				}
				rr, err := catalog.RoundRobin(onodes, n, 1)
				if err != nil {
					return nil, err
				}
				for i, r := range ranges {
					b.AddShard(catalog.Shard{ID: nextShard, Table: def.Relation, Index: i, Organization: o, Range: r})
					b.AddPlacement(catalog.Placement{ShardID: nextShard, NodeID: rr[i][0]})
					nextShard++
				}
			}
		default:
			return nil, fmt.Errorf("unknown kind %q", kind)
		}
	}
	snap, err := b.Build()
	if err != nil {
		return nil, err
	}
	return New(snap, NewSchema(nil, defs).WithViews(views), 0), nil
}
