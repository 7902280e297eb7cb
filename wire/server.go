package wire

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Server is a PostgreSQL protocol server. It is safe for concurrent use; one
// Server may Serve several listeners, and a CancelRequest received on any of
// them reaches the session it names.
type Server struct {
	cfg    Config
	log    hclog.Logger
	keys   cancelKeys
	connID atomic.Uint64
	// mockKey derives the salt shown for users that do not exist.
	mockKey []byte
}

// NewServer checks cfg, fills in its defaults and returns a Server.
func NewServer(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("wire: random key: %w", err)
	}
	return &Server{cfg: cfg, log: cfg.Logger.Named("wire"), mockKey: key}, nil
}

// Serve accepts connections on ln and serves each in its own goroutine until
// ctx is cancelled or ln fails. It then closes ln and every connection it
// accepted (idle clients get FATAL 57P01), waits for their goroutines and
// sessions to finish, and returns nil after a cancellation, or the accept
// error.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = make(map[*conn]struct{})
	)
	wg.Go(func() {
		<-ctx.Done()
		_ = ln.Close()
	})

	var err error
	backoff := 5 * time.Millisecond
	for {
		nc, aerr := ln.Accept()
		if aerr != nil {
			if ctx.Err() != nil {
				break
			}
			if retryAccept(aerr) {
				s.log.Warn("accept failed, retrying", "error", aerr, "delay", backoff)
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
				}
				backoff = min(2*backoff, time.Second)
				continue
			}
			err = aerr
			break
		}
		backoff = 5 * time.Millisecond
		c := newConn(s, nc)
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Go(func() {
			defer func() {
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			}()
			c.serve(ctx)
		})
	}

	stop()
	mu.Lock()
	for c := range conns {
		c.shutdown()
	}
	mu.Unlock()
	wg.Wait()
	if err != nil {
		s.log.Error("accept failed", "error", err)
	}
	return err
}

// ServeConn serves one already-accepted connection and returns when it ends
// (or ctx is cancelled, which closes it). It is for tests and for callers
// with their own accept loop.
func (s *Server) ServeConn(ctx context.Context, nc net.Conn) {
	c := newConn(s, nc)
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() {
		<-ctx.Done()
		c.shutdown()
	})
	c.serve(ctx)
	stop()
	wg.Wait()
}

// retryAccept reports whether an accept error is transient (a timeout, or a
// lack of descriptors or memory, or a connection aborted before it was
// accepted): Serve waits a little and accepts again.
func retryAccept(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}
