package wire

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Defaults applied by NewServer to a zero Config field.
const (
	// DefaultMaxMessageSize is the largest message body accepted from a
	// client (Query, Parse, Bind, CopyData, ...) when Config.MaxMessageSize
	// is 0: 64 MiB. PostgreSQL allows up to 1 GiB; a coordinator that
	// buffers statements has less reason to.
	DefaultMaxMessageSize = 64 << 20
	// DefaultMaxStartupPacket is PostgreSQL's MAX_STARTUP_PACKET_LENGTH.
	DefaultMaxStartupPacket = 10000
	// DefaultStartupTimeout bounds TLS negotiation, authentication and
	// session creation, like PostgreSQL's authentication_timeout.
	DefaultStartupTimeout = 60 * time.Second
	// DefaultNotifyQueue is how many asynchronous messages Client.Notify
	// queues while a request runs before it refuses more.
	DefaultNotifyQueue = 1024

	// smallMessageLimit is PostgreSQL's PQ_SMALL_MESSAGE_LIMIT: the limit
	// for messages that never carry user data (Sync, Execute, Describe...).
	smallMessageLimit = 10000
	// maxAuthTokenLength is PostgreSQL's PG_MAX_AUTH_TOKEN_LENGTH.
	maxAuthTokenLength = 65535
	// flushThreshold is how much the server buffers before writing
	// results to the client, so that large results stream.
	flushThreshold = 32 << 10
)

// AuthMethod is how the server authenticates clients.
type AuthMethod uint8

const (
	// AuthTrust lets every client in as the user it names.
	AuthTrust AuthMethod = iota
	// AuthSCRAM requires SCRAM-SHA-256 (SCRAM-SHA-256-PLUS with
	// tls-server-end-point channel binding is offered over TLS), with the
	// stored credentials given by Config.Credentials.
	AuthSCRAM
)

// String returns the method's name as pg_hba.conf spells it.
func (m AuthMethod) String() string {
	switch m {
	case AuthTrust:
		return "trust"
	case AuthSCRAM:
		return "scram-sha-256"
	default:
		return fmt.Sprintf("AuthMethod(%d)", uint8(m))
	}
}

// Config configures a Server. Only Handler is required.
type Config struct {
	// Logger receives the server's logs; nil means no logging.
	Logger hclog.Logger
	// TLSConfig enables TLS: an SSLRequest is answered 'S' and the
	// connection is upgraded. nil answers 'N'.
	TLSConfig *tls.Config
	// RequireTLS refuses clients that do not negotiate TLS (28000), like
	// a hostssl-only pg_hba.conf. It needs TLSConfig.
	RequireTLS bool
	// Auth selects the authentication method (AuthTrust by default).
	Auth AuthMethod
	// Credentials looks up a user's SCRAM-SHA-256 credentials; required
	// for AuthSCRAM. See StaticPasswords and ParseSCRAMVerifier.
	Credentials CredentialLookup
	// MaxMessageSize is the largest message body accepted from a client;
	// 0 means DefaultMaxMessageSize. Larger messages are answered with a
	// FATAL 08P01 and the connection is closed.
	MaxMessageSize int
	// MaxStartupPacket is the largest startup packet accepted; 0 means
	// DefaultMaxStartupPacket.
	MaxStartupPacket int
	// StartupTimeout bounds the startup phase; 0 means
	// DefaultStartupTimeout.
	StartupTimeout time.Duration
	// NotifyQueue bounds the messages Client.Notify queues while a request
	// runs; 0 means DefaultNotifyQueue.
	NotifyQueue int
	// Handler creates a Session for each authenticated connection.
	Handler Handler
}

// validate checks cfg and fills in defaults.
func (cfg *Config) validate() error {
	if cfg.Handler == nil {
		return errors.New("wire: Config.Handler is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	switch cfg.Auth {
	case AuthTrust:
	case AuthSCRAM:
		if cfg.Credentials == nil {
			return errors.New("wire: Config.Credentials is required for AuthSCRAM")
		}
	default:
		return fmt.Errorf("wire: unknown Config.Auth %v", cfg.Auth)
	}
	if cfg.RequireTLS && cfg.TLSConfig == nil {
		return errors.New("wire: Config.RequireTLS needs Config.TLSConfig")
	}
	if cfg.MaxMessageSize < 0 || cfg.MaxStartupPacket < 0 || cfg.StartupTimeout < 0 || cfg.NotifyQueue < 0 {
		return errors.New("wire: negative limit in Config")
	}
	if cfg.MaxMessageSize == 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.MaxStartupPacket == 0 {
		cfg.MaxStartupPacket = DefaultMaxStartupPacket
	}
	if cfg.MaxStartupPacket < 8 {
		return errors.New("wire: Config.MaxStartupPacket must be at least 8")
	}
	if cfg.StartupTimeout == 0 {
		cfg.StartupTimeout = DefaultStartupTimeout
	}
	if cfg.NotifyQueue == 0 {
		cfg.NotifyQueue = DefaultNotifyQueue
	}
	return nil
}
