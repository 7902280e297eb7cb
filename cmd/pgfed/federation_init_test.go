package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
	"github.com/pgfed/pgfed/consensus/validator"
)

func TestFedThreshold(t *testing.T) {
	// 3 organizations survive one crash (2 of 3); from 4 on, f =
	// floor((n-1)/3) faulty ones (n - f of n, 2f+1 at n = 3f+1).
	for n, want := range map[int]uint32{1: 1, 2: 2, 3: 2, 4: 3, 5: 4, 7: 5, 10: 7} {
		if got := fedThreshold(n); got != want {
			t.Errorf("fedThreshold(%d) = %d, want %d", n, got, want)
		}
	}
}

// TestFederationInit generates a containerized federation (a host per
// organization, another per worker) and checks what the validators and
// coordinators will read: every validator's configuration loads, passes the
// validator's own quorum check, names its gateway's workers and its peers;
// the coordinators' file names every organization's validator; keys are
// kept when init runs again.
func TestFederationInit(t *testing.T) {
	for _, n := range []int{3, 4} {
		dir := t.TempDir()
		args := []string{"init", "--orgs", strconv.Itoa(n), "--dir", dir, "--mount", "/etc/pgfed", "--workers-per-org", "2",
			"--host-of-org-template", "{org}-validator", "--bind", "0.0.0.0", "--worker-host-template", "{org}-db{w}", "--allowed-tables", "accounts, transfers"}
		var out, errb bytes.Buffer
		if code := federationMain(context.Background(), args, &out, &errb); code != 0 {
			t.Fatalf("n=%d: exit %d: %s", n, code, errb.String())
		}
		if !strings.Contains(out.String(), "quorum threshold "+strconv.Itoa(int(fedThreshold(n)))+" of "+strconv.Itoa(n)) {
			t.Errorf("n=%d: output does not give the threshold:\n%s", n, out.String())
		}
		keys := map[string]string{}
		for k := 1; k <= n; k++ {
			org := "org" + strconv.Itoa(k)
			path := filepath.Join(dir, "orgs", org, "validator.json")
			var vf validatorFileConfig
			readJSONStrict(t, path, &vf)
			if vf.Gateway == nil || len(vf.Gateway.Workers) != 2 || vf.Gateway.PrepareWaitMS != 2000 ||
				strings.Join(vf.Gateway.AllowedTables, ",") != "accounts,transfers" {
				t.Fatalf("%s: gateway section %+v", org, vf.Gateway)
			}
			base := 7000 + 20*(k-1)
			for w, gw := range vf.Gateway.Workers {
				name := org + "-validator:" + strconv.Itoa(base+10+w)
				if gw.Listen != "0.0.0.0:"+strconv.Itoa(base+10+w) || gw.Worker != name {
					t.Errorf("%s: gateway %d = %+v, want listen 0.0.0.0:%d for worker %s", org, w, gw, base+10+w, name)
				}
				fw := vf.Federation.Workers[w]
				if fw.Name != name || fw.Host != org+"-db"+strconv.Itoa(w+1) || fw.Port != 5432 {
					t.Errorf("%s: federation worker %d = %+v", org, w, fw)
				}
			}
			// What `pgfed validator` reads.
			cfg, peerQSets, fed, err := loadValidatorConfig(path)
			if err != nil {
				t.Fatalf("%s: %v", org, err)
			}
			gw, err := loadGatewayConfig(path, fed)
			if err != nil || gw == nil || len(gw.Routes) != 2 || gw.PrepareWait.Milliseconds() != 2000 {
				t.Fatalf("%s: gateway config %+v: %v", org, gw, err)
			}
			if fed == nil || fed.OrphanPrefix != "pgfedx_" || fed.Timeout != 30 || fed.GossipListen != "0.0.0.0:"+strconv.Itoa(base+1) {
				t.Fatalf("%s: federation config %+v", org, fed)
			}
			if cfg.QSet.Threshold != fedThreshold(n) || len(cfg.QSet.Validators) != n || len(cfg.Peers) != n-1 {
				t.Fatalf("%s: quorum set %+v, %d peers", org, cfg.QSet, len(cfg.Peers))
			}
			for _, p := range cfg.Peers {
				if !strings.HasSuffix(strings.Split(p.Addr, ":")[0], "-validator") {
					t.Errorf("%s: peer address %s is not a validator host", org, p.Addr)
				}
			}
			var ids []quorum.NodeID
			for _, p := range cfg.Peers {
				ids = append(ids, p.ID)
			}
			res, err := validator.CheckNetwork(context.Background(), transport.NodeID(cfg.Key), cfg.QSet, ids, peerQSets)
			if err != nil || !res.Intersects {
				t.Fatalf("%s: the validator's quorum check refuses the network: %v %+v", org, err, res)
			}
			keys[org] = transport.NodeID(cfg.Key).Strkey()
		}
		var cf coordinatorFederationFile
		readJSONStrict(t, filepath.Join(dir, "federation", "coordinator.json"), &cf)
		// What `pgfed coordinator --federation` reads (the key path is the
		// container's: load a copy pointing at the generated key).
		local := cf
		local.KeyFile = filepath.Join(dir, "federation", "coordinator.key")
		lpath := filepath.Join(t.TempDir(), "coordinator.json")
		if err := writeJSONFile(lpath, local, 0o600); err != nil {
			t.Fatal(err)
		}
		if fed, err := loadCoordinatorFederation(lpath); err != nil || fed == nil || len(fed.Validators) != n {
			t.Fatalf("the coordinator does not load the generated file: %+v %v", fed, err)
		}
		if cf.KeyFile != "/etc/pgfed/federation/coordinator.key" || cf.Network != fedDefaultNetwork || cf.CommitWaitMS != 30000 {
			t.Errorf("coordinator file %+v", cf)
		}
		if _, err := transport.ReadKeyFile(filepath.Join(dir, "federation", "coordinator.key")); err != nil {
			t.Errorf("coordinator key: %v", err)
		}
		if len(cf.Validators) != n || len(cf.Membership) != n {
			t.Fatalf("coordinator file: %d validators, %d members", len(cf.Validators), len(cf.Membership))
		}
		for k, v := range cf.Validators {
			org := "org" + strconv.Itoa(k+1)
			if v.Organization != org || v.Key != keys[org] || v.ClientAddr != org+"-validator:"+strconv.Itoa(7000+20*k+2) ||
				cf.Membership[k].Name != org || cf.Membership[k].Validators[0] != keys[org] {
				t.Errorf("coordinator file, %s: %+v %+v", org, v, cf.Membership[k])
			}
		}
		// Again: the same keys.
		out.Reset()
		if code := federationMain(context.Background(), args, &out, &errb); code != 0 {
			t.Fatalf("second init: exit %d: %s", code, errb.String())
		}
		for org, key := range keys {
			if !strings.Contains(out.String(), org+"  validator "+key) {
				t.Errorf("second init: %s's key changed:\n%s", org, out.String())
			}
		}
	}
}

func TestFederationInitBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"init"},
		{"init", "--dir", t.TempDir(), "--orgs", "0"},
		{"init", "--dir", t.TempDir(), "--workers-per-org", "11"},
		{"init", "--dir", t.TempDir(), "--base-port", "65530"},
		{"make"},
	} {
		var out, errb bytes.Buffer
		if code := federationMain(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}

func readJSONStrict(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
}

// TestFederationInitWithoutGateways: --gateways=false names the workers by
// their own addresses and writes no gateway section.
func TestFederationInitWithoutGateways(t *testing.T) {
	dir := t.TempDir()
	args := []string{"init", "--orgs", "3", "--dir", dir, "--gateways=false", "--worker-host-template", "{org}-db"}
	var out, errb bytes.Buffer
	if code := federationMain(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for k := 1; k <= 3; k++ {
		org := "org" + strconv.Itoa(k)
		var vf validatorFileConfig
		readJSONStrict(t, filepath.Join(dir, "orgs", org, "validator.json"), &vf)
		if vf.Gateway != nil || len(vf.Federation.Workers) != 1 || vf.Federation.Workers[0].Name != org+"-db:5432" {
			t.Errorf("%s: gateway %+v, workers %+v; want no gateway and the worker named %s-db:5432", org, vf.Gateway, vf.Federation.Workers, org)
		}
	}
}
