package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"

	"github.com/pgfed/pgfed/catalog"
)

// AddNode adds a worker node at host:port, belonging to organization org
// ("" for none), active, as a primary, and returns its id. Like
// citus_add_node it is idempotent: for a node already at host:port it
// returns that node's id and changes nothing, provided org is "" or the
// node's organization (else ErrNodeExists, SQLSTATE 42710: change it with
// SetNodeOrganization). An unknown org fails with ErrOrganizationNotFound.
func (s *Store) AddNode(ctx context.Context, host string, port int, org string) (int32, error) {
	if err := checkAddr(host, port); err != nil {
		return 0, err
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	var id int32
	snap, err := s.mutate(ctx, "add node "+addr, func(tx pgx.Tx) (bool, error) {
		var have string
		err := tx.QueryRow(ctx, "SELECT nodeid, coalesce(organization, '') FROM pgfed.node WHERE nodename = $1 AND nodeport = $2",
			host, port).Scan(&id, &have)
		switch {
		case err == nil && (org == "" || org == have):
			return false, nil
		case err == nil:
			return false, newError(pgerrcode.DuplicateObject, ErrNodeExists,
				"node %s (id %d) belongs to organization %q, not %q", addr, id, have, org)
		case !errors.Is(err, pgx.ErrNoRows):
			return false, fmt.Errorf("add node %s: %w", addr, err)
		}
		if err := checkOrganization(ctx, tx, org); err != nil {
			return false, fmt.Errorf("add node %s: %w", addr, err)
		}
		err = tx.QueryRow(ctx, "INSERT INTO pgfed.node (nodename, nodeport, organization) VALUES ($1, $2, nullif($3, '')) RETURNING nodeid",
			host, port, org).Scan(&id)
		if err != nil {
			return false, fmt.Errorf("add node %s: %w", addr, err)
		}
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	if snap != nil {
		s.log.Info("node added", "node", addr, "id", id, "organization", org, "version", snap.Version())
	}
	return id, nil
}

// RemoveNode removes the worker node at host:port. It refuses, with a
// *NodeInUseError (SQLSTATE 2BP01), while the node holds shard placements,
// and fails with ErrNodeNotFound (42704) when there is no such node.
func (s *Store) RemoveNode(ctx context.Context, host string, port int) error {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	var id int32
	_, err := s.mutate(ctx, "remove node "+addr, func(tx pgx.Tx) (bool, error) {
		var err error
		if id, err = nodeID(ctx, tx, host, port); err != nil {
			return false, err
		}
		var count int64
		var shard *int64
		if err := tx.QueryRow(ctx, "SELECT count(*), min(shardid) FROM pgfed.placement WHERE nodeid = $1", id).Scan(&count, &shard); err != nil {
			return false, fmt.Errorf("remove node %s: count its placements: %w", addr, err)
		}
		if count > 0 {
			return false, &NodeInUseError{Host: host, Port: port, Placements: count, ShardID: *shard}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM pgfed.node WHERE nodeid = $1", id); err != nil {
			return false, fmt.Errorf("remove node %s: %w", addr, err)
		}
		return true, nil
	})
	if err == nil {
		s.log.Info("node removed", "node", addr, "id", id)
	}
	return err
}

// SetNodeActive marks the node at host:port active or not (Citus's
// citus_activate_node and citus_disable_node): an inactive node keeps its
// placements but gets no new ones.
func (s *Store) SetNodeActive(ctx context.Context, host string, port int, active bool) error {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	_, err := s.mutate(ctx, "set node "+addr+" active", func(tx pgx.Tx) (bool, error) {
		id, err := nodeID(ctx, tx, host, port)
		if err != nil {
			return false, err
		}
		tag, err := tx.Exec(ctx, "UPDATE pgfed.node SET isactive = $2 WHERE nodeid = $1 AND isactive <> $2", id, active)
		if err != nil {
			return false, fmt.Errorf("set node %s active=%v: %w", addr, active, err)
		}
		return tag.RowsAffected() > 0, nil
	})
	return err
}

// AddOrganization adds an organization. It is idempotent: adding an
// existing organization changes nothing.
func (s *Store) AddOrganization(ctx context.Context, name string) error {
	if name == "" || len(name) > catalog.MaxNameLength {
		return newError(pgerrcode.InvalidParameterValue, ErrInvalidArgument,
			"organization name %q must have 1 to %d bytes", name, catalog.MaxNameLength)
	}
	_, err := s.mutate(ctx, "add organization "+name, func(tx pgx.Tx) (bool, error) {
		tag, err := tx.Exec(ctx, "INSERT INTO pgfed.organization (name) VALUES ($1) ON CONFLICT DO NOTHING", name)
		if err != nil {
			return false, fmt.Errorf("add organization %q: %w", name, err)
		}
		return tag.RowsAffected() > 0, nil
	})
	return err
}

// SetNodeOrganization moves the node at host:port to organization org (""
// for none). It fails when org is unknown, and, with a
// *catalog.InvariantError, when the node holds shards of another
// organization's rows.
func (s *Store) SetNodeOrganization(ctx context.Context, host string, port int, org string) error {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	_, err := s.mutate(ctx, "set organization of node "+addr, func(tx pgx.Tx) (bool, error) {
		id, err := nodeID(ctx, tx, host, port)
		if err != nil {
			return false, err
		}
		if err := checkOrganization(ctx, tx, org); err != nil {
			return false, fmt.Errorf("set organization of node %s: %w", addr, err)
		}
		tag, err := tx.Exec(ctx, `UPDATE pgfed.node SET organization = nullif($2, '')
			WHERE nodeid = $1 AND organization IS DISTINCT FROM nullif($2, '')`, id, org)
		if err != nil {
			return false, fmt.Errorf("set organization of node %s: %w", addr, err)
		}
		return tag.RowsAffected() > 0, nil
	})
	return err
}

// nodeID returns the id of the node at host:port, or ErrNodeNotFound.
func nodeID(ctx context.Context, tx pgx.Tx, host string, port int) (int32, error) {
	var id int32
	err := tx.QueryRow(ctx, "SELECT nodeid FROM pgfed.node WHERE nodename = $1 AND nodeport = $2", host, port).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, newError(pgerrcode.UndefinedObject, ErrNodeNotFound, "node %s does not exist",
			net.JoinHostPort(host, strconv.Itoa(port)))
	}
	if err != nil {
		return 0, fmt.Errorf("look up node %s: %w", net.JoinHostPort(host, strconv.Itoa(port)), err)
	}
	return id, nil
}

// checkOrganization fails with ErrOrganizationNotFound unless org is "" or
// exists.
func checkOrganization(ctx context.Context, tx pgx.Tx, org string) error {
	if org == "" {
		return nil
	}
	var ok bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pgfed.organization WHERE name = $1)", org).Scan(&ok); err != nil {
		return fmt.Errorf("look up organization %q: %w", org, err)
	}
	if !ok {
		return newError(pgerrcode.UndefinedObject, ErrOrganizationNotFound, "organization %q does not exist", org)
	}
	return nil
}

// checkAddr checks a node address.
func checkAddr(host string, port int) error {
	if host == "" || port < 1 || port > 65535 {
		return newError(pgerrcode.InvalidParameterValue, ErrInvalidArgument,
			"node address %q port %d: the host must not be empty and the port must be in 1..65535", host, port)
	}
	return nil
}
