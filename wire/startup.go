package wire

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgproto3"
)

// Request codes of the startup packet (in place of a protocol version).
const (
	cancelRequestCode = 1234<<16 | 5678
	sslRequestCode    = 1234<<16 | 5679
	gssEncRequestCode = 1234<<16 | 5680
)

// handshake runs the startup phase: TLS and GSSAPI-encryption requests, a
// CancelRequest (which ends the connection), or the StartupMessage followed
// by authentication, session creation and the first ReadyForQuery. The
// whole phase is bounded by Config.StartupTimeout.
func (c *conn) handshake(ctx context.Context) error {
	cfg := &c.srv.cfg
	deadline := time.Now().Add(cfg.StartupTimeout)
	if err := c.nc.SetDeadline(deadline); err != nil {
		return err
	}
	var body []byte
	for {
		var err error
		if body, err = c.r.readStartup(cfg.MaxStartupPacket); err != nil {
			return err
		}
		code := binary.BigEndian.Uint32(body)
		if code != sslRequestCode && code != gssEncRequestCode {
			break
		}
		if len(body) != 4 {
			return protocolViolation("invalid length of startup packet")
		}
		if c.r.buffered() > 0 {
			return protocolViolation("received unencrypted data after SSL request")
		}
		if code == gssEncRequestCode || cfg.TLSConfig == nil || c.startup.TLS {
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return err
			}
			continue
		}
		if _, err := c.nc.Write([]byte{'S'}); err != nil {
			return err
		}
		tc := tls.Server(c.nc, c.certs.config(cfg.TLSConfig))
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("wire: TLS handshake: %w", err)
		}
		c.rw = tc
		c.r = newReader(tc, cfg.MaxMessageSize)
		c.w.setDest(tc)
		c.startup.TLS = true
	}

	version := binary.BigEndian.Uint32(body)
	if version == cancelRequestCode {
		c.cancelRequest(body)
		return errClosing
	}
	if major, minor := version>>16, version&0xffff; major != 3 {
		return &Error{
			Severity: "FATAL",
			Code:     pgerrcode.FeatureNotSupported,
			Message:  fmt.Sprintf("unsupported frontend protocol %d.%d: server supports 3.0 to 3.0", major, minor),
		}
	}
	params, unknown, err := parseStartupParams(body[4:])
	if err != nil {
		return err
	}
	if version&0xffff > 0 || len(unknown) > 0 {
		// A newer minor version or _pq_ options: answer as PostgreSQL 15
		// does, and carry on with protocol 3.0.
		if err := c.w.send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unknown}); err != nil {
			return err
		}
	}
	c.startup.User = params["user"]
	if c.startup.User == "" {
		return &Error{Severity: "FATAL", Code: pgerrcode.InvalidAuthorizationSpecification, Message: "no PostgreSQL user name specified in startup packet"}
	}
	c.startup.Database = params["database"]
	if c.startup.Database == "" {
		c.startup.Database = c.startup.User
		params["database"] = c.startup.User
	}
	c.startup.Params = params
	c.startup.RemoteAddr = c.nc.RemoteAddr()
	c.log = c.log.With("user", c.startup.User)
	if cfg.RequireTLS && !c.startup.TLS {
		return &Error{Severity: "FATAL", Code: pgerrcode.InvalidAuthorizationSpecification, Message: fmt.Sprintf("connection for user %q requires TLS", c.startup.User)}
	}

	if err := c.authenticate(ctx); err != nil {
		return err
	}
	return c.open(ctx, deadline)
}

// open creates the session and sends AuthenticationOk, the parameters,
// BackendKeyData and the first ReadyForQuery.
func (c *conn) open(ctx context.Context, deadline time.Time) error {
	sctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	sess, err := c.srv.cfg.Handler.NewSession(sctx, c.startup, c)
	if err != nil {
		r := errorResponse(err)
		r.Severity, r.SeverityUnlocalized = "FATAL", "FATAL"
		if err := c.w.send(r); err == nil && c.w.flush() == nil {
			c.linger()
		}
		return errClosing
	}
	c.sess = sess
	pid, secret, err := c.srv.keys.register(sess)
	if err != nil {
		return err
	}
	c.pid = pid
	if err := c.w.send(&pgproto3.AuthenticationOk{}); err != nil {
		return err
	}
	ps := sess.ParameterStatus()
	for _, k := range slices.Sorted(maps.Keys(ps)) {
		if err := c.w.send(&pgproto3.ParameterStatus{Name: k, Value: ps[k]}); err != nil {
			return err
		}
	}
	if err := c.w.send(&pgproto3.BackendKeyData{ProcessID: pid, SecretKey: secret}); err != nil {
		return err
	}
	if err := c.nc.SetDeadline(time.Time{}); err != nil {
		return err
	}
	return c.w.readyForQuery(sess.TxStatus())
}

// parseStartupParams reads the name/value pairs of a StartupMessage, which
// end with an empty name. Options named _pq_.* are protocol extensions this
// server does not know: they are returned apart, for
// NegotiateProtocolVersion.
func parseStartupParams(b []byte) (params map[string]string, unknown []string, err error) {
	bad := protocolViolation("invalid startup packet layout: expected terminator as last byte")
	if len(b) == 0 || b[len(b)-1] != 0 {
		return nil, nil, bad
	}
	params = make(map[string]string)
	for {
		i := bytes.IndexByte(b, 0)
		name := string(b[:i])
		b = b[i+1:]
		if name == "" {
			if len(b) != 0 {
				return nil, nil, bad
			}
			return params, unknown, nil
		}
		i = bytes.IndexByte(b, 0)
		if i < 0 {
			return nil, nil, bad
		}
		value := string(b[:i])
		b = b[i+1:]
		if strings.HasPrefix(name, "_pq_.") {
			unknown = append(unknown, name)
			continue
		}
		params[name] = value
		if len(b) == 0 {
			return nil, nil, bad
		}
	}
}

// cancelRequest handles a CancelRequest packet: if it names a live session
// with the right secret, the session is asked to cancel. The client gets no
// answer either way.
func (c *conn) cancelRequest(body []byte) {
	pid, secret, ok := parseCancel(body)
	if !ok {
		c.log.Debug("malformed cancel request")
		return
	}
	sess, ok := c.srv.keys.lookup(pid, secret)
	if !ok {
		c.log.Debug("cancel request for unknown key", "pid", pid)
		return
	}
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("panic in Session.Cancel", "panic", p)
		}
	}()
	c.log.Debug("cancel request", "pid", pid)
	sess.Cancel()
}
