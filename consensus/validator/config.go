package validator

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
)

// Config configures a Validator.
type Config struct {
	// Key is the node's Ed25519 private key; its public key is the node id.
	Key ed25519.PrivateKey
	// Network names the network (NetworkID hashes it).
	Network string
	// QSet is the node's quorum set (it should list the node itself).
	QSet quorum.QSet
	// UnsafeQuorum allows thresholds of half the entries or fewer.
	UnsafeQuorum bool
	// Peers are the validators to connect to (only they are accepted).
	Peers []transport.Peer
	// Listener, or ListenAddr, is where peers connect.
	Listener   net.Listener
	ListenAddr string
	// DataDir holds the ledger and the node's own envelopes.
	DataDir string
	// NoSync skips fsync (benchmarks only).
	NoSync bool

	// Driver validates and combines values (default ItemDriver).
	Driver consensus.Driver
	// Propose returns the value to nominate for slot, or nil when the
	// application has nothing to propose. With the default Driver and no
	// Propose, the validator proposes the items given to Submit.
	Propose func(slot uint64) consensus.Value
	// OnDecision is called on the validator's goroutine for every slot, in
	// slot order, once its record is durable in the ledger. It must not
	// block for long nor call back into the Validator synchronously.
	OnDecision func(Decision)

	// TickInterval is the length of a consensus tick (default 10ms);
	// NominationTimeout and BallotTimeout are in ticks (default 10 and 20:
	// 100ms and 200ms, growing by the same amount per round). The defaults
	// suit validators on one machine or a LAN, where a slot takes a few
	// milliseconds and a nomination round that fails (the nodes elected
	// leaders whose values differ) should cost little; over a WAN, give
	// the timeouts a few round trips (stellar-core uses 1s for both).
	TickInterval                     time.Duration
	NominationTimeout, BallotTimeout uint64
	// CloseDelay is how long to wait after a slot externalizes before
	// nominating the next one (0 or negative: no pause, the default): a
	// ledger-close pause that lets submissions accumulate into one slot.
	// Without it, what arrives while a slot runs is batched into the next
	// one anyway, which starts as soon as the previous one is delivered
	// (OnDecision) and there is something to propose (see Nudge).
	CloseDelay time.Duration
	// RebroadcastInterval is the period of rebroadcasting the current state
	// (default 1.5s).
	RebroadcastInterval time.Duration
	// MaxSlotsAhead is how far beyond the ledger a peer's statement may be
	// (default 100).
	MaxSlotsAhead uint64
	// SendQueue bounds each peer's send queue in frames (default 1024;
	// the oldest are dropped when full, see transport.Config.QueueSize).
	SendQueue int
	// MaxFrameSize bounds transport frames (default
	// transport.DefaultMaxFrameSize).
	MaxFrameSize int
	// Rand is the source of nonces and jitter (default crypto/rand.Reader).
	Rand io.Reader
	// Dial overrides how peers are dialed (tests).
	Dial transport.DialFunc
	// Logger (nil: no logging).
	Logger hclog.Logger
}

func (c *Config) validate() error {
	if len(c.Key) != ed25519.PrivateKeySize {
		return errors.New("validator: Config.Key is not an Ed25519 private key")
	}
	if c.Network == "" {
		return errors.New("validator: Config.Network is required")
	}
	if c.DataDir == "" {
		return errors.New("validator: Config.DataDir is required")
	}
	if err := c.QSet.Sane(!c.UnsafeQuorum); err != nil {
		return fmt.Errorf("validator: quorum set: %w", err)
	}
	if c.Driver == nil {
		c.Driver = ItemDriver{}
	}
	if _, ok := c.Driver.(ItemDriver); !ok && c.Propose == nil {
		return errors.New("validator: a custom Driver needs Config.Propose")
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.TickInterval, 10*time.Millisecond)
	if c.NominationTimeout == 0 {
		c.NominationTimeout = 10
	}
	if c.BallotTimeout == 0 {
		c.BallotTimeout = 20
	}
	if c.CloseDelay < 0 {
		c.CloseDelay = 0
	}
	def(&c.RebroadcastInterval, 1500*time.Millisecond)
	if c.MaxSlotsAhead == 0 {
		c.MaxSlotsAhead = 100
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	return nil
}
