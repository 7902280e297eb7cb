package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Gatekeeper is the organization's validator as the gateway asks it
// (federation.App implements it).
type Gatekeeper interface {
	// Org is the organization's name.
	Org() string
	// CheckPrepare returns nil when a coordinator may run PREPARE
	// TRANSACTION partGID on worker, waiting up to wait for the validator
	// to learn the request.
	CheckPrepare(ctx context.Context, worker, partGID string, wait time.Duration) error
}

// Route is one fronted worker: where the gateway listens for it and where
// the worker is.
type Route struct {
	// Listener, or Listen, is where coordinators connect for this worker.
	Listener net.Listener
	Listen   string
	// Worker is the worker's name in commit requests (federation.Worker's
	// Name; by convention the gateway's own listen address, the node
	// address the coordinators' catalog knows).
	Worker string
	// Addr is the real worker's host:port.
	Addr string
}

// Config configures a Gateway.
type Config struct {
	// Routes are the fronted workers, at least one.
	Routes []Route
	// Keeper checks PREPARE TRANSACTION (required).
	Keeper Gatekeeper
	// AllowedTables restricts the tables statements may name (see
	// tables.go); empty: all.
	AllowedTables []string
	// PrepareWait bounds the wait for the validator to learn the request of
	// a PREPARE TRANSACTION (default 2s).
	PrepareWait time.Duration
	// DialTimeout bounds connecting to a worker (default 5s).
	DialTimeout time.Duration
	// MaxStatement bounds the Query and Parse messages the gateway reads
	// whole to inspect them (default 64 MiB); others are streamed.
	MaxStatement int
	// Logger (nil: no logging).
	Logger hclog.Logger
}

func (c *Config) validate() error {
	if len(c.Routes) == 0 {
		return errors.New("gateway: Config.Routes is empty")
	}
	if c.Keeper == nil {
		return errors.New("gateway: Config.Keeper is required")
	}
	seen := map[string]bool{}
	for i, r := range c.Routes {
		switch {
		case r.Listener == nil && r.Listen == "":
			return fmt.Errorf("gateway: route %d: Listener or Listen is required", i)
		case r.Worker == "" || seen[r.Worker]:
			return fmt.Errorf("gateway: route %d: worker name %q empty or repeated", i, r.Worker)
		case r.Addr == "":
			return fmt.Errorf("gateway: route %d (worker %s): Addr is required", i, r.Worker)
		}
		seen[r.Worker] = true
	}
	if c.PrepareWait <= 0 {
		c.PrepareWait = 2 * time.Second
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.MaxStatement <= 0 {
		c.MaxStatement = 64 << 20
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	return nil
}
