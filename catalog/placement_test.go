package catalog

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestRoundRobin(t *testing.T) {
	nodes := []Node{
		{ID: 3, Host: "b", Port: 2, Active: true},
		{ID: 1, Host: "b", Port: 1, Active: true},
		{ID: 2, Host: "a", Port: 9, Active: true},
		{ID: 4, Host: "0", Port: 1, Active: false},
		{ID: 5, Host: "1", Port: 1, Active: true, Role: NodeRoleSecondary},
	}
	got, err := RoundRobin(nodes, 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Sorted by (host, port): a:9 (2), b:1 (1), b:2 (3).
	want := [][]int32{{2}, {1}, {3}, {2}, {1}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("RoundRobin = %v, want %v", got, want)
	}
	got, _ = RoundRobin(nodes, 3, 2)
	want = [][]int32{{2, 1}, {1, 3}, {3, 2}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("RoundRobin replication 2 = %v, want %v", got, want)
	}
	_, err = RoundRobin(nodes, 3, 4)
	var ne *NotEnoughNodesError
	if !errors.As(err, &ne) || !errors.Is(err, ErrNotEnoughNodes) || ne.SQLState() != "22023" {
		t.Errorf("RoundRobin with too few nodes = %v", err)
	}
	if _, err := RoundRobin(nil, 3, 1); err == nil || !strings.Contains(err.Error(), "no active primary") {
		t.Errorf("RoundRobin with no nodes = %v", err)
	}
	if _, err := RoundRobin(nodes, 0, 1); !errors.Is(err, ErrInvalidShardCount) {
		t.Errorf("RoundRobin with 0 shards = %v", err)
	}
}

func TestShardName(t *testing.T) {
	if got := ShardName("orders", 102008); got != "orders_102008" {
		t.Errorf("ShardName = %q", got)
	}
	sh := Shard{ID: 102009, Table: RelationName{"my schema", `we"ird`}}
	if got := sh.QualifiedName(); got != `"my schema"."we""ird_102009"` {
		t.Errorf("QualifiedName = %s", got)
	}
	long := strings.Repeat("x", 60)
	a, b := ShardName(long+"a", 102008), ShardName(long+"b", 102008)
	if len(a) > MaxNameLength || a == b || !strings.HasSuffix(a, "_102008") {
		t.Errorf("long names: %q %q", a, b)
	}
	multi := strings.Repeat("é", 40) // 80 bytes
	if n := ShardName(multi, 102008); len(n) > MaxNameLength || !strings.HasPrefix(n, "éé") || strings.ContainsRune(n, '\uFFFD') {
		t.Errorf("multibyte name cut badly: %q", n)
	}
	if n := ShardName(strings.Repeat("y", 63-7), 102008); n != strings.Repeat("y", 56)+"_102008" {
		t.Errorf("name of exactly 63 bytes shortened: %q", n)
	}
}

func TestEnumStrings(t *testing.T) {
	for m := MethodHash; m <= MethodOrganization; m++ {
		if p, ok := ParseDistributionMethod(m.String()); !ok || p != m {
			t.Errorf("method %v does not round-trip", m)
		}
	}
	if _, ok := ParseDistributionMethod("range"); ok || DistributionMethod(9).Valid() {
		t.Error("unknown method accepted")
	}
	for _, r := range []NodeRole{NodeRolePrimary, NodeRoleSecondary} {
		if p, ok := ParseNodeRole(r.String()); !ok || p != r {
			t.Errorf("role %v does not round-trip", r)
		}
	}
	if NodeRole(7).String() != "noderole(7)" || NodeRole(7).Valid() {
		t.Error("unknown role")
	}
	if n := (Node{ID: 1, Host: "::1", Port: 5432}); n.String() != "node 1 ([::1]:5432)" {
		t.Errorf("Node.String = %s", n)
	}
}
