package validator

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/ledger"
	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
)

// Decision is an externalized slot, delivered in slot order.
type Decision struct {
	Slot  uint64
	Value consensus.Value
}

// ErrClosed is returned by calls on a closed Validator.
var ErrClosed = errors.New("validator: closed")

// Validator is a running validator: the SCP node, its ledger and its links
// to the peers. See the package documentation for its main loop.
type Validator struct {
	cfg     Config
	id      quorum.NodeID
	network consensus.Hash
	log     hclog.Logger
	qset    quorum.QSet // normalized

	led  *ledger.Ledger
	tr   *transport.Transport
	node *consensus.Node // owned by the loop goroutine

	submit chan []byte
	nudge  chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	err    error // why the loop stopped, set before done is closed

	closeOnce sync.Once
	closeErr  error

	last      atomic.Uint64
	poolSize  atomic.Int64
	invariant atomic.Pointer[error]
	stats     atomicStats
	mu        sync.Mutex // guards evidence copies for Evidence()
	evid      []Evidence

	loop loopState // owned by the loop goroutine
}

// Start opens the data folder, restores the node's own envelopes, starts
// the transport and the main loop, and returns. The validator runs until
// ctx is done or Close is called.
func Start(ctx context.Context, cfg Config) (*Validator, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	v := &Validator{cfg: cfg, id: transport.NodeID(cfg.Key), network: NetworkID(cfg.Network),
		submit: make(chan []byte, 256), nudge: make(chan struct{}, 1), done: make(chan struct{})}
	v.qset = quorum.Normalize(&cfg.QSet, nil)
	v.log = cfg.Logger.Named("validator").With("node", v.id.String())

	led, err := ledger.Open(cfg.DataDir, ledger.Options{Network: v.network, Node: v.id, NoSync: cfg.NoSync})
	if err != nil {
		return nil, fmt.Errorf("validator: %w", err)
	}
	v.led = led
	if n := led.Torn(ledger.LedgerFile) + led.Torn(ledger.EnvelopesFile); n > 0 {
		v.log.Warn("recovered from a torn write", "bytes", n)
	}
	// The core counts MaxSlotsAhead from the highest slot it externalized
	// itself, which slots adopted by catch-up do not advance; the guard
	// enforces the window from the ledger instead.
	node, err := consensus.NewNode(consensus.Config{
		ID: v.id, QSet: cfg.QSet, UnsafeQuorum: cfg.UnsafeQuorum, Driver: cfg.Driver, Logger: v.log,
		NominationTimeout: cfg.NominationTimeout, NominationTimeoutIncrement: cfg.NominationTimeout,
		BallotTimeout: cfg.BallotTimeout, BallotTimeoutIncrement: cfg.BallotTimeout,
		MaxSlotsAhead: 1 << 62,
	})
	if err != nil {
		led.Close()
		return nil, fmt.Errorf("validator: %w", err)
	}
	v.node = node
	last := led.Last()
	if last > 1 {
		node.Purge(last - 1)
	}
	if err := node.Restore(led.Envelopes()); err != nil {
		led.Close()
		return nil, fmt.Errorf("validator: restore from %s: %w", cfg.DataDir, err)
	}
	v.last.Store(last)
	v.initLoop(last, led.LastValue())

	ctx, v.cancel = context.WithCancel(ctx)
	tr, err := transport.Start(ctx, transport.Config{
		Key: cfg.Key, Network: v.network, Listener: cfg.Listener, ListenAddr: cfg.ListenAddr, Peers: cfg.Peers,
		Hello: v.qset.Encode(), MaxFrameSize: cfg.MaxFrameSize, QueueSize: cfg.SendQueue, Rand: cfg.Rand, Dial: cfg.Dial, Logger: cfg.Logger,
	})
	if err != nil {
		v.cancel()
		led.Close()
		return nil, fmt.Errorf("validator: %w", err)
	}
	v.tr = tr
	for _, id := range qsetNodes(&v.qset) {
		if id != v.id && !v.isPeer(id) {
			v.log.Warn("quorum set names a validator that is not a peer: its statements arrive only relayed", "peer", id.Strkey())
		}
	}
	v.log.Info("validator started", "slot", last, "listen", tr.Addr().String(), "peers", len(cfg.Peers))
	go v.run(ctx)
	return v, nil
}

// ID is the node id (public key).
func (v *Validator) ID() quorum.NodeID { return v.id }

// Addr is where the validator listens for peers.
func (v *Validator) Addr() string { return v.tr.Addr().String() }

// Last is the highest slot in the ledger.
func (v *Validator) Last() uint64 { return v.last.Load() }

// Ledger gives read access to the ledger (Get, Records) while the
// validator runs; only the validator appends.
func (v *Validator) Ledger() *ledger.Ledger { return v.led }

// Done is closed when the main loop has stopped (Close, ctx, or a fatal
// storage error reported by Err).
func (v *Validator) Done() <-chan struct{} { return v.done }

// Err is the fatal error that stopped the loop, if any (after Done).
func (v *Validator) Err() error {
	select {
	case <-v.done:
		return v.err
	default:
		return nil
	}
}

// MaxPool bounds the submitted items waiting for a slot.
const MaxPool = 100000

// ErrPoolFull is returned by Submit when MaxPool items are waiting.
var ErrPoolFull = errors.New("validator: too many items waiting for a slot")

// Submit queues an item for a future slot (default Driver only). Items are
// kept in memory until a slot that contains them externalizes; they are
// not durable: after a restart the application submits again what it has
// not seen decided.
func (v *Validator) Submit(ctx context.Context, item []byte) error {
	if len(item) > MaxItemSize {
		return fmt.Errorf("validator: item of %d bytes exceeds %d", len(item), MaxItemSize)
	}
	if v.poolSize.Load() >= MaxPool {
		return ErrPoolFull
	}
	select {
	case v.submit <- append([]byte(nil), item...):
		return nil
	case <-v.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Nudge tells the validator that Config.Propose may have something new to
// propose: the next slot starts now if none is running (once the close
// pause, if any, is over), and a node that joined the running slot with
// nothing to propose (a peer started it first) nominates its value now
// instead of at its next nomination round. Nudges that arrive while one is
// pending are merged; Nudge never blocks and may be called from any
// goroutine (OnDecision included).
func (v *Validator) Nudge() {
	select {
	case v.nudge <- struct{}{}:
	default:
	}
}

// Close stops the loop and the transport, waits for every goroutine, and
// closes the ledger. It returns the loop's fatal error, if any.
func (v *Validator) Close() error {
	v.closeOnce.Do(func() {
		v.cancel()
		<-v.done
		terr := v.tr.Close()
		lerr := v.led.Close()
		v.closeErr = errors.Join(v.err, terr, lerr)
		v.log.Info("validator stopped", "slot", v.last.Load())
	})
	return v.closeErr
}

// Invariant returns the first broken invariant the consensus core reported
// (nil if none): the core then stops emitting for the affected slot, so
// monitoring should alert on it.
func (v *Validator) Invariant() error {
	if p := v.invariant.Load(); p != nil {
		return *p
	}
	return nil
}

// Evidence returns the equivocations recorded so far (at most 64).
func (v *Validator) Evidence() []Evidence {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]Evidence(nil), v.evid...)
}

// Stats counts what the validator saw and did.
type Stats struct {
	// Slot is the highest slot in the ledger.
	Slot uint64
	// Envelope admission (see the guard): Received from the network,
	// Accepted into the core, and rejected or dropped by cause.
	Received, Accepted, Malformed, Unsigned, BadSignature, UnknownSigner uint64
	Duplicate, Replayed, Equivocations, OutOfWindow                      uint64
	// Sent counts own envelopes broadcast from Ready; Rebroadcast those
	// sent again periodically or in answer to a state request.
	Sent, Rebroadcast uint64
	// CatchUp counts ledger records adopted from peers; BadRecords those
	// refused (bad proof); Forks decisions that differ from the ledger
	// (must stay 0: it means the network's quorums do not intersect).
	CatchUp, BadRecords, Forks uint64
	// Transport is the transport's counters.
	Transport transport.Stats
}

type atomicStats struct {
	received, accepted, malformed, unsigned, badSignature, unknownSigner atomic.Uint64
	duplicate, replayed, equivocations, outOfWindow                      atomic.Uint64
	sent, rebroadcast, catchUp, badRecords, forks                        atomic.Uint64
}

// Stats returns the counters.
func (v *Validator) Stats() Stats {
	s := &v.stats
	return Stats{
		Slot: v.last.Load(), Received: s.received.Load(), Accepted: s.accepted.Load(), Malformed: s.malformed.Load(),
		Unsigned: s.unsigned.Load(), BadSignature: s.badSignature.Load(), UnknownSigner: s.unknownSigner.Load(),
		Duplicate: s.duplicate.Load(), Replayed: s.replayed.Load(), Equivocations: s.equivocations.Load(),
		OutOfWindow: s.outOfWindow.Load(), Sent: s.sent.Load(), Rebroadcast: s.rebroadcast.Load(),
		CatchUp: s.catchUp.Load(), BadRecords: s.badRecords.Load(), Forks: s.forks.Load(), Transport: v.tr.Stats(),
	}
}

// publishGuard copies the guard's counters to the atomic stats.
func (v *Validator) publishGuard(g *guard) {
	s, c := &v.stats, &g.c
	s.received.Store(c.received)
	s.accepted.Store(c.accepted)
	s.malformed.Store(c.malformed)
	s.unsigned.Store(c.unsigned)
	s.badSignature.Store(c.badSignature)
	s.unknownSigner.Store(c.unknownSigner)
	s.duplicate.Store(c.duplicate)
	s.replayed.Store(c.replayed)
	s.equivocations.Store(c.equivocations)
	s.outOfWindow.Store(c.outOfWindow)
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Microsecond) }
