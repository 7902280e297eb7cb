package wire

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"hash"

	"github.com/xdg-go/scram"
)

// certCapture wraps a server TLS configuration so that the certificate
// chosen for one connection is known afterwards: SCRAM-SHA-256-PLUS binds
// to it (tls-server-end-point), and crypto/tls does not tell a server which
// certificate it sent.
type certCapture struct {
	chosen *tls.Certificate
}

// config returns a per-connection copy of base that records the chosen
// certificate. A base with GetConfigForClient is used as is (no capture).
func (cc *certCapture) config(base *tls.Config) *tls.Config {
	if base.GetConfigForClient != nil {
		return base
	}
	cfg := base.Clone()
	cfg.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if base.GetCertificate != nil {
			c, err := base.GetCertificate(hello)
			if err != nil || c != nil {
				cc.chosen = c
				return c, err
			}
		}
		if len(base.Certificates) == 0 {
			return nil, errors.New("wire: no TLS certificate configured")
		}
		cc.chosen = &base.Certificates[0]
		for i := range base.Certificates {
			if hello.SupportsCertificate(&base.Certificates[i]) == nil {
				cc.chosen = &base.Certificates[i]
				break
			}
		}
		return cc.chosen, nil
	}
	return cfg
}

// binding returns the tls-server-end-point channel binding (RFC 5929) of
// the captured certificate: its hash with the hash function of its
// signature algorithm (SHA-256 for MD5 and SHA-1).
func (cc *certCapture) binding() (scram.ChannelBinding, bool) {
	if cc.chosen == nil || len(cc.chosen.Certificate) == 0 {
		return scram.ChannelBinding{}, false
	}
	leaf := cc.chosen.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(cc.chosen.Certificate[0]); err != nil {
			return scram.ChannelBinding{}, false
		}
	}
	var h hash.Hash
	switch leaf.SignatureAlgorithm {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1,
		x509.SHA256WithRSA, x509.SHA256WithRSAPSS, x509.ECDSAWithSHA256:
		h = sha256.New()
	case x509.SHA384WithRSA, x509.SHA384WithRSAPSS, x509.ECDSAWithSHA384:
		h = sha512.New384()
	case x509.SHA512WithRSA, x509.SHA512WithRSAPSS, x509.ECDSAWithSHA512:
		h = sha512.New()
	default:
		// Ed25519 and others: RFC 5929 defines no binding.
		return scram.ChannelBinding{}, false
	}
	h.Write(leaf.Raw)
	return scram.ChannelBinding{Type: scram.ChannelBindingTLSServerEndpoint, Data: h.Sum(nil)}, true
}
