// Package transport connects a validator to the other validators over TCP.
//
// Every connection starts with a signed handshake (handshake.go): each side
// sends a fresh random nonce, then signs both identities, the network id
// and both nonces with its Ed25519 node key; a node accepts only the peers
// listed in its configuration, on its own network. We chose this over TLS
// with certificates bound to the key because node identities are bare
// Ed25519 keys (quorum.NodeID), not certificates: TLS would need self-signed
// certificates and a custom verification callback to say the same thing,
// and its confidentiality buys nothing here — every SCP envelope and every
// ledger record is signed by its author and verified by the receiver, so
// the channel only needs to tell who is at the other end. (A network that
// wants confidentiality can run the links over WireGuard or stunnel.)
//
// The price of having no session keys: a man in the middle can relay a
// handshake between two honest nodes and then drop, delay or inject frames
// on that connection. That gives it no more than a network attacker, which
// SCP already tolerates: injected envelopes and records still need their
// authors' signatures, and state requests only read public data.
//
// After the handshake, frames are length-prefixed (u32 length, u8 kind,
// payload) with a maximum size; a peer that announces a larger frame is
// disconnected before anything is allocated. Payloads are opaque to the
// transport: the validator defines what an envelope, a state request or a
// ledger record looks like.
//
// # Goroutines
//
// Start runs, all owned by the Transport and waited for by Close:
//
//   - one accept loop, and one short-lived goroutine per inbound handshake;
//   - one dial loop per peer whose id is greater than ours (only the lower
//     id dials, so two nodes never race to open two connections), which
//     redials with exponential backoff and jitter drawn from Config.Rand;
//   - per live connection, a reader that pushes frames to Inbound and a
//     writer that drains the peer's bounded send queue (dropping the oldest
//     frame when full: SCP only needs the latest statements, and the
//     validator rebroadcasts its state every second or two) and pings when
//     idle.
//
// A new connection from a peer replaces the old one (the peer restarted).
// Inbound carries, besides frames, a KindConnected event per handshake, so
// the validator can send its state and ask for the slots it missed.
package transport
