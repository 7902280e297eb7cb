package quorum

import (
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Stellar "strkey" account ids: base32 (RFC 4648, no padding) of a version
// byte (6<<3 for an Ed25519 public key, the "G" prefix), the 32 key bytes and
// a CRC16-XModem checksum of the first 33 bytes, little-endian.

const strkeyVersionAccountID = 6 << 3

var strkeyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// ErrBadKey is the sentinel wrapped by ParseNodeID's errors.
var ErrBadKey = errors.New("bad public key")

// ParseNodeID accepts a Stellar account id ("G" + 55 base32 characters, with
// its version byte and CRC16-XModem checksum verified) or 64 hexadecimal
// digits.
func ParseNodeID(s string) (NodeID, error) {
	var id NodeID
	switch {
	case len(s) == 64 && isHex(s):
		_, err := hex.Decode(id[:], []byte(s))
		return id, err
	case strings.HasPrefix(s, "G"):
		if len(s) != 56 {
			return id, fmt.Errorf("%w %q: a strkey has 56 characters, not %d", ErrBadKey, s, len(s))
		}
		raw, err := strkeyEncoding.DecodeString(s)
		if err != nil || len(raw) != 35 || strkeyEncoding.EncodeToString(raw) != s {
			return id, fmt.Errorf("%w %q: not base32", ErrBadKey, s)
		}
		if raw[0] != strkeyVersionAccountID {
			return id, fmt.Errorf("%w %q: version byte %d, want %d", ErrBadKey, s, raw[0], strkeyVersionAccountID)
		}
		if got, want := binary.LittleEndian.Uint16(raw[33:]), crc16XModem(raw[:33]); got != want {
			return id, fmt.Errorf("%w %q: checksum mismatch", ErrBadKey, s)
		}
		copy(id[:], raw[1:33])
		return id, nil
	}
	return id, fmt.Errorf("%w %q: want a Stellar G... strkey or 64 hex digits", ErrBadKey, s)
}

// Strkey returns the Stellar account id ("G...") of n.
func (n NodeID) Strkey() string {
	raw := make([]byte, 0, 35)
	raw = append(raw, strkeyVersionAccountID)
	raw = append(raw, n[:]...)
	raw = binary.LittleEndian.AppendUint16(raw, crc16XModem(raw))
	return strkeyEncoding.EncodeToString(raw)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// crc16XModem is CRC-16 with polynomial 0x1021, initial value 0, no
// reflection.
func crc16XModem(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
