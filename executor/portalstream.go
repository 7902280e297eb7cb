package executor

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgfed/pgfed/planner"
	"github.com/pgfed/pgfed/wire"
)

// portalStream is the Portal.State of a distributed read executed with a
// row limit whose rows stream from the workers: its plan runs in a
// goroutine the portal owns, which hands rows over as Executes ask for
// them, so the first rows come before the last are read and only a few
// are held. It applies to reads that run on connections of their own
// (parallelReads: outside a transaction block, with no write of their
// own to see), concatenated or merged in Go; other portals are computed
// in full at their first Execute (distPortal).
//
// The goroutine reads the session's state, so nothing else may run on the
// session while it does: before any other request, the session settles
// its streams (settleStreams), reading the rest of their rows into memory
// within the intermediate-result limits. ClosePortal, the end of the
// transaction and Close stop a stream.
type portalStream struct {
	items  chan streamItem // closed when the plan has run; then tag and err are set
	cancel context.CancelFunc
	tag    string
	err    error
	// rest are the rows read by settle, to hand out before the end.
	rest    [][][]byte
	settled bool
}

// streamItem is a message of the plan for the client: a row (its values
// owned by the item), or a notice.
type streamItem struct {
	row    [][]byte
	notice pgproto3.BackendMessage
}

// streamBuffer is how many rows a stream holds ahead of the Executes.
const streamBuffer = 256

// streamable reports whether a bound plan executed with a row limit can
// stream (see portalStream).
func (s *Session) streamable(pl *planner.Plan, out *output) bool {
	if pl.Kind == planner.KindRouter || pl.Kind == planner.KindCoordinator || len(pl.Subplans) > 0 || pl.Modify || pl.Replicated {
		return false
	}
	switch pl.Merge.Kind {
	case planner.MergeConcat:
	case planner.MergeSort:
		if s.mergeOnMeta(pl, s.taskFormats(pl, out.formats)) {
			return false
		}
	default:
		return false
	}
	return s.parallelReads(pl)
}

// startStream starts the plan of portal p in a goroutine of its own, in
// the statement's distributed (implicit) transaction, and makes the
// portal's state a portalStream.
func (s *Session) startStream(ctx context.Context, st *catalogState, pl *planner.Plan, b *binding, p *wire.Portal) {
	if !s.block && s.txn == nil {
		s.implicit = true
	}
	s.ensureTxn()
	// The stream outlives the Execute that starts it: its context ends
	// when the portal does, not with the statement.
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ps := &portalStream{items: make(chan streamItem, streamBuffer), cancel: cancel}
	out := &output{r: streamResults{ctx: sctx, items: ps.items}, formats: p.ResultFormats}
	go func() {
		defer close(ps.items)
		defer func() {
			// Not the connection's goroutine, where the wire server
			// recovers: a broken invariant fails the portal, not the
			// process.
			if v := recover(); v != nil {
				ps.err = internalError("streaming portal: %v", v)
			}
		}()
		ps.tag, ps.err = s.execPlan(sctx, st, pl, b, out)
	}()
	p.State = ps
	s.streams = append(s.streams, ps)
}

// serveStream sends the next MaxRows rows of a streaming portal, or all of
// them, waiting for them under the session's statement_timeout, then the
// CommandComplete once they are out. suspended reports that rows are left.
func (s *Session) serveStream(ctx context.Context, ps *portalStream, opts wire.ExecuteOptions, r wire.Results) (suspended bool, err error) {
	sctx, stop := s.statementDeadline(ctx)
	defer stop()
	sent := uint32(0)
	for opts.MaxRows == 0 || sent < opts.MaxRows {
		if len(ps.rest) > 0 {
			row := ps.rest[0]
			ps.rest[0] = nil
			ps.rest = ps.rest[1:]
			if err := r.Send(&pgproto3.DataRow{Values: row}); err != nil {
				return false, err
			}
			sent++
			continue
		}
		if ps.settled {
			return false, s.endStream(ctx, ps, r)
		}
		var it streamItem
		var ok bool
		select {
		case it, ok = <-ps.items:
		case <-sctx.Done():
			s.stopStream(ps)
			if s.implicit {
				s.endTxn(ctx, false)
			}
			return false, timeoutError(sctx, sctx.Err())
		}
		if !ok {
			ps.settled = true
			continue
		}
		if it.notice != nil {
			if err := r.Send(it.notice); err != nil {
				return false, err
			}
			continue
		}
		if err := r.Send(&pgproto3.DataRow{Values: it.row}); err != nil {
			return false, err
		}
		sent++
	}
	if len(ps.rest) > 0 {
		return true, nil
	}
	if ps.settled {
		// Every row is out: end now rather than at an Execute to come.
		return false, s.endStream(ctx, ps, r)
	}
	return true, nil
}

// endStream completes a stream whose rows are all out: the plan's error,
// or its CommandComplete.
func (s *Session) endStream(ctx context.Context, ps *portalStream, r wire.Results) error {
	s.forgetStream(ps)
	if ps.err != nil {
		if s.implicit {
			s.endTxn(ctx, false)
		}
		return ps.err
	}
	return r.Send(&pgproto3.CommandComplete{CommandTag: []byte(ps.tag)})
}

// settleStreams lets the session run another request: every stream's
// goroutine but keep's is run to its end, the rest of its rows read into
// memory within the intermediate-result limits (past them the stream
// stops with that error, which its next Execute reports after the rows
// read). Its notices are dropped. When ctx ends (the client is gone), the
// streams are stopped instead.
func (s *Session) settleStreams(ctx context.Context, keep *portalStream) {
	for _, ps := range s.streams {
		if ps.settled || ps == keep {
			continue
		}
		lim := s.newLimiter("portal", planner.MaxIntermediateRowsSetting)
		for _, row := range ps.rest {
			lim.add(row)
		}
		var stopErr error
	read:
		for {
			select {
			case it, ok := <-ps.items:
				if !ok {
					break read
				}
				if it.row == nil || stopErr != nil {
					continue
				}
				if stopErr = lim.add(it.row); stopErr != nil {
					ps.cancel()
					continue
				}
				ps.rest = append(ps.rest, it.row)
			case <-ctx.Done():
				if stopErr == nil {
					stopErr = ctx.Err()
					ps.cancel()
				}
				for range ps.items {
				}
				break read
			}
		}
		// The goroutine has ended: its tag and err are set.
		if stopErr != nil {
			ps.err = stopErr
		}
		ps.settled = true
	}
}

// stopStream ends a stream's goroutine, dropping its rows.
func (s *Session) stopStream(ps *portalStream) {
	ps.cancel()
	for range ps.items {
	}
	ps.settled = true
	ps.rest = nil
	s.forgetStream(ps)
}

// stopStreams stops every stream (the session closes).
func (s *Session) stopStreams() {
	for _, ps := range slices.Clone(s.streams) {
		s.stopStream(ps)
	}
}

// forgetStream removes a stream from the session's list.
func (s *Session) forgetStream(ps *portalStream) {
	ps.cancel()
	if i := slices.Index(s.streams, ps); i >= 0 {
		s.streams = slices.Delete(s.streams, i, i+1)
	}
}

// streamResults is the wire.Results of a stream's goroutine: rows and
// notices go to the portal's channel; the CommandComplete is the plan's
// tag, sent by serveStream.
type streamResults struct {
	ctx   context.Context
	items chan<- streamItem
}

// Send hands a row (copied) or a notice to the portal.
func (r streamResults) Send(msg pgproto3.BackendMessage) error {
	var it streamItem
	switch m := msg.(type) {
	case *pgproto3.DataRow:
		it.row = copyRow(m.Values)
		if it.row == nil {
			it.row = [][]byte{}
		}
	case *pgproto3.NoticeResponse:
		cp := *m
		it.notice = &cp
	default:
		return nil
	}
	select {
	case r.items <- it:
		return nil
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
}

// ReceiveCopy is not used: a stream runs a read.
func (r streamResults) ReceiveCopy() (pgproto3.FrontendMessage, error) {
	return nil, internalError("a streaming portal reads no COPY data")
}
