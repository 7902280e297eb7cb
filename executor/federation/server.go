package federation

import (
	"bufio"
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/pgfed/pgfed/consensus/commit"
)

// maxClients bounds the coordinators' connections served at once.
const maxClients = 4096

// server answers coordinators (see protocol.go): it checks a submitted
// request, hands it to the loop (which learns and broadcasts it), waits
// for its gid to be final, and answers the signed outcome.
type server struct {
	a   *App
	ln  net.Listener
	sem chan struct{}
	wg  sync.WaitGroup
}

// run accepts until the listener is closed; it waits for its handlers.
func (s *server) run(ctx context.Context) {
	defer s.wg.Wait()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				s.a.log.Warn("client listener failed", "err", err)
			}
			return
		}
		select {
		case s.sem <- struct{}{}:
		default:
			writeFrame(conn, frameError, []byte("too many clients"))
			conn.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.sem }()
			s.serve(ctx, conn)
		}()
	}
}

func (s *server) serve(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	r := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	kind, body, err := readFrame(r)
	if err != nil || kind != frameSubmit || len(body) < 32 {
		return
	}
	conn.SetReadDeadline(time.Time{})
	nonce := body[:32]
	req, err := commit.DecodeRequest(body[32:])
	if err == nil {
		err = s.a.cfg.Membership.CheckRequest(&req)
	}
	if err != nil {
		writeFrame(conn, frameError, []byte(err.Error()))
		return
	}
	// The client closing its side ends the wait.
	var rwg sync.WaitGroup
	rwg.Add(1)
	go func() {
		defer rwg.Done()
		var b [1]byte
		r.Read(b[:])
		cancel()
	}()
	defer rwg.Wait()
	defer conn.Close() // unblocks the reader before the wait above
	if err := s.a.submitRequest(ctx, req); err != nil {
		writeFrame(conn, frameError, []byte(err.Error()))
		return
	}
	conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if writeFrame(conn, frameAccepted, nil) != nil {
		return
	}
	// First the decision as soon as it is final, then, for a COMMIT not
	// yet applied everywhere, again once it is.
	for _, wantApplied := range []bool{false, true} {
		f, applied, err := s.a.waitOutcome(ctx, req.GID, wantApplied)
		if err != nil {
			return
		}
		o := Outcome{GID: req.GID, Outcome: f.Decision.Outcome, Slot: f.Slot, Request: f.Decision.Request.Hash(), Applied: applied, Validator: s.a.id}
		conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if writeFrame(conn, frameOutcome, encodeOutcome(s.a.cfg.Membership.Network(), s.a.cfg.Key, nonce, &o)) != nil {
			return
		}
		if applied || o.Outcome != commit.Commit {
			return
		}
	}
}
