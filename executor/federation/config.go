package federation

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/consensus/transport"
)

// Worker is one of the organization's PostgreSQL workers, named as the
// commit requests name it (Part.Worker, compared exactly).
type Worker struct {
	// Name is the worker's name in requests.
	Name string
	// Host, Port, User and Database say where to connect (the password,
	// if any, comes from PGPASSWORD or ~/.pgpass as for libpq).
	Host     string
	Port     int
	User     string
	Database string
}

// ConnString is the worker's libpq URL.
func (w Worker) ConnString() string {
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(w.Host, strconv.Itoa(w.Port)), Path: "/" + w.Database}
	if w.User != "" {
		u.User = url.User(w.User)
	}
	q := url.Values{}
	q.Set("application_name", "pgfed-validator")
	q.Set("connect_timeout", "5")
	u.RawQuery = q.Encode()
	return u.String()
}

// Config configures an App: the federated commit run by one organization's
// validator.
type Config struct {
	// Membership is the federation (shared by every validator).
	Membership *commit.Membership
	// Key is the validator's private key (the same as the SCP key); its
	// public key must be one of its organization's validators.
	Key ed25519.PrivateKey
	// Workers are the organization's workers.
	Workers []Worker
	// DataDir holds the durable state (StateFile): the Participant's state,
	// the last slot applied and the vetoed gids. It may be the validator's
	// data folder.
	DataDir string

	// Timeout is the commit timeout in ticks: a request whose parts of
	// this organization are not all prepared that many ticks after it was
	// learned gets the organization's ABORT vote.
	Timeout uint64
	// OrphanTimeout, in ticks, rolls back a prepared part whose gid starts
	// with OrphanPrefix and that no request names (its coordinator died
	// before submitting it) after that many ticks, vetoing the gid for
	// good (0: never). It is refused for organizations of several
	// validators (see doc.go, "Orphans") and must only be used when every
	// prepared transaction with that prefix on the workers is federated.
	OrphanTimeout uint64
	// OrphanPrefix is the gid prefix orphans are looked for under
	// (default GIDPrefix).
	OrphanPrefix string

	// GossipListener, or GossipListen, is where the other validators'
	// federation links connect; GossipPeers are those validators (their
	// keys and federation addresses, see transport.Peer).
	GossipListener net.Listener
	GossipListen   string
	GossipPeers    []transport.Peer
	// ClientListener, or ClientListen, is where coordinators submit
	// requests (Client); both empty: no client server.
	ClientListener net.Listener
	ClientListen   string

	// TickInterval is the length of a tick (default 100ms).
	TickInterval time.Duration
	// RebroadcastInterval is the period of rebroadcasting pending requests
	// and own votes (default 1s).
	RebroadcastInterval time.Duration
	// SweepInterval is the period of sweeping the workers' prepared
	// transactions with Ledger.Resolve (default 2s).
	SweepInterval time.Duration
	// QueryTimeout bounds one statement on a worker (default 10s).
	QueryTimeout time.Duration
	// Logger (nil: no logging).
	Logger hclog.Logger
}

func (c *Config) validate() (string, error) {
	if c.Membership == nil {
		return "", errors.New("federation: Config.Membership is required")
	}
	if len(c.Key) != ed25519.PrivateKeySize {
		return "", errors.New("federation: Config.Key is not an Ed25519 private key")
	}
	org, ok := c.Membership.OrgOf(transport.NodeID(c.Key))
	if !ok {
		return "", fmt.Errorf("federation: key %s is no member's validator", transport.NodeID(c.Key))
	}
	if c.DataDir == "" {
		return "", errors.New("federation: Config.DataDir is required")
	}
	if c.Timeout == 0 {
		return "", errors.New("federation: Config.Timeout must be at least 1 tick")
	}
	if c.GossipListener == nil && c.GossipListen == "" {
		return "", errors.New("federation: Config.GossipListener or GossipListen is required")
	}
	seen := map[string]bool{}
	for _, w := range c.Workers {
		if w.Name == "" || seen[w.Name] {
			return "", fmt.Errorf("federation: org %s: worker name %q empty or repeated", org, w.Name)
		}
		seen[w.Name] = true
	}
	if c.OrphanTimeout > 0 && len(c.Membership.Validators(org)) > 1 {
		return "", fmt.Errorf("federation: org %s: OrphanTimeout needs a one-validator organization", org)
	}
	if c.OrphanPrefix == "" {
		c.OrphanPrefix = GIDPrefix
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.TickInterval, 100*time.Millisecond)
	def(&c.RebroadcastInterval, time.Second)
	def(&c.SweepInterval, 2*time.Second)
	def(&c.QueryTimeout, 10*time.Second)
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	return org, nil
}
