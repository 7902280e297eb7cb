package wire

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/xdg-go/scram"
)

// SCRAMIterations is the PBKDF2 iteration count of the credentials this
// package derives (PostgreSQL's default, scram_iterations = 4096).
const SCRAMIterations = 4096

// CredentialLookup returns the SCRAM-SHA-256 stored credentials of user.
// Any error fails the authentication (see ErrUnknownUser); it is logged,
// never shown to the client.
type CredentialLookup func(ctx context.Context, user string) (scram.StoredCredentials, error)

// NewSCRAMCredentials derives SCRAM-SHA-256 stored credentials from a
// password, with a random 16-byte salt and SCRAMIterations iterations. The
// password is SASLprep-normalised when it can be, and used as is otherwise,
// as PostgreSQL does.
func NewSCRAMCredentials(password string) (scram.StoredCredentials, error) {
	client, err := scram.SHA256.NewClient("", password, "")
	if err != nil {
		client, err = scram.SHA256.NewClientUnprepped("", password, "")
		if err != nil {
			return scram.StoredCredentials{}, fmt.Errorf("wire: SCRAM credentials: %w", err)
		}
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return scram.StoredCredentials{}, fmt.Errorf("wire: SCRAM salt: %w", err)
	}
	return client.GetStoredCredentialsWithError(scram.KeyFactors{Salt: string(salt), Iters: SCRAMIterations})
}

// StaticPasswords returns a CredentialLookup for a fixed map of user to
// password (for `pgfed dev` and tests). The credentials are derived once.
func StaticPasswords(passwords map[string]string) (CredentialLookup, error) {
	creds := make(map[string]scram.StoredCredentials, len(passwords))
	for user, pw := range passwords {
		c, err := NewSCRAMCredentials(pw)
		if err != nil {
			return nil, fmt.Errorf("wire: credentials of user %q: %w", user, err)
		}
		creds[user] = c
	}
	return func(_ context.Context, user string) (scram.StoredCredentials, error) {
		c, ok := creds[user]
		if !ok {
			return scram.StoredCredentials{}, fmt.Errorf("%w %q", ErrUnknownUser, user)
		}
		return c, nil
	}, nil
}

// ParseSCRAMVerifier parses a password verifier as PostgreSQL stores it in
// pg_authid.rolpassword: SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>,
// with base64 salt and keys.
func ParseSCRAMVerifier(v string) (scram.StoredCredentials, error) {
	bad := func(why string) (scram.StoredCredentials, error) {
		return scram.StoredCredentials{}, fmt.Errorf("wire: invalid SCRAM verifier: %s", why)
	}
	rest, ok := strings.CutPrefix(v, "SCRAM-SHA-256$")
	if !ok {
		return bad("not SCRAM-SHA-256")
	}
	factors, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return bad("missing keys")
	}
	iterStr, saltB64, ok := strings.Cut(factors, ":")
	if !ok {
		return bad("missing salt")
	}
	iters, err := strconv.Atoi(iterStr)
	if err != nil || iters <= 0 {
		return bad("bad iteration count")
	}
	storedB64, serverB64, ok := strings.Cut(keys, ":")
	if !ok {
		return bad("missing server key")
	}
	salt, err1 := base64.StdEncoding.DecodeString(saltB64)
	stored, err2 := base64.StdEncoding.DecodeString(storedB64)
	server, err3 := base64.StdEncoding.DecodeString(serverB64)
	if err1 != nil || err2 != nil || err3 != nil || len(stored) != 32 || len(server) != 32 || len(salt) == 0 {
		return bad("bad base64 or key length")
	}
	return scram.StoredCredentials{
		KeyFactors: scram.KeyFactors{Salt: string(salt), Iters: iters},
		StoredKey:  stored,
		ServerKey:  server,
	}, nil
}

// FormatSCRAMVerifier formats credentials the way PostgreSQL stores them;
// ParseSCRAMVerifier reads them back.
func FormatSCRAMVerifier(c scram.StoredCredentials) string {
	enc := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", c.Iters, enc([]byte(c.Salt)), enc(c.StoredKey), enc(c.ServerKey))
}
