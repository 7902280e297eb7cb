package wire

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/xdg-go/scram"
)

// SASL mechanism names.
const (
	scramSHA256     = "SCRAM-SHA-256"
	scramSHA256Plus = "SCRAM-SHA-256-PLUS"
)

// authenticate runs the configured authentication method for c.startup.User.
func (c *conn) authenticate(ctx context.Context) error {
	switch c.srv.cfg.Auth {
	case AuthSCRAM:
		return c.authSCRAM(ctx)
	default:
		return nil
	}
}

// authFailed is the error every failed password check gets, whatever the
// reason, so that it tells a client nothing about which users exist.
func authFailed(user string) *Error {
	return &Error{
		Severity: "FATAL",
		Code:     pgerrcode.InvalidPassword,
		Message:  fmt.Sprintf("password authentication failed for user %q", user),
	}
}

// authSCRAM runs a SCRAM-SHA-256 exchange (RFC 5802, RFC 7677) as
// PostgreSQL does: the user is the startup user, not the SCRAM username
// (which clients leave empty). Over TLS, SCRAM-SHA-256-PLUS with
// tls-server-end-point channel binding is offered first. An unknown user
// goes through the exchange with made-up credentials and fails at the end
// like a wrong password.
func (c *conn) authSCRAM(ctx context.Context) error {
	user := c.startup.User
	mechs := []string{scramSHA256}
	var cb scram.ChannelBinding
	if c.startup.TLS {
		if b, ok := c.certs.binding(); ok {
			cb = b
			mechs = []string{scramSHA256Plus, scramSHA256}
		}
	}
	if err := c.w.send(&pgproto3.AuthenticationSASL{AuthMechanisms: mechs}); err != nil {
		return err
	}
	if err := c.w.flush(); err != nil {
		return err
	}

	body, err := c.r.receivePassword()
	if err != nil {
		return err
	}
	var first pgproto3.SASLInitialResponse
	if err := first.Decode(body); err != nil {
		return protocolViolation("malformed SASLInitialResponse: %v", err)
	}
	if !slices.Contains(mechs, first.AuthMechanism) {
		return protocolViolation("client selected an invalid SASL authentication mechanism")
	}
	data := string(first.Data)
	if (first.AuthMechanism == scramSHA256Plus) != strings.HasPrefix(data, "p=") {
		return protocolViolation("malformed SCRAM message")
	}

	creds, err := c.srv.cfg.Credentials(ctx, user)
	if err != nil {
		c.log.Debug("no SCRAM credentials", "error", err)
		creds = mockCredentials(c.srv.mockKey, user)
	}
	srv, err := scram.SHA256.NewServer(func(string) (scram.StoredCredentials, error) { return creds, nil })
	if err != nil {
		return err
	}
	conv := srv.NewConversation()
	if cb.IsSupported() {
		conv = srv.NewConversationWithChannelBinding(cb)
	}
	resp, err := conv.Step(data)
	if err != nil {
		return &Error{Severity: "FATAL", Code: pgerrcode.ProtocolViolation, Message: "malformed SCRAM message", Detail: err.Error()}
	}
	if err := c.w.send(&pgproto3.AuthenticationSASLContinue{Data: []byte(resp)}); err != nil {
		return err
	}
	if err := c.w.flush(); err != nil {
		return err
	}

	if body, err = c.r.receivePassword(); err != nil {
		return err
	}
	var final pgproto3.SASLResponse
	if err := final.Decode(body); err != nil {
		return protocolViolation("malformed SASLResponse: %v", err)
	}
	resp, err = conv.Step(string(final.Data))
	if err != nil || !conv.Valid() {
		c.log.Info("password authentication failed", "error", err)
		return authFailed(user)
	}
	return c.w.send(&pgproto3.AuthenticationSASLFinal{Data: []byte(resp)})
}

// mockCredentials returns credentials that no password matches, for a user
// that does not exist. The salt is derived from the user name with the
// server's secret key, so that it is the same on every attempt, as a real
// user's would be (PostgreSQL's scram_mock_salt does the same).
func mockCredentials(key []byte, user string) scram.StoredCredentials {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(user))
	salt := mac.Sum(nil)[:16]
	b := make([]byte, 64)
	_, _ = rand.Read(b)
	return scram.StoredCredentials{
		KeyFactors: scram.KeyFactors{Salt: string(salt), Iters: SCRAMIterations},
		StoredKey:  b[:32],
		ServerKey:  b[32:],
	}
}

// ErrUnknownUser may be returned by a CredentialLookup for a user it does
// not know. The client is told only that authentication failed.
var ErrUnknownUser = errors.New("wire: unknown user")
