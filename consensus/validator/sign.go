package validator

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/pgfed/pgfed/consensus"
)

// NetworkID is the id of the network named name (its passphrase, in
// Stellar's terms): SHA-256 of the name. It is bound into every signature
// and handshake, so envelopes of one network are worthless on another.
func NetworkID(name string) consensus.Hash { return sha256.Sum256([]byte(name)) }

// Signature errors returned by Verify.
var (
	ErrUnsigned     = errors.New("validator: unsigned envelope")
	ErrBadSignature = errors.New("validator: bad envelope signature")
)

// Sign returns env signed by key over consensus.SigningBytes (domain,
// network id, message kind, canonical statement). The statement's node must
// be key's public key.
func Sign(key ed25519.PrivateKey, network consensus.Hash, env consensus.Envelope) consensus.Envelope {
	env.Signature = ed25519.Sign(key, consensus.SigningBytes(network, env.Statement))
	return env
}

// Verify checks env's signature by its statement's node for network. An
// envelope signed for another network fails as ErrBadSignature: the network
// is part of what is signed.
func Verify(network consensus.Hash, env consensus.Envelope) error {
	if len(env.Signature) == 0 {
		return fmt.Errorf("%w: node %s slot %d", ErrUnsigned, env.Statement.NodeID, env.Statement.Slot)
	}
	if len(env.Signature) != ed25519.SignatureSize ||
		!ed25519.Verify(ed25519.PublicKey(env.Statement.NodeID[:]), consensus.SigningBytes(network, env.Statement), env.Signature) {
		return fmt.Errorf("%w: node %s slot %d", ErrBadSignature, env.Statement.NodeID, env.Statement.Slot)
	}
	return nil
}
