package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgfed/pgfed/consensus/transport"
	"github.com/pgfed/pgfed/consensus/validator"
)

// writeCoordinatorFederation writes a coordinator key and a federation file
// of three organizations (one validator each, keys as strkeys except
// org2's in hex), and returns the file's path and the validators' key
// strings.
func writeCoordinatorFederation(t *testing.T) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	key, err := transport.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := transport.WriteKeyFile(filepath.Join(dir, "coordinator.key"), key); err != nil {
		t.Fatal(err)
	}
	var keys, members, vals []string
	for i := 1; i <= 3; i++ {
		k, _ := transport.GenerateKey(rand.Reader)
		id := transport.NodeID(k)
		s := id.Strkey()
		if i == 2 {
			s = hex.EncodeToString(id[:])
		}
		keys = append(keys, s)
		members = append(members, fmt.Sprintf(`{"name": "org%d", "validators": [%q], "threshold": 0}`, i, s))
		vals = append(vals, fmt.Sprintf(`{"organization": "org%d", "client_addr": "127.0.0.1:%d", "key": %q}`, i, 7100+i, s))
	}
	body := fmt.Sprintf(`{
		"network": "pgfed-dev",
		"key_file": "coordinator.key",
		"membership": [%s],
		"validators": [%s],
		"commit_wait_ms": 2500
	}`, strings.Join(members, ", "), strings.Join(vals, ", "))
	path := filepath.Join(dir, "coordinator.json")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, keys
}

func TestLoadCoordinatorFederation(t *testing.T) {
	path, _ := writeCoordinatorFederation(t)
	fed, err := loadCoordinatorFederation(path)
	if err != nil {
		t.Fatal(err)
	}
	if fed.Wait != 2500*time.Millisecond || len(fed.Validators) != 3 || fed.Validators[1].Org != "org2" ||
		fed.Validators[1].Endpoint.Addr != "127.0.0.1:7102" || len(fed.Key) == 0 {
		t.Fatalf("loaded %+v", fed)
	}
	if fed.Membership.Network() != validator.NetworkID("pgfed-dev") || len(fed.Membership.Orgs()) != 3 {
		t.Fatalf("membership of %v", fed.Membership.Orgs())
	}
	if org, ok := fed.Membership.OrgOf(fed.Validators[2].Endpoint.Key); !ok || org != "org3" {
		t.Fatalf("org3's validator belongs to %q", org)
	}
	if fed, err := loadCoordinatorFederation(""); fed != nil || err != nil {
		t.Fatalf("no file: %v, %v", fed, err)
	}
}

func TestLoadCoordinatorFederationRejects(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(body string, keys []string) string
		want string
	}{
		"unknown field": {func(b string, _ []string) string {
			return strings.Replace(b, `"network"`, `"netwrok": "x", "network"`, 1)
		}, "unknown field"},
		"no network":  {func(b string, _ []string) string { return strings.Replace(b, `"pgfed-dev"`, `""`, 1) }, `"network" is required`},
		"no key file": {func(b string, _ []string) string { return strings.Replace(b, `"coordinator.key"`, `"missing.key"`, 1) }, "key_file"},
		"bad key":     {func(b string, k []string) string { return strings.Replace(b, `"key": "`+k[0], `"key": "Gnot`, 1) }, "validators[0].key"},
		"wrong org": {func(b string, k []string) string {
			return strings.Replace(b, `"organization": "org1"`, `"organization": "org2"`, 1)
		}, `not a validator of "org2"`},
		"bad member key": {func(b string, k []string) string {
			return strings.Replace(b, `"validators": ["`+k[1], `"validators": ["zz`, 1)
		}, "membership[1].validators[0]"},
		"no validators": {func(b string, k []string) string {
			return b[:strings.Index(b, `"validators": [{`)] + `"validators": []}`
		}, `"validators" is required`},
	} {
		t.Run(name, func(t *testing.T) {
			path, keys := writeCoordinatorFederation(t)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(tc.edit(string(data), keys)), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = loadCoordinatorFederation(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error saying %q, got %v", tc.want, err)
			}
		})
	}
}
