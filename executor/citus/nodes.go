package citus

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/jackc/pgerrcode"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/catalog/store"
)

func init() {
	register(
		&funcSpec{
			name: "citus_add_node",
			params: []param{{name: "nodename", typ: "text"}, {name: "nodeport", typ: "int4"},
				{name: "groupid", typ: "int4", def: "-1"}, {name: "noderole", typ: "text", def: "'primary'"},
				{name: "nodecluster", typ: "name", def: "'default'"}},
			returns: "int4", strict: true, run: addNode, superuser: true,
		},
		&funcSpec{
			name:    "citus_remove_node",
			params:  []param{{name: "nodename", typ: "text"}, {name: "nodeport", typ: "int4"}},
			returns: "void", strict: true, run: removeNode, superuser: true,
		},
		&funcSpec{
			name:    "citus_get_active_worker_nodes",
			columns: []column{{"node_name", "text"}, {"node_port", "int8"}},
			run:     activeWorkers,
		},
		&funcSpec{
			name:    "pgfed_add_organization",
			params:  []param{{name: "name", typ: "text"}},
			returns: "void", strict: true, run: addOrganization, superuser: true,
		},
		&funcSpec{
			name: "pgfed_set_node_organization",
			params: []param{{name: "nodename", typ: "text"}, {name: "nodeport", typ: "int4"},
				{name: "organization", typ: "text"}},
			returns: "void", run: setNodeOrganization, superuser: true,
		},
	)
}

// addNode is citus_add_node(nodename, nodeport, groupid, noderole,
// nodecluster): adds an active primary worker and returns its id;
// idempotent.
func addNode(ctx context.Context, r *runner, a []arg) ([][]*string, error) {
	if r.env.Txn != nil {
		return nil, inBlock("citus_add_node")
	}
	if a[3].str() != "primary" {
		return nil, notSupported("noderole %q is not supported: pgfed workers are primaries", a[3].str())
	}
	if g := a[2].str(); g != "" && g != "-1" {
		return nil, notSupported("groupid is not supported: each pgfed node is its own group")
	}
	if c := a[4].str(); c != "default" {
		return nil, notSupported("nodecluster %q is not supported", c)
	}
	port, err := portArg(a[1])
	if err != nil {
		return nil, err
	}
	id, err := r.env.Store.AddNode(ctx, a[0].str(), port, "")
	if err != nil {
		return nil, err
	}
	if err := r.syncPools(ctx); err != nil {
		return nil, err
	}
	// Idempotent: a node added earlier whose reference tables failed to
	// copy gets them now.
	if err := r.replicateReferenceTables(ctx, id); err != nil {
		return nil, err
	}
	return one(strconv.Itoa(int(id))), nil
}

// removeNode is citus_remove_node(nodename, nodeport): refuses while the
// node holds placements.
func removeNode(ctx context.Context, r *runner, a []arg) ([][]*string, error) {
	if r.env.Txn != nil {
		return nil, inBlock("citus_remove_node")
	}
	port, err := portArg(a[1])
	if err != nil {
		return nil, err
	}
	if err := r.dropReferencePlacements(ctx, a[0].str(), port); err != nil {
		return nil, err
	}
	if err := r.env.Store.RemoveNode(ctx, a[0].str(), port); err != nil {
		return nil, err
	}
	if err := r.syncPools(ctx); err != nil {
		return nil, err
	}
	return void(), nil
}

// activeWorkers is citus_get_active_worker_nodes(): the active primary
// workers, in (host, port) order.
func activeWorkers(ctx context.Context, r *runner, _ []arg) ([][]*string, error) {
	snap, err := r.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	nodes := placeable(snap)
	rows := make([][]*string, 0, len(nodes))
	for _, n := range nodes {
		host, port := n.Host, strconv.Itoa(n.Port)
		rows = append(rows, []*string{&host, &port})
	}
	return rows, nil
}

// addOrganization is pgfed_add_organization(name); idempotent.
func addOrganization(ctx context.Context, r *runner, a []arg) ([][]*string, error) {
	if r.env.Txn != nil {
		return nil, inBlock("pgfed_add_organization")
	}
	if err := r.env.Store.AddOrganization(ctx, a[0].str()); err != nil {
		return nil, err
	}
	return void(), nil
}

// setNodeOrganization is pgfed_set_node_organization(nodename, nodeport,
// organization); a NULL organization takes the node out of any.
func setNodeOrganization(ctx context.Context, r *runner, a []arg) ([][]*string, error) {
	if r.env.Txn != nil {
		return nil, inBlock("pgfed_set_node_organization")
	}
	if a[0].null() || a[1].null() {
		return nil, errorf(pgerrcode.NullValueNotAllowedDataException, "nodename and nodeport must not be NULL")
	}
	port, err := portArg(a[1])
	if err != nil {
		return nil, err
	}
	if err := r.env.Store.SetNodeOrganization(ctx, a[0].str(), port, a[2].str()); err != nil {
		return nil, err
	}
	if err := r.syncPools(ctx); err != nil {
		return nil, err
	}
	return void(), nil
}

// portArg reads a port argument.
func portArg(a arg) (int, error) {
	p, err := strconv.Atoi(a.str())
	if err != nil || p < 1 || p > 65535 {
		return 0, errorf(pgerrcode.InvalidParameterValue, "invalid node port %q: must be in 1..65535", a.str())
	}
	return p, nil
}

// placeable returns the nodes new placements may go to, in (host, port)
// order.
func placeable(snap *catalog.Snapshot) []catalog.Node {
	var out []catalog.Node
	for _, n := range snap.Nodes() {
		if n.Placeable() {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b catalog.Node) int {
		if a.Host != b.Host {
			if a.Host < b.Host {
				return -1
			}
			return 1
		}
		return a.Port - b.Port
	})
	return out
}

// syncPools gives the worker pools the catalog's nodes.
func (r *runner) syncPools(ctx context.Context) error {
	snap, err := r.snapshot(ctx)
	if err != nil {
		return err
	}
	if err := r.env.Pools.SetNodes(snap.Nodes()); err != nil {
		return errors.Join(errorf(pgerrcode.InternalError, "update the worker pools"), err)
	}
	return nil
}

// dropReferencePlacements removes, as Citus does before removing a node,
// the node's placements of reference tables when they are all it holds
// (a node with shards of distributed tables is refused by
// store.RemoveNode, with nothing changed) and the node is not the last
// holder. The catalog change commits first; the shard tables are then
// dropped on the node if it answers (a node being removed is often down),
// else left to the administrator, with a warning in the log.
func (r *runner) dropReferencePlacements(ctx context.Context, host string, port int) error {
	snap, err := r.snapshot(ctx)
	if err != nil {
		return err
	}
	node, ok := snap.NodeByAddr(host, port)
	if !ok {
		return nil // RemoveNode reports it
	}
	var refs []catalog.Placement
	var names []string
	for _, t := range snap.Tables() {
		for _, s := range snap.ShardsOf(t.Relation) {
			ps := snap.PlacementsOf(s.ID)
			for _, p := range ps {
				if p.NodeID != node.ID {
					continue
				}
				if t.Method != catalog.MethodReference || len(ps) == 1 {
					return nil // RemoveNode refuses, naming a shard
				}
				refs = append(refs, p)
				names = append(names, s.QualifiedName())
			}
		}
	}
	if len(refs) == 0 {
		return nil
	}
	err = r.env.Store.Update(ctx, func(tx *store.Tx) error {
		for _, p := range refs {
			if err := tx.RemovePlacement(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	stmts := make([]string, len(names))
	for i, n := range names {
		stmts[i] = "DROP TABLE IF EXISTS " + n + " CASCADE"
	}
	if _, err := r.workerQuery(ctx, node.ID, joinStatements(stmts)); err != nil {
		r.log.Warn("reference table placements removed from the catalog but not dropped on the node", "node", node.Addr(), "error", err)
	}
	return nil
}
