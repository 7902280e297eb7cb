package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestDevFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--orgs", "3", "--workers", "2"},
		{"--workers-per-org", "2"},
		{"--gateways"},
		{"--orgs", "-1"},
		{"--orgs", "3", "--workers-per-org", "0"},
		{"--orgs", "3", "--federation", "x.json"},
	} {
		var out, errb bytes.Buffer
		if code := devMain(context.Background(), append([]string{"--dir", t.TempDir()}, args...), &out, &errb); code != 2 {
			t.Errorf("pgfed dev %q: exit %d, want 2 (%s)", args, code, errb.String())
		}
	}
}

// TestDevFederationGateways starts `pgfed dev --orgs 3 --gateways`: every
// organization's worker behind its gateway, registered under the gateway's
// address, with a validator process; a gateway relays queries and refuses
// COMMIT PREPARED; a restarted cluster keeps its keys, ports and catalog.
func TestDevFederationGateways(t *testing.T) {
	bin := buildPgfed(t)
	dir := filepath.Join(t.TempDir(), "cluster")
	d := startDev(t, bin, dir, "--orgs", "3", "--gateways")
	info := readClusterInfo(t, dir)
	roles := map[string]int{}
	gateways := map[string]Process{}
	keys := map[string]string{}
	for _, p := range info.Processes {
		roles[p.Role]++
		switch p.Role {
		case "gateway":
			gateways[p.Organization] = p
		case "validator":
			keys[p.Organization] = p.Key
			if p.ClientAddr == "" || p.FederationAddr == "" || p.Key == "" || p.Config == "" {
				t.Errorf("validator entry %+v lacks addresses, key or config", p)
			}
		}
		if p.Role != "coordinator" && !processAlive(p.PID) {
			t.Errorf("cluster.json names %s %s with pid %d, which is not running", p.Role, p.Name, p.PID)
		}
	}
	if roles["metadata"] != 1 || roles["worker"] != 3 || roles["gateway"] != 3 || roles["validator"] != 3 || roles["coordinator"] != 1 {
		t.Fatalf("cluster.json roles = %v, want 1 metadata, 3 workers, 3 gateways, 3 validators, 1 coordinator", roles)
	}
	// The catalog knows the workers by their gateways.
	got := strings.TrimSpace(d.mustPsql("-At", "-c", "SELECT string_agg(nodename || ':' || nodeport || '=' || organization, ',' ORDER BY organization) FROM pgfed.node"))
	var want []string
	for _, org := range []string{"org1", "org2", "org3"} {
		want = append(want, fmt.Sprintf("%s:%d=%s", gateways[org].Host, gateways[org].Port, org))
	}
	if got != strings.Join(want, ",") {
		t.Errorf("nodes %q, want the gateways %q", got, strings.Join(want, ","))
	}
	// A gateway relays queries to its worker and refuses to finalize.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	gw := gateways["org2"]
	c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@%s:%d/postgres?sslmode=disable", gw.Host, gw.Port))
	if err != nil {
		t.Fatalf("connect through org2's gateway: %v", err)
	}
	defer c.Close(context.Background())
	var port int
	if err := c.QueryRow(ctx, "SELECT current_setting('port')::int").Scan(&port); err != nil || gw.Worker != fmt.Sprintf("127.0.0.1:%d", port) {
		t.Errorf("through the gateway: port %d (%v), want the worker %s", port, err, gw.Worker)
	}
	_, err = c.Exec(ctx, "COMMIT PREPARED 'pgfedx_c_1_x'")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != pgerrcode.InsufficientPrivilege {
		t.Errorf("COMMIT PREPARED through a gateway: %v, want 42501", err)
	}
	c.Close(ctx)

	// A restart reuses the keys, ports and nodes.
	d.stop()
	for _, p := range info.Processes {
		if p.Role != "coordinator" && processAlive(p.PID) {
			t.Errorf("%s %s (pid %d) still runs after pgfed dev stopped", p.Role, p.Name, p.PID)
		}
	}
	d2 := startDev(t, bin, dir, "--orgs", "3", "--gateways")
	info2 := readClusterInfo(t, dir)
	for _, p := range info2.Processes {
		switch p.Role {
		case "gateway":
			if p.Port != gateways[p.Organization].Port {
				t.Errorf("after a restart, %s's gateway moved from %d to %d", p.Organization, gateways[p.Organization].Port, p.Port)
			}
		case "validator":
			if p.Key != keys[p.Organization] {
				t.Errorf("after a restart, %s's validator key changed", p.Organization)
			}
		}
	}
	if got2 := strings.TrimSpace(d2.mustPsql("-At", "-c", "SELECT count(*) FROM pgfed.node")); got2 != "3" {
		t.Errorf("after a restart, %s nodes, want 3", got2)
	}
	// The folder remembers its layout.
	d2.stop()
	var out, errb bytes.Buffer
	if code := devMain(context.Background(), []string{"--dir", dir, "--orgs", "4"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "--orgs 3") {
		t.Errorf("another --orgs on the folder: exit %d, %s", code, errb.String())
	}
}
