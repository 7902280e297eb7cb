package gateway

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgproto3"
)

// The startup packet's codes (PostgreSQL's protocol.h).
const (
	codeCancel = 80877102
	codeSSL    = 80877103
	codeGSSEnc = 80877104
	// maxStartup bounds a startup packet, as PostgreSQL does
	// (MAX_STARTUP_PACKET_LENGTH).
	maxStartup = 10000
)

// errCancelled ends a connection that only carried a CancelRequest.
var errCancelled = errors.New("cancel request forwarded")

// readStartup reads one startup packet (length included).
func readStartup(r io.Reader) ([]byte, uint32, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, 0, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 8 || n > maxStartup {
		return nil, 0, fmt.Errorf("startup packet of %d bytes", n)
	}
	pkt := make([]byte, n)
	copy(pkt, hdr[:])
	if _, err := io.ReadFull(r, pkt[4:]); err != nil {
		return nil, 0, err
	}
	return pkt, binary.BigEndian.Uint32(pkt[4:8]), nil
}

// startup negotiates with the client until its StartupMessage: SSL and
// GSS encryption are declined ('N'); a CancelRequest is forwarded to the
// worker on a connection of its own (errCancelled). It returns the
// StartupMessage's bytes, to be sent to the worker unchanged.
func (c *conn) startup() ([]byte, error) {
	for range 3 {
		pkt, code, err := readStartup(c.client)
		if err != nil {
			return nil, err
		}
		switch code {
		case codeSSL, codeGSSEnc:
			if _, err := c.client.Write([]byte{'N'}); err != nil {
				return nil, err
			}
			continue
		case codeCancel:
			c.forwardCancel(pkt)
			return nil, errCancelled
		case pgproto3.ProtocolVersion30, pgproto3.ProtocolVersion32:
		default:
			c.fatal(pgerrcode.ProtocolViolation, fmt.Sprintf("unsupported frontend protocol %d.%d", code>>16, code&0xffff))
			return nil, fmt.Errorf("unsupported protocol code %d", code)
		}
		var sm pgproto3.StartupMessage
		if err := sm.Decode(pkt[4:]); err != nil {
			c.fatal(pgerrcode.ProtocolViolation, "invalid startup packet")
			return nil, err
		}
		if rep, ok := sm.Parameters["replication"]; ok && !isFalse(rep) {
			c.refuseStartup("replication connections are refused")
			return nil, errors.New("replication connection refused")
		}
		if why := startupSettings(sm.Parameters); why != "" {
			c.refuseStartup(why)
			return nil, errors.New(why)
		}
		c.log = c.log.With("user", sm.Parameters["user"], "database", sm.Parameters["database"])
		return pkt, nil
	}
	c.fatal(pgerrcode.ProtocolViolation, "too many encryption requests")
	return nil, errors.New("too many encryption requests")
}

func isFalse(v string) bool {
	switch strings.ToLower(v) {
	case "false", "off", "no", "0":
		return true
	}
	return false
}

// forwardCancel sends a CancelRequest to the worker, unchanged: the
// backend key the client holds is the worker's own (BackendKeyData is
// relayed untouched).
func (c *conn) forwardCancel(pkt []byte) {
	w, err := net.DialTimeout("tcp", c.r.Addr, c.g.cfg.DialTimeout)
	if err != nil {
		c.log.Warn("cannot forward a cancel request", "err", err)
		return
	}
	defer w.Close()
	if _, err := w.Write(pkt); err != nil {
		c.log.Warn("cannot forward a cancel request", "err", err)
		return
	}
	// The server closes the connection once it has read the request.
	_, _ = io.Copy(io.Discard, w)
	c.log.Debug("cancel request forwarded")
}

// refuseStartup answers a StartupMessage with a FATAL 42501.
func (c *conn) refuseStartup(reason string) {
	c.log.Warn("connection refused", "reason", reason)
	c.fatal(pgerrcode.InsufficientPrivilege, c.message(reason))
}

// fatal writes a FATAL ErrorResponse to the client (the caller closes).
func (c *conn) fatal(code, msg string) {
	b, err := (&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: msg}).Encode(nil)
	if err != nil {
		return
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, _ = c.cw.Write(b)
	_ = c.cw.Flush()
}
