package catalog

import (
	"net"
	"strconv"
)

// NodeRole is a worker node's role, as pg_dist_node.noderole in Citus.
type NodeRole uint8

// The node roles. Only primaries hold shard placements.
const (
	// NodeRolePrimary is a worker that holds shard placements.
	NodeRolePrimary NodeRole = iota
	// NodeRoleSecondary is a standby of a primary: known, never placed on.
	NodeRoleSecondary
)

// String returns "primary" or "secondary", the spellings of Citus's noderole.
func (r NodeRole) String() string {
	switch r {
	case NodeRolePrimary:
		return "primary"
	case NodeRoleSecondary:
		return "secondary"
	}
	return "noderole(" + strconv.Itoa(int(r)) + ")"
}

// Valid reports whether r is one of the named roles.
func (r NodeRole) Valid() bool { return r <= NodeRoleSecondary }

// ParseNodeRole returns the role spelled s ("primary", "secondary"); ok is
// false for any other spelling.
func ParseNodeRole(s string) (r NodeRole, ok bool) {
	switch s {
	case "primary":
		return NodeRolePrimary, true
	case "secondary":
		return NodeRoleSecondary, true
	}
	return 0, false
}

// Node is a worker server, as a row of pg_dist_node.
type Node struct {
	// ID is the node id, positive and unique (pg_dist_node.nodeid).
	ID int32
	// Host is the host name or address coordinators connect to.
	Host string
	// Port is the TCP port, 1..65535.
	Port int
	// Organization names the organization the node belongs to; "" for
	// none.
	Organization string
	// Active is false for a node taken out of service: it keeps its
	// placements but gets no new ones.
	Active bool
	// Role is the node's role; the zero value is NodeRolePrimary.
	Role NodeRole
}

// Addr returns "host:port" (IPv6 hosts in brackets), the form used in
// messages and for dialing.
func (n Node) Addr() string { return net.JoinHostPort(n.Host, strconv.Itoa(n.Port)) }

// String returns "node <id> (<host:port>)".
func (n Node) String() string { return "node " + strconv.Itoa(int(n.ID)) + " (" + n.Addr() + ")" }

// Placeable reports whether new shard placements may go to n: it is an
// active primary.
func (n Node) Placeable() bool { return n.Active && n.Role == NodeRolePrimary }

// compareNodes orders nodes by (host, port), as Citus orders workers for
// round-robin placement.
func compareNodes(a, b Node) int {
	switch {
	case a.Host < b.Host:
		return -1
	case a.Host > b.Host:
		return 1
	}
	return a.Port - b.Port
}
