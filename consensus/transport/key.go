package transport

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pgfed/pgfed/consensus/quorum"
)

// ErrBadKeyFile is wrapped by ReadKeyFile's errors about the file's content
// or permissions.
var ErrBadKeyFile = errors.New("transport: bad key file")

// GenerateKey returns a new Ed25519 private key drawn from rand (use
// crypto/rand.Reader outside tests).
func GenerateKey(rand io.Reader) (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("transport: generate key: %w", err)
	}
	return priv, nil
}

// NodeID returns the node identity of a private key: its public key.
func NodeID(priv ed25519.PrivateKey) quorum.NodeID {
	var id quorum.NodeID
	if len(priv) == ed25519.PrivateKeySize {
		copy(id[:], priv.Public().(ed25519.PublicKey))
	}
	return id
}

// WriteKeyFile writes priv to path as a PEM "PRIVATE KEY" block (PKCS #8,
// as openssl writes Ed25519 keys) with mode 0600. It refuses to overwrite an
// existing file.
func WriteKeyFile(path string, priv ed25519.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("transport: encode key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("transport: write key: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return fmt.Errorf("transport: write key %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("transport: write key %s: %w", path, err)
	}
	return f.Close()
}

// ReadKeyFile reads a private key written by WriteKeyFile, or given as
// hex: 64 digits (the 32-byte seed) or 128 digits (seed and public key).
// It refuses files readable by group or others.
func ReadKeyFile(path string) (ed25519.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("transport: read key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %v, want 0600", ErrBadKeyFile, path, st.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("transport: read key: %w", err)
	}
	priv, err := ParseKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return priv, nil
}

// ParseKey parses the content of a key file (see ReadKeyFile).
func ParseKey(data []byte) (ed25519.PrivateKey, error) {
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("%w: PEM block %q, want PRIVATE KEY", ErrBadKeyFile, block.Type)
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadKeyFile, err)
		}
		priv, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: key of type %T, want Ed25519", ErrBadKeyFile, k)
		}
		return priv, nil
	}
	s := strings.TrimSpace(string(data))
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: neither PEM nor hex", ErrBadKeyFile)
	}
	switch len(raw) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), nil
	case ed25519.PrivateKeySize:
		priv := ed25519.NewKeyFromSeed(raw[:ed25519.SeedSize])
		if string(priv[ed25519.SeedSize:]) != string(raw[ed25519.SeedSize:]) {
			return nil, fmt.Errorf("%w: public half does not match the seed", ErrBadKeyFile)
		}
		return priv, nil
	}
	return nil, fmt.Errorf("%w: %d hex bytes, want 32 or 64", ErrBadKeyFile, len(raw))
}
