package catalog

import (
	"slices"
	"strconv"
)

// Placement says that a copy of a shard lives on a node, as a row of
// Citus's pg_dist_placement. A shard has at least one placement; a
// reference table's shard has one per worker.
type Placement struct {
	// ShardID is the shard placed.
	ShardID int64
	// NodeID is the node holding the copy.
	NodeID int32
}

// String returns "shard <id> on node <id>".
func (p Placement) String() string {
	return "shard " + strconv.FormatInt(p.ShardID, 10) + " on node " + strconv.Itoa(int(p.NodeID))
}

// RoundRobin chooses nodes for shardCount shards with replicationFactor
// copies each, as Citus places new shards: the nodes that can take
// placements (Node.Placeable) are sorted by (host, port), shard i's copy j
// goes to node (i + j) mod len(nodes). The result has one entry per shard
// index listing node ids. It fails when shardCount is invalid, when
// replicationFactor is below 1, or when there are fewer placeable nodes than
// replicationFactor.
func RoundRobin(nodes []Node, shardCount, replicationFactor int) ([][]int32, error) {
	if err := CheckShardCount(shardCount); err != nil {
		return nil, err
	}
	var workers []Node
	for _, n := range nodes {
		if n.Placeable() {
			workers = append(workers, n)
		}
	}
	if replicationFactor < 1 || replicationFactor > len(workers) {
		return nil, &NotEnoughNodesError{ReplicationFactor: replicationFactor, Nodes: len(workers)}
	}
	slices.SortFunc(workers, compareNodes)
	out := make([][]int32, shardCount)
	for i := range out {
		ids := make([]int32, replicationFactor)
		for j := range ids {
			ids[j] = workers[(i+j)%len(workers)].ID
		}
		out[i] = ids
	}
	return out, nil
}
