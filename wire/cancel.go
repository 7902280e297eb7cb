package wire

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"math"
	"sync"
)

// cancelKeys maps the process ids handed out in BackendKeyData to the
// secret and the session they cancel. A CancelRequest may arrive on any
// connection, so the map belongs to the Server.
type cancelKeys struct {
	mu   sync.Mutex
	keys map[uint32]cancelEntry
}

type cancelEntry struct {
	secret  []byte
	session Session
}

// register gives s a fresh random process id and 4-byte secret.
func (k *cancelKeys) register(s Session) (pid uint32, secret []byte, err error) {
	secret = make([]byte, 4)
	var b [4]byte
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys == nil {
		k.keys = make(map[uint32]cancelEntry)
	}
	for range 100 {
		if _, err := rand.Read(b[:]); err != nil {
			return 0, nil, fmt.Errorf("wire: backend key: %w", err)
		}
		// Clients keep the pid in a signed 32-bit int: stay positive.
		pid = binary.BigEndian.Uint32(b[:]) & math.MaxInt32
		if _, taken := k.keys[pid]; pid == 0 || taken {
			continue
		}
		if _, err := rand.Read(secret); err != nil {
			return 0, nil, fmt.Errorf("wire: backend key: %w", err)
		}
		k.keys[pid] = cancelEntry{secret: secret, session: s}
		return pid, secret, nil
	}
	return 0, nil, fmt.Errorf("wire: no free backend process id")
}

// unregister forgets pid.
func (k *cancelKeys) unregister(pid uint32) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.keys, pid)
}

// lookup returns the session whose key is (pid, secret), comparing the
// secret in constant time.
func (k *cancelKeys) lookup(pid uint32, secret []byte) (Session, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.keys[pid]
	if !ok || subtle.ConstantTimeCompare(e.secret, secret) != 1 {
		return nil, false
	}
	return e.session, true
}

// parseCancel decodes the body of a CancelRequest packet (after the length):
// the request code, the process id and the secret.
func parseCancel(body []byte) (pid uint32, secret []byte, ok bool) {
	if len(body) < 12 || len(body) > 8+256 {
		return 0, nil, false
	}
	return binary.BigEndian.Uint32(body[4:8]), body[8:], true
}
