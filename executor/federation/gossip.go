package federation

import (
	"context"
	"encoding/binary"

	"github.com/hashicorp/go-hclog"

	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
)

// Frame kinds of the federation links (a transport of their own, next to
// the SCP one: see doc.go, "Dissemination").
const (
	// kindRequest carries one signed commit.Request (Request.Encode).
	kindRequest transport.Kind = 32
	// kindVote carries one signed commit.Vote (Vote.Encode).
	kindVote transport.Kind = 33
	// kindApplied carries the u64 last slot the sender applied to its
	// organization's workers (the link authenticates the sender).
	kindApplied transport.Kind = 34
)

// maxGossipFrame bounds a federation frame: a request with every limit
// reached is under 1 MiB.
const maxGossipFrame = 1 << 20

// inbound is a verified request, vote or applied slot (or, with none, the
// news that a peer connected).
type inbound struct {
	from      quorum.NodeID
	req       *commit.Request
	vote      *commit.Vote
	applied   uint64
	connected bool
}

// gossip receives the federation frames of the other validators, decodes
// and verifies them (signatures and membership, via commit) off the loop,
// and hands what passes to the App (handle) on its own goroutine; only the
// news of a connected peer goes to the loop, dropped when the loop is
// behind (the peers rebroadcast until the gid is final anyway).
type gossip struct {
	tr  *transport.Transport
	m   *commit.Membership
	log hclog.Logger
	// handle takes a verified request, vote or applied slot (App.receive,
	// on this goroutine); out carries the news of a connected peer to the
	// loop (which resends it what it needs).
	handle func(inbound)
	out    chan inbound
}

// maxInbound bounds the connection news waiting for the loop.
const maxInbound = 4096

// run reads the transport until ctx is done or it closes. It is owned by
// the App, which waits for it.
func (g *gossip) run(ctx context.Context) {
	for {
		var m transport.Message
		var ok bool
		select {
		case <-ctx.Done():
			return
		case m, ok = <-g.tr.Inbound():
			if !ok {
				return
			}
		}
		var in inbound
		switch m.Kind {
		case transport.KindConnected:
			in = inbound{from: m.From, connected: true}
		case kindRequest:
			r, err := commit.DecodeRequest(m.Payload)
			if err == nil {
				err = g.m.CheckRequest(&r)
			}
			if err != nil {
				g.log.Warn("request refused", "peer", m.From.String(), "err", err)
				continue
			}
			in = inbound{from: m.From, req: &r}
		case kindVote:
			v, err := commit.DecodeVote(m.Payload)
			if err == nil {
				err = g.m.CheckVote(&v)
			}
			if err != nil {
				g.log.Warn("vote refused", "peer", m.From.String(), "err", err)
				continue
			}
			in = inbound{from: m.From, vote: &v}
		case kindApplied:
			if len(m.Payload) != 8 || binary.BigEndian.Uint64(m.Payload) == 0 {
				g.log.Warn("bad applied frame", "peer", m.From.String())
				continue
			}
			in = inbound{from: m.From, applied: binary.BigEndian.Uint64(m.Payload)}
		default:
			g.log.Debug("ignoring frame", "peer", m.From.String(), "kind", m.Kind.String())
			continue
		}
		if !in.connected {
			g.handle(in)
			continue
		}
		select {
		case g.out <- in:
		default:
			g.log.Debug("loop behind, dropping a peer's connection news", "peer", m.From.String())
		}
	}
}

func (g *gossip) broadcastRequest(r *commit.Request) {
	if err := g.tr.Broadcast(kindRequest, r.Encode()); err != nil {
		g.log.Debug("broadcast request failed", "gid", r.GID, "err", err)
	}
}

func (g *gossip) broadcastVote(v *commit.Vote) {
	if err := g.tr.Broadcast(kindVote, v.Encode()); err != nil {
		g.log.Debug("broadcast vote failed", "gid", v.GID, "err", err)
	}
}

func (g *gossip) sendRequest(to quorum.NodeID, r *commit.Request) {
	_ = g.tr.Send(to, kindRequest, r.Encode())
}

func (g *gossip) sendVote(to quorum.NodeID, v *commit.Vote) {
	_ = g.tr.Send(to, kindVote, v.Encode())
}

func (g *gossip) broadcastApplied(slot uint64) {
	_ = g.tr.Broadcast(kindApplied, binary.BigEndian.AppendUint64(nil, slot))
}

func (g *gossip) sendApplied(to quorum.NodeID, slot uint64) {
	_ = g.tr.Send(to, kindApplied, binary.BigEndian.AppendUint64(nil, slot))
}
