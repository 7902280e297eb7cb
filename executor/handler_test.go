package executor

import (
	"testing"

	"github.com/pgfed/pgfed/wire"
)

func TestNewHandlerRejectsBadConfig(t *testing.T) {
	if _, err := newHandler(Config{}); err == nil {
		t.Error("newHandler accepted an empty Metadata")
	}
	if _, err := newHandler(Config{Metadata: "host=localhost port=notaport"}); err == nil {
		t.Error("newHandler accepted a bad connection string")
	}
}

func TestSessionConfigTakesTheClientsStartup(t *testing.T) {
	h, err := newHandler(Config{Metadata: "host=10.0.0.9 port=5433 user=admin password=secret dbname=meta application_name=pgfed search_path=x"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := h.sessionConfig(wire.Startup{
		User:     "alice",
		Database: "shop",
		Params: map[string]string{
			"user": "alice", "database": "shop", "application_name": "psql",
			"options": "-c geqo=off", "DateStyle": "ISO, DMY",
			"replication": "database", "_pq_.protocol_ext": "1",
		},
	})
	if cfg.Host != "10.0.0.9" || cfg.Port != 5433 || cfg.Password != "secret" {
		t.Errorf("server settings lost: host %q port %d password %q", cfg.Host, cfg.Port, cfg.Password)
	}
	if cfg.User != "alice" || cfg.Database != "shop" {
		t.Errorf("user %q database %q, want the client's", cfg.User, cfg.Database)
	}
	want := map[string]string{"application_name": "psql", "options": "-c geqo=off", "DateStyle": "ISO, DMY", "search_path": "x"}
	for k, v := range want {
		if cfg.RuntimeParams[k] != v {
			t.Errorf("RuntimeParams[%s] = %q, want %q", k, cfg.RuntimeParams[k], v)
		}
	}
	for _, k := range []string{"user", "database", "replication", "_pq_.protocol_ext"} {
		if _, ok := cfg.RuntimeParams[k]; ok {
			t.Errorf("RuntimeParams has %s", k)
		}
	}
	// The handler's own configuration is not modified.
	if h.meta.RuntimeParams["application_name"] != "pgfed" || h.meta.User != "admin" {
		t.Error("sessionConfig changed the handler's configuration")
	}
	// No database: PostgreSQL's default, the user's name.
	if cfg := h.sessionConfig(wire.Startup{User: "bob"}); cfg.Database != "bob" {
		t.Errorf("database %q, want bob", cfg.Database)
	}
}
