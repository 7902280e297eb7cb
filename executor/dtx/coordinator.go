package dtx

import (
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Coordinator defaults.
const (
	// DefaultDecisionTimeout bounds how long the metadata transaction that
	// holds a commit decision may sit idle (waiting for workers to
	// prepare) before the metadata database aborts it.
	DefaultDecisionTimeout = time.Minute
	// DefaultProbeTimeout is how long recovery waits on the decision row
	// of a transaction whose coordinator is still deciding before it
	// leaves that transaction for a later round.
	DefaultProbeTimeout = 200 * time.Millisecond
	// DefaultCommitTimeout bounds the steps after the commit point
	// (COMMIT PREPARED on every worker), which run even when the
	// client's context is cancelled.
	DefaultCommitTimeout = 10 * time.Second
)

// Config configures a Coordinator.
type Config struct {
	// ID names this coordinator in gids: 1 to 40 letters, digits or
	// hyphens. Coordinators sharing a metadata database should have
	// distinct ids (for readable gids; correctness does not depend on it,
	// see TxID). Required.
	ID string
	// Workers are the pools of worker connections. Required.
	Workers *Pools
	// Metadata is the pool of connections to the metadata database,
	// which holds the decision table pgfed.transaction. Required.
	Metadata *Pool
	// DecisionTimeout: see DefaultDecisionTimeout.
	DecisionTimeout time.Duration
	// ProbeTimeout: see DefaultProbeTimeout.
	ProbeTimeout time.Duration
	// CommitTimeout: see DefaultCommitTimeout.
	CommitTimeout time.Duration
	// Federation, when set, has the organizations' validators decide the
	// transactions that write on several workers, one of them an
	// organization's (federated.go). nil: every such transaction uses
	// the metadata database's two-phase commit.
	Federation *Federation
	// Logger receives the coordinator's log; nil means none.
	Logger hclog.Logger
}

// validate checks cfg and fills in defaults.
func (cfg *Config) validate() error {
	if err := validCoordinatorID(cfg.ID); err != nil {
		return err
	}
	if cfg.Workers == nil || cfg.Metadata == nil {
		return fmt.Errorf("dtx: Config.Workers and Config.Metadata are required")
	}
	if cfg.DecisionTimeout <= 0 {
		cfg.DecisionTimeout = DefaultDecisionTimeout
	}
	if cfg.ProbeTimeout <= 0 {
		cfg.ProbeTimeout = DefaultProbeTimeout
	}
	if cfg.CommitTimeout <= 0 {
		cfg.CommitTimeout = DefaultCommitTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Federation != nil {
		f := *cfg.Federation
		if err := f.validate(); err != nil {
			return err
		}
		cfg.Federation = &f
	}
	return nil
}

// Coordinator runs the distributed transactions of one pgfed process: it
// begins them, commits them (1PC or 2PC), recovers those left in doubt and
// detects deadlocks among them. It is safe for concurrent use.
type Coordinator struct {
	cfg Config
	log hclog.Logger
	ids *txIDSource

	mu     sync.Mutex
	active map[*Txn]struct{} // transactions begun and not ended
}

// New returns a Coordinator.
func New(cfg Config) (*Coordinator, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ids, err := newTxIDSource()
	if err != nil {
		return nil, err
	}
	return &Coordinator{
		cfg:    cfg,
		log:    cfg.Logger.Named("dtx"),
		ids:    ids,
		active: make(map[*Txn]struct{}),
	}, nil
}

// ID returns the coordinator id.
func (c *Coordinator) ID() string { return c.cfg.ID }

// Begin starts a distributed transaction for a client session. Nothing is
// sent yet: each worker gets its BEGIN when the transaction first uses it.
func (c *Coordinator) Begin(s *Session, opts TxnOptions) *Txn {
	id := c.ids.next()
	t := &Txn{
		coord:   c,
		session: s,
		id:      id,
		opts:    opts,
		log:     c.log.With("txn", id.String()),
		started: time.Now(),
	}
	c.mu.Lock()
	c.active[t] = struct{}{}
	c.mu.Unlock()
	return t
}

// forget drops an ended transaction from the active set.
func (c *Coordinator) forget(t *Txn) {
	c.mu.Lock()
	delete(c.active, t)
	c.mu.Unlock()
}

// activeTxns returns the transactions in progress.
func (c *Coordinator) activeTxns() []*Txn {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := make([]*Txn, 0, len(c.active))
	for t := range c.active {
		ts = append(ts, t)
	}
	return ts
}
