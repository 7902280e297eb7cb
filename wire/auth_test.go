package wire

import (
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/lib/pq"
	"github.com/xdg-go/scram"
)

func scramConfig(t *testing.T) Config {
	t.Helper()
	lookup, err := StaticPasswords(map[string]string{"bob": "s3cret", "ann": "pässwörd"})
	if err != nil {
		t.Fatal(err)
	}
	return Config{Auth: AuthSCRAM, Credentials: lookup}
}

func TestSCRAMWithPgx(t *testing.T) {
	ts := startServer(t, scramConfig(t))
	ctx := testCtx(t)
	for _, user := range []string{"bob:s3cret", "ann:pässwörd"} {
		conn, err := pgx.Connect(ctx, strings.Replace(ts.url(user, ""), "ann:pässwörd", "ann:p%C3%A4ssw%C3%B6rd", 1))
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		var n int32
		if err := conn.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil || n != 1 {
			t.Fatalf("SELECT 1 = %d, %v", n, err)
		}
		conn.Close(ctx)
	}

	for _, user := range []string{"bob:wrong", "nobody:s3cret", "bob"} {
		_, err := pgx.Connect(ctx, ts.url(user, ""))
		if user == "bob" {
			// No password at all: pgx gives up before answering.
			if err == nil {
				t.Fatal("connected without a password")
			}
			continue
		}
		if sqlState(err) != "28P01" {
			t.Fatalf("%s: %v, want 28P01", user, err)
		}
	}
}

func TestSCRAMWithLibPQ(t *testing.T) {
	ts := startServer(t, scramConfig(t))
	db, err := sql.Open("postgres", ts.url("bob:s3cret", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PingContext(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	bad, _ := sql.Open("postgres", ts.url("bob:nope", ""))
	defer bad.Close()
	err = bad.PingContext(testCtx(t))
	var pe *pq.Error
	if !errors.As(err, &pe) || pe.Code != "28P01" {
		t.Fatalf("wrong password: %v", err)
	}
}

func TestSCRAMRawProtocolErrors(t *testing.T) {
	ts := startServer(t, scramConfig(t))
	start := func() *rawClient {
		rc := dialRaw(t, ts.addr)
		rc.write(startupPacket(3<<16, params("user", "bob")))
		m, ok := rc.receive().(*pgproto3.AuthenticationSASL)
		if !ok || len(m.AuthMechanisms) != 1 || m.AuthMechanisms[0] != "SCRAM-SHA-256" {
			t.Fatalf("mechanisms %+v (no PLUS without TLS)", m)
		}
		return rc
	}
	// A mechanism that was not offered.
	rc := start()
	rc.send(&pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-1", Data: []byte("n,,n=,r=abc")})
	rc.flush()
	rc.expectFatal("08P01")
	// A malformed client-first message.
	rc = start()
	rc.send(&pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: []byte("garbage")})
	rc.flush()
	rc.expectFatal("08P01")
	// A query instead of a password.
	rc = start()
	rc.send(&pgproto3.Query{String: "SELECT 1"})
	rc.flush()
	rc.expectFatal("08P01")
}

func TestSCRAMVerifierRoundTrip(t *testing.T) {
	c, err := NewSCRAMCredentials("pw")
	if err != nil {
		t.Fatal(err)
	}
	if c.Iters < 4096 || len(c.Salt) != 16 {
		t.Fatalf("credentials %+v", c.KeyFactors)
	}
	v := FormatSCRAMVerifier(c)
	if !strings.HasPrefix(v, "SCRAM-SHA-256$4096:") {
		t.Fatalf("verifier %q", v)
	}
	back, err := ParseSCRAMVerifier(v)
	if err != nil {
		t.Fatal(err)
	}
	if back.Salt != c.Salt || back.Iters != c.Iters || !bytes.Equal(back.StoredKey, c.StoredKey) || !bytes.Equal(back.ServerKey, c.ServerKey) {
		t.Fatal("verifier did not round-trip")
	}
	for _, bad := range []string{"md5abc", "SCRAM-SHA-256$x:c2FsdA==$a:b", "SCRAM-SHA-256$4096:c2FsdA==$YQ==:YQ==", "SCRAM-SHA-256$4096"} {
		if _, err := ParseSCRAMVerifier(bad); err == nil {
			t.Errorf("ParseSCRAMVerifier(%q) accepted", bad)
		}
	}

	// A verifier as PostgreSQL stores it authenticates a pgx client.
	cfg := Config{Auth: AuthSCRAM, Credentials: func(_ context.Context, user string) (scram.StoredCredentials, error) {
		return ParseSCRAMVerifier(v)
	}}
	ts := startServer(t, cfg)
	conn, err := pgx.Connect(testCtx(t), ts.url("anyone:pw", ""))
	if err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
}

func tlsConfig(t *testing.T) (*tls.Config, string) {
	t.Helper()
	cert, err := SelfSignedCert("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	if err := WriteCertFiles(cert, certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadCertFiles(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{loaded}}, certFile
}

func TestTLSWithSelfSignedCert(t *testing.T) {
	tc, certFile := tlsConfig(t)
	cfg := scramConfig(t)
	cfg.TLSConfig = tc
	cfg.RequireTLS = true
	ts := startServer(t, cfg)
	ctx := testCtx(t)

	// Verified against the certificate, with SCRAM-SHA-256-PLUS channel
	// binding required by the client.
	url := strings.Replace(ts.url("bob:s3cret", "sslrootcert="+certFile+"&channel_binding=require"), "sslmode=disable", "sslmode=verify-full", 1)
	url = strings.Replace(url, "127.0.0.1", "localhost", 1)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	var n int32
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("SELECT 1 = %d, %v", n, err)
	}
	conn.Close(ctx)
	if !ts.handler.last(t).startup.TLS {
		t.Fatal("Startup.TLS is false")
	}

	// lib/pq over TLS (no channel binding).
	db, _ := sql.Open("postgres", strings.Replace(ts.url("bob:s3cret", ""), "sslmode=disable", "sslmode=require", 1))
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}

	// Wrong password over TLS.
	_, err = pgx.Connect(ctx, strings.Replace(ts.url("bob:bad", ""), "sslmode=disable", "sslmode=require", 1))
	if sqlState(err) != "28P01" {
		t.Fatalf("wrong password over TLS: %v", err)
	}

	// Without TLS the server refuses (RequireTLS).
	_, err = pgx.Connect(ctx, ts.url("bob:s3cret", ""))
	if sqlState(err) != "28000" {
		t.Fatalf("plaintext with RequireTLS: %v", err)
	}
}

func TestSelfSignedCertDefaults(t *testing.T) {
	cert, err := SelfSignedCert()
	if err != nil {
		t.Fatal(err)
	}
	if cert.Leaf == nil || len(cert.Leaf.DNSNames) != 1 || cert.Leaf.DNSNames[0] != "localhost" {
		t.Fatalf("leaf %+v", cert.Leaf)
	}
	if err := cert.Leaf.VerifyHostname("localhost"); err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := EncodeCertPEM(cert)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
}

func TestSCRAMUnknownUserLooksLikeAUser(t *testing.T) {
	ts := startServer(t, scramConfig(t))
	salt := func(user string) string {
		rc := dialRaw(t, ts.addr)
		rc.write(startupPacket(3<<16, params("user", user)))
		rc.receive()
		rc.send(&pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: []byte("n,,n=,r=abcdef")})
		rc.flush()
		m, ok := rc.receive().(*pgproto3.AuthenticationSASLContinue)
		if !ok {
			t.Fatalf("no server-first message for %q", user)
		}
		_, rest, _ := strings.Cut(string(m.Data), ",s=")
		s, _, _ := strings.Cut(rest, ",")
		return s
	}
	// The same salt on every attempt, for real and made-up users alike.
	if a, b := salt("ghost"), salt("ghost"); a == "" || a != b {
		t.Fatalf("unknown user's salt changes: %q %q", a, b)
	}
	if a, b := salt("bob"), salt("bob"); a != b {
		t.Fatalf("real user's salt changes: %q %q", a, b)
	}
	if salt("ghost") == salt("ghost2") {
		t.Fatal("made-up users share a salt")
	}
}
