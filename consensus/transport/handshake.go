package transport

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
)

// The handshake (both sides run it at once, so it costs one round trip per
// step):
//
//	-> HELLO  magic "PGFEDSCP" | u16 version | network id | node id | nonce (32 random bytes)
//	<- HELLO  (the same from the other side)
//	-> AUTH   Ed25519 signature | u32 len | hello
//	<- AUTH
//
// where each side signs
//
//	"pgfed/handshake/v1" | network id | own id | peer id | peer's nonce | own nonce
//
// The signature proves possession of the key named in HELLO, the peer's
// fresh nonce makes it useless for any other connection, the two ids bind
// the direction (it cannot be reflected back), the network id keeps
// networks apart, and the domain string keeps it from ever being mistaken
// for an SCP statement signature (consensus.SigningBytes uses
// "pgfed/scp/v1"). A node accepts only peers listed in its Config.Peers, and
// a dialer only the peer it dialed. hello is the application's announcement
// (the validator's quorum set).

const (
	handshakeMagic   = "PGFEDSCP"
	handshakeVersion = 1
	handshakeDomain  = "pgfed/handshake/v1"
	nonceSize        = 32
	helloSize        = len(handshakeMagic) + 2 + 32 + 32 + nonceSize
	// MaxHello bounds the application's hello (Config.Hello).
	MaxHello = 64 << 10
	// handshake frames are small; bound them independently of MaxFrameSize.
	maxHandshakeFrame = 1 + ed25519.SignatureSize + 4 + MaxHello
)

// Handshake failures. Each is wrapped, with the remote address, in the
// error of a failed handshake.
var (
	ErrUnknownPeer   = errors.New("transport: peer not in configuration")
	ErrWrongNetwork  = errors.New("transport: peer on another network")
	ErrBadHandshake  = errors.New("transport: bad handshake")
	ErrBadSignature  = errors.New("transport: handshake signature does not verify")
	ErrUnexpectedKey = errors.New("transport: peer answered with another key")
)

type hello struct {
	network consensus.Hash
	id      quorum.NodeID
	nonce   [nonceSize]byte
}

func (h *hello) encode() []byte {
	b := append([]byte(handshakeMagic), 0, handshakeVersion)
	b = append(b, h.network[:]...)
	b = append(b, h.id[:]...)
	return append(b, h.nonce[:]...)
}

func decodeHello(b []byte) (hello, error) {
	var h hello
	if len(b) != helloSize || string(b[:8]) != handshakeMagic {
		return h, fmt.Errorf("%w: not a pgfed hello", ErrBadHandshake)
	}
	if v := binary.BigEndian.Uint16(b[8:10]); v != handshakeVersion {
		return h, fmt.Errorf("%w: version %d, want %d", ErrBadHandshake, v, handshakeVersion)
	}
	copy(h.network[:], b[10:42])
	copy(h.id[:], b[42:74])
	copy(h.nonce[:], b[74:])
	return h, nil
}

// transcript is what the side with id signer signs.
func transcript(network consensus.Hash, signer, verifier quorum.NodeID, verifierNonce, signerNonce []byte) []byte {
	b := make([]byte, 0, len(handshakeDomain)+32*3+2*nonceSize)
	b = append(b, handshakeDomain...)
	b = append(b, network[:]...)
	b = append(b, signer[:]...)
	b = append(b, verifier[:]...)
	b = append(b, verifierNonce...)
	return append(b, signerNonce...)
}

// handshakeResult is an authenticated connection.
type handshakeResult struct {
	peer  quorum.NodeID
	hello []byte // the peer's application hello
	r     *bufio.Reader
}

// handshake authenticates nc. want is the expected peer (nil when
// accepting: any listed peer). It uses and then clears the deadline.
func (t *Transport) handshake(nc net.Conn, want *quorum.NodeID) (*handshakeResult, error) {
	if err := nc.SetDeadline(time.Now().Add(t.cfg.HandshakeTimeout)); err != nil {
		return nil, err
	}
	mine := hello{network: t.cfg.Network, id: t.id}
	if err := t.random(mine.nonce[:]); err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(nc, 64<<10)
	if _, err := nc.Write(appendFrame(nil, kindHello, mine.encode())); err != nil {
		return nil, err
	}
	k, p, err := readFrame(r, maxHandshakeFrame)
	if err != nil {
		return nil, err
	}
	if k != kindHello {
		return nil, fmt.Errorf("%w: got %s, want hello", ErrBadHandshake, k)
	}
	theirs, err := decodeHello(p)
	if err != nil {
		return nil, err
	}
	if theirs.network != t.cfg.Network {
		return nil, fmt.Errorf("%w: network %s, ours %s", ErrWrongNetwork, theirs.network, t.cfg.Network)
	}
	if want != nil && theirs.id != *want {
		return nil, fmt.Errorf("%w: %s, dialed %s", ErrUnexpectedKey, theirs.id, *want)
	}
	if _, ok := t.peers[theirs.id]; !ok || theirs.id == t.id {
		return nil, fmt.Errorf("%w: %s", ErrUnknownPeer, theirs.id.Strkey())
	}
	if bytes.Equal(theirs.nonce[:], mine.nonce[:]) {
		return nil, fmt.Errorf("%w: nonce echoed", ErrBadHandshake)
	}
	sig := ed25519.Sign(t.cfg.Key, transcript(t.cfg.Network, t.id, theirs.id, theirs.nonce[:], mine.nonce[:]))
	auth := append(sig, binary.BigEndian.AppendUint32(nil, uint32(len(t.cfg.Hello)))...)
	auth = append(auth, t.cfg.Hello...)
	if _, err := nc.Write(appendFrame(nil, kindAuth, auth)); err != nil {
		return nil, err
	}
	k, p, err = readFrame(r, maxHandshakeFrame)
	if err != nil {
		return nil, err
	}
	if k != kindAuth || len(p) < ed25519.SignatureSize+4 {
		return nil, fmt.Errorf("%w: got %s of %d bytes, want auth", ErrBadHandshake, k, len(p))
	}
	n := binary.BigEndian.Uint32(p[ed25519.SignatureSize:])
	if uint64(n) != uint64(len(p)-ed25519.SignatureSize-4) {
		return nil, fmt.Errorf("%w: hello length %d", ErrBadHandshake, n)
	}
	msg := transcript(t.cfg.Network, theirs.id, t.id, mine.nonce[:], theirs.nonce[:])
	if !ed25519.Verify(ed25519.PublicKey(theirs.id[:]), msg, p[:ed25519.SignatureSize]) {
		return nil, fmt.Errorf("%w: peer %s", ErrBadSignature, theirs.id.Strkey())
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	return &handshakeResult{peer: theirs.id, hello: bytes.Clone(p[ed25519.SignatureSize+4:]), r: r}, nil
}
