package federation

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/consensus/quorum"
)

// Endpoint is a validator's client address and the key that signs its
// answers.
type Endpoint struct {
	// Addr is the validator's client address (federation.Config.ClientListen).
	Addr string
	// Key is the validator's public key: answers signed by another key are
	// refused.
	Key quorum.NodeID
}

// ClientConfig configures a Client.
type ClientConfig struct {
	// Membership is the federation: requests are checked against it before
	// they are sent.
	Membership *commit.Membership
	// Validators are tried in order, the organization's own first; any
	// validator of the federation will do.
	Validators []Endpoint
	// Retry is the pause between attempts (default 200ms).
	Retry time.Duration
	// Logger (nil: no logging).
	Logger hclog.Logger
}

// Client submits coordinators' signed requests to validators and waits for
// the final decisions. It is safe for concurrent use.
type Client struct {
	cfg ClientConfig
	log hclog.Logger
}

// ErrRejected: the validator refused the request (its message says why);
// submitting it again will not help.
var ErrRejected = errors.New("federation: request rejected")

// NewClient checks cfg.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.Membership == nil || len(cfg.Validators) == 0 {
		return nil, errors.New("federation: ClientConfig needs Membership and Validators")
	}
	if cfg.Retry <= 0 {
		cfg.Retry = 200 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	return &Client{cfg: cfg, log: cfg.Logger.Named("federation-client")}, nil
}

// ErrNotApplied: the transaction is final as COMMIT, but ctx ended before
// every participant reported it applied (it will be: only visibility is
// late).
var ErrNotApplied = errors.New("federation: committed, not yet applied by every participant")

// Commit submits the signed request r and waits until its gid is final
// and, for a COMMIT, applied by every participant organization (so the
// caller's client sees its writes everywhere): it returns the decision
// (COMMIT or ABORT, with the slot) as signed by a validator. It goes on
// trying the validators in turn, again and again, until ctx is done
// (submitting a request twice is harmless). A request the membership
// refuses fails at once with commit.ErrRequest, and one a validator
// rejects with ErrRejected. If ctx ends after the COMMIT was final but
// before it was applied everywhere, Commit returns that Outcome (Applied
// false) with an error wrapping ErrNotApplied: the transaction is
// committed. An Outcome whose Request differs from r.Hash() means another
// request for the gid was decided.
func (c *Client) Commit(ctx context.Context, r commit.Request) (Outcome, error) {
	if err := c.cfg.Membership.CheckRequest(&r); err != nil {
		return Outcome{}, err
	}
	payload := r.Encode()
	var final *Outcome
	done := func() (Outcome, error) {
		if final != nil {
			return *final, fmt.Errorf("%w: gid %s slot %d: %w", ErrNotApplied, r.GID, final.Slot, ctx.Err())
		}
		return Outcome{}, fmt.Errorf("federation: gid %s: waiting for the decision: %w", r.GID, ctx.Err())
	}
	for i := 0; ; i++ {
		ep := c.cfg.Validators[i%len(c.cfg.Validators)]
		o, err := c.once(ctx, ep, payload, func(o Outcome) { final = &o })
		switch {
		case err == nil:
			return o, nil
		case errors.Is(err, ErrRejected):
			return Outcome{}, fmt.Errorf("gid %s: %w", r.GID, err)
		case ctx.Err() != nil:
			return done()
		}
		c.log.Debug("validator unavailable, retrying", "gid", r.GID, "addr", ep.Addr, "err", err)
		select {
		case <-ctx.Done():
			return done()
		case <-time.After(c.cfg.Retry):
		}
	}
}

// Submit hands the signed request r to a validator (trying them in turn
// until ctx is done) and returns once one has learned and broadcast it,
// without waiting for the decision. A coordinator submits before it sends
// PREPARE TRANSACTION (consensus/commit's doc), then waits with Commit.
func (c *Client) Submit(ctx context.Context, r commit.Request) error {
	if err := c.cfg.Membership.CheckRequest(&r); err != nil {
		return err
	}
	payload := r.Encode()
	for i := 0; ; i++ {
		ep := c.cfg.Validators[i%len(c.cfg.Validators)]
		_, err := c.once(ctx, ep, payload, nil)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, ErrRejected):
			return fmt.Errorf("gid %s: %w", r.GID, err)
		case ctx.Err() != nil:
			return fmt.Errorf("federation: gid %s: submitting: %w", r.GID, ctx.Err())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("federation: gid %s: submitting: %w", r.GID, ctx.Err())
		case <-time.After(c.cfg.Retry):
		}
	}
}

// once submits to one validator and reads its answers: final is called
// with a COMMIT not yet applied everywhere, and once returns with the
// outcome that needs no further wait; with final nil (Submit) it returns
// as soon as the request is accepted.
func (c *Client) once(ctx context.Context, ep Endpoint, payload []byte, final func(Outcome)) (Outcome, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", ep.Addr)
	if err != nil {
		return Outcome{}, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	nonce := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		return Outcome{}, err
	}
	if err := writeFrame(conn, frameSubmit, append(nonce, payload...)); err != nil {
		return Outcome{}, err
	}
	br := bufio.NewReader(conn)
	for {
		kind, body, err := readFrame(br)
		if err != nil {
			return Outcome{}, err
		}
		switch kind {
		case frameOutcome:
			o, err := decodeOutcome(c.cfg.Membership.Network(), nonce, body)
			if err != nil {
				return Outcome{}, err
			}
			if o.Validator != ep.Key {
				return Outcome{}, fmt.Errorf("%w: signed by %s, expected %s", ErrBadOutcome, o.Validator, ep.Key)
			}
			if o.Outcome == commit.Commit && !o.Applied && final != nil {
				final(o)
				continue
			}
			return o, nil
		case frameAccepted:
			if final == nil {
				return Outcome{}, nil
			}
		case frameError:
			return Outcome{}, fmt.Errorf("%w by %s: %s", ErrRejected, ep.Addr, body)
		default:
			return Outcome{}, fmt.Errorf("federation: %s answered frame kind %d", ep.Addr, kind)
		}
	}
}

// ErrNoLedgerQuery: the validator closed the connection on a ledger query
// without answering, as a validator older than the query does.
var ErrNoLedgerQuery = errors.New("federation: the validator does not answer ledger queries")

// Ledger reads a page of the decision ledger of the validator at ep: its
// last slot, last slot applied, ledger digest, and the final decisions of
// up to limit slots (1..MaxLedgerLimit) that hold any, from slot fromSlot
// on — or, with fromSlot 0, of the last limit such slots. A page may end
// early (size bounds); LedgerPage.Next says where to go on. The page is
// signed by ep.Key for a fresh nonce and checked (decodeLedgerPage); a
// query is read-only and makes one attempt, bounded by ctx.
func (c *Client) Ledger(ctx context.Context, ep Endpoint, fromSlot uint64, limit int) (LedgerPage, error) {
	if limit < 1 || limit > MaxLedgerLimit {
		return LedgerPage{}, fmt.Errorf("federation: ledger limit %d: must be 1 to %d", limit, MaxLedgerLimit)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", ep.Addr)
	if err != nil {
		return LedgerPage{}, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	nonce := make([]byte, 32, 32+8+4)
	if _, err := rand.Read(nonce); err != nil {
		return LedgerPage{}, err
	}
	q := binary.BigEndian.AppendUint64(nonce, fromSlot)
	q = binary.BigEndian.AppendUint32(q, uint32(limit))
	if err := writeFrame(conn, frameLedger, q); err != nil {
		return LedgerPage{}, err
	}
	kind, body, err := readFrame(bufio.NewReader(conn))
	switch {
	case errors.Is(err, io.EOF) && ctx.Err() == nil:
		return LedgerPage{}, fmt.Errorf("%w (%s)", ErrNoLedgerQuery, ep.Addr)
	case err != nil:
		if ctx.Err() != nil {
			return LedgerPage{}, fmt.Errorf("federation: ledger of %s: %w", ep.Addr, ctx.Err())
		}
		return LedgerPage{}, fmt.Errorf("federation: ledger of %s: %w", ep.Addr, err)
	case kind == frameError:
		return LedgerPage{}, fmt.Errorf("%w by %s: %s", ErrRejected, ep.Addr, body)
	case kind != frameLedgerPage:
		return LedgerPage{}, fmt.Errorf("federation: %s answered frame kind %d", ep.Addr, kind)
	}
	p, err := decodeLedgerPage(c.cfg.Membership.Network(), nonce[:32], body)
	if err != nil {
		return LedgerPage{}, fmt.Errorf("%s: %w", ep.Addr, err)
	}
	switch {
	case p.Validator != ep.Key:
		return LedgerPage{}, fmt.Errorf("%w: signed by %s, expected %s", ErrBadLedgerPage, p.Validator, ep.Key)
	case pageSlots(p.Decisions) > limit:
		return LedgerPage{}, fmt.Errorf("%w: %d slots for a limit of %d", ErrBadLedgerPage, pageSlots(p.Decisions), limit)
	case fromSlot > 0 && len(p.Decisions) > 0 && p.Decisions[0].Slot < fromSlot:
		return LedgerPage{}, fmt.Errorf("%w: slot %d before %d", ErrBadLedgerPage, p.Decisions[0].Slot, fromSlot)
	}
	if org, ok := c.cfg.Membership.OrgOf(p.Validator); !ok || org != p.Org {
		return LedgerPage{}, fmt.Errorf("%w: %s signed as organization %q, a member of %q", ErrBadLedgerPage, p.Validator, p.Org, org)
	}
	return p, nil
}
