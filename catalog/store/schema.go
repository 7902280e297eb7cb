package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
)

// SchemaName is the schema holding the catalog in the metadata database.
const SchemaName = "pgfed"

// NotifyChannel is the channel every catalog change notifies, in the same
// transaction, with the new version as payload.
const NotifyChannel = "pgfed_catalog"

// migrationLockKey is the advisory lock key ("pgfed_ca" in ASCII) that
// serializes schema migrations among coordinators starting together.
const migrationLockKey int64 = 0x70676665645f6361

// migration is one step of the catalog schema's history. Steps are never
// edited once released: a change is a new step.
type migration struct {
	// what says what the step does.
	what string
	// sql is run as one simple-protocol batch inside the migration
	// transaction.
	sql string
}

// migrations lists the schema versions: migrations[i] takes the schema
// from version i to version i+1.
var migrations = []migration{
	{what: "initial catalog", sql: schemaV1},
}

// SchemaVersion is the catalog schema version this build creates and
// understands: len(migrations).
const SchemaVersion = 1

// schemaV1 creates the catalog. Relations are identified by regclass, as
// Citus does: an OID survives ALTER TABLE RENAME and SET SCHEMA (names are
// read from pg_class at load time), and pg_dump writes regclass values as
// names, so a dump restores. Distribution columns are identified by attnum,
// which survives RENAME COLUMN. A table dropped behind pgfed's back leaves
// a row whose regclass no longer resolves; Load skips it with a warning and
// Tx.RemoveDroppedTables deletes it.
const schemaV1 = `
CREATE TABLE pgfed.organization (
	name text PRIMARY KEY CHECK (name <> '' AND octet_length(name) <= 63)
);

CREATE TABLE pgfed.node (
	nodeid serial PRIMARY KEY,
	nodename text NOT NULL CHECK (nodename <> ''),
	nodeport int NOT NULL CHECK (nodeport BETWEEN 1 AND 65535),
	organization text CONSTRAINT node_organization_fkey REFERENCES pgfed.organization (name),
	isactive bool NOT NULL DEFAULT true,
	noderole text NOT NULL DEFAULT 'primary' CHECK (noderole IN ('primary', 'secondary')),
	CONSTRAINT node_nodename_nodeport_key UNIQUE (nodename, nodeport)
);

CREATE SEQUENCE pgfed.colocationid_seq AS int MINVALUE 1;

CREATE TABLE pgfed.colocation (
	colocationid int PRIMARY KEY,
	method text NOT NULL CHECK (method IN ('hash', 'reference', 'organization')),
	shardcount int NOT NULL CHECK (shardcount BETWEEN 1 AND 64000),
	distributioncolumntype oid NOT NULL DEFAULT 0
);

CREATE TABLE pgfed.partition (
	logicalrelid regclass PRIMARY KEY,
	partmethod text NOT NULL CHECK (partmethod IN ('hash', 'reference', 'organization')),
	partattnum int2,
	partkeytype oid NOT NULL DEFAULT 0,
	hashattnum int2,
	hashkeytype oid NOT NULL DEFAULT 0,
	colocationid int NOT NULL CONSTRAINT partition_colocationid_fkey REFERENCES pgfed.colocation
);
CREATE INDEX partition_colocationid_idx ON pgfed.partition (colocationid);

CREATE SEQUENCE pgfed.shardid_seq AS bigint MINVALUE 1 START 102008;

CREATE TABLE pgfed.shard (
	shardid bigint PRIMARY KEY,
	logicalrelid regclass NOT NULL CONSTRAINT shard_logicalrelid_fkey REFERENCES pgfed.partition ON DELETE CASCADE,
	shardindex int NOT NULL CHECK (shardindex >= 0),
	organization text CONSTRAINT shard_organization_fkey REFERENCES pgfed.organization (name),
	shardminvalue int NOT NULL,
	shardmaxvalue int NOT NULL,
	CHECK (shardminvalue <= shardmaxvalue)
);
CREATE INDEX shard_logicalrelid_idx ON pgfed.shard (logicalrelid);

CREATE TABLE pgfed.placement (
	shardid bigint NOT NULL CONSTRAINT placement_shardid_fkey REFERENCES pgfed.shard ON DELETE CASCADE,
	nodeid int NOT NULL CONSTRAINT placement_nodeid_fkey REFERENCES pgfed.node,
	PRIMARY KEY (shardid, nodeid)
);
CREATE INDEX placement_nodeid_idx ON pgfed.placement (nodeid);

CREATE TABLE pgfed.version (
	onerow bool PRIMARY KEY DEFAULT true CHECK (onerow),
	version bigint NOT NULL
);
INSERT INTO pgfed.version VALUES (true, 1);

CREATE TABLE pgfed.transaction (
	gid text PRIMARY KEY,
	created timestamptz NOT NULL DEFAULT now()
);
`

// bootstrapSQL creates what is needed to read the schema version. It is
// idempotent and runs under the migration lock.
const bootstrapSQL = `
CREATE SCHEMA IF NOT EXISTS pgfed;
CREATE TABLE IF NOT EXISTS pgfed.schema_version (
	onerow bool PRIMARY KEY DEFAULT true CHECK (onerow),
	version int NOT NULL,
	applied timestamptz NOT NULL DEFAULT now()
);
`

// Init creates the catalog schema in the metadata database, or brings an
// older one up to SchemaVersion. It is idempotent, and safe when several
// coordinators run it at once: everything happens in one transaction that
// first takes a transaction-level advisory lock, so the others wait and
// then find the work done. It fails with ErrSchemaTooNew (SQLSTATE 55000)
// when the database was migrated by a newer pgfed.
func (s *Store) Init(ctx context.Context) error {
	from := SchemaVersion
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockKey); err != nil {
				return fmt.Errorf("catalog schema: take the migration lock: %w", err)
			}
			v, err := schemaVersion(ctx, tx)
			if err != nil {
				return err
			}
			if v > SchemaVersion {
				return newError(pgerrcode.ObjectNotInPrerequisiteState, ErrSchemaTooNew,
					"the metadata database has catalog schema version %d, this pgfed knows up to %d", v, SchemaVersion)
			}
			if v == SchemaVersion {
				return nil // nothing to do: no DDL, so no CREATE privilege needed
			}
			from = v
			if _, err := tx.Exec(ctx, bootstrapSQL); err != nil {
				return fmt.Errorf("catalog schema: create schema %s: %w", SchemaName, err)
			}
			for i := v; i < SchemaVersion; i++ {
				if _, err := tx.Exec(ctx, migrations[i].sql); err != nil {
					return fmt.Errorf("catalog schema: migrate to version %d (%s): %w", i+1, migrations[i].what, err)
				}
			}
			_, err = tx.Exec(ctx, `INSERT INTO pgfed.schema_version (version) VALUES ($1)
				ON CONFLICT (onerow) DO UPDATE SET version = excluded.version, applied = now()`, SchemaVersion)
			if err != nil {
				return fmt.Errorf("catalog schema: record version %d: %w", SchemaVersion, err)
			}
			return nil
		})
	})
	if err == nil && from < SchemaVersion {
		s.log.Info("catalog schema migrated", "from", from, "to", SchemaVersion)
	}
	return err
}

// schemaVersion returns the catalog schema version recorded in the
// database, 0 when there is none yet.
func schemaVersion(ctx context.Context, tx pgx.Tx) (int, error) {
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass('pgfed.schema_version') IS NOT NULL").Scan(&exists); err != nil {
		return 0, fmt.Errorf("catalog schema: look for pgfed.schema_version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v int
	err := tx.QueryRow(ctx, "SELECT version FROM pgfed.schema_version").Scan(&v)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("catalog schema: read its version: %w", err)
	}
	return v, nil
}
