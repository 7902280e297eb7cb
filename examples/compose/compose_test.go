package compose

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pgfed/pgfed/executor/pgcluster"
)

// root is the repository, seen from this package's folder.
const root = "../.."

// composeFile is the part of the compose format the file may use: decoding
// refuses any other key.
type composeFile struct {
	Services map[string]service `json:"services"`
	Volumes  map[string]any     `json:"volumes"`
}

type service struct {
	Image       string                `json:"image"`
	Build       *build                `json:"build"`
	Command     []string              `json:"command"`
	Environment map[string]string     `json:"environment"`
	Volumes     []string              `json:"volumes"`
	Ports       []string              `json:"ports"`
	Restart     string                `json:"restart"`
	Healthcheck *healthcheck          `json:"healthcheck"`
	DependsOn   map[string]dependency `json:"depends_on"`
}

type build struct {
	Context    string `json:"context"`
	Dockerfile string `json:"dockerfile"`
}

type healthcheck struct {
	Test     []string `json:"test"`
	Interval string   `json:"interval"`
	Timeout  string   `json:"timeout"`
	Retries  int      `json:"retries"`
}

type dependency struct {
	Condition string `json:"condition"`
}

// loadCompose parses docker-compose.yml with PyYAML (anchors and merge
// keys resolved) and decodes it strictly.
func loadCompose(t *testing.T) composeFile {
	t.Helper()
	const script = `import json, sys, yaml
json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)`
	var stderr bytes.Buffer
	cmd := exec.Command("python3", "-c", script, filepath.Join(root, "docker-compose.yml"))
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("parsing docker-compose.yml with python3 and PyYAML (apt-get install python3-yaml): %v\n%s", err, stderr.String())
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(out, &top); err != nil {
		t.Fatal(err)
	}
	for k := range top {
		if k != "services" && k != "volumes" && !strings.HasPrefix(k, "x-") {
			t.Errorf("top-level key %q is not one the file should use", k)
		}
		if strings.HasPrefix(k, "x-") {
			delete(top, k)
		}
	}
	b, _ := json.Marshal(top)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f composeFile
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return f
}

// buildPgfed compiles the pgfed binary.
func buildPgfed(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pgfed")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/pgfed/pgfed/cmd/pgfed").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// flagLine matches a flag in the usage text of Go's flag package.
var flagLine = regexp.MustCompile(`(?m)^\s+-([a-z0-9-]+)`)

// acceptedFlags runs `pgfed sub... -h` and returns the flag names its
// usage lists.
func acceptedFlags(t *testing.T, bin string, sub []string) map[string]bool {
	t.Helper()
	out, _ := exec.Command(bin, append(append([]string(nil), sub...), "-h")...).CombinedOutput()
	flags := map[string]bool{}
	for _, m := range flagLine.FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = true
	}
	if len(flags) == 0 {
		t.Fatalf("pgfed %s -h lists no flags:\n%s", strings.Join(sub, " "), out)
	}
	return flags
}

// subcommand splits a pgfed command line into its subcommand words and
// its flags.
func subcommand(cmd []string) (sub, args []string) {
	i := 1
	for i < len(cmd) && !strings.HasPrefix(cmd[i], "-") {
		i++
	}
	return cmd[1:i], cmd[i:]
}

// flagValue returns the value of --name in args.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if a == "--"+name && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

const volumePath = "/federation"

func TestComposeFile(t *testing.T) {
	f := loadCompose(t)
	bin := buildPgfed(t)

	want := []string{"coordinator", "federation-init", "metadata", "register"}
	for k := 1; k <= 3; k++ {
		want = append(want, fmt.Sprintf("org%d-worker", k), fmt.Sprintf("org%d-validator", k))
	}
	var names []string
	for n := range f.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Fatalf("services %v, want %v", names, want)
	}

	// Files, volumes, dependencies.
	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for n, s := range f.Services {
		if s.Build != nil {
			if _, err := os.Stat(filepath.Join(root, s.Build.Context, s.Build.Dockerfile)); err != nil {
				t.Errorf("%s: build: %v", n, err)
			}
		} else if s.Image != "postgres:15" {
			t.Errorf("%s: neither built from the Dockerfile nor the official postgres image: %q", n, s.Image)
		}
		for _, v := range s.Volumes {
			name, _, ok := strings.Cut(v, ":")
			if _, declared := f.Volumes[name]; !ok || !declared {
				t.Errorf("%s: volume %q is not declared", n, v)
			}
		}
		for d, dep := range s.DependsOn {
			target, ok := f.Services[d]
			switch {
			case !ok:
				t.Errorf("%s depends on %s, which is no service", n, d)
			case dep.Condition == "service_healthy" && target.Healthcheck == nil:
				t.Errorf("%s waits for %s to be healthy, which has no healthcheck", n, d)
			case dep.Condition != "service_healthy" && dep.Condition != "service_started" && dep.Condition != "service_completed_successfully":
				t.Errorf("%s: condition %q", n, dep.Condition)
			}
		}
		if s.Healthcheck != nil && slices.Contains(s.Healthcheck.Test, "pg_isready") && s.Build != nil &&
			!bytes.Contains(dockerfile, []byte("postgresql-client")) {
			t.Errorf("%s: its healthcheck runs pg_isready, which the image lacks", n)
		}
	}
	for _, m := range regexp.MustCompile(`(?m)^COPY (?:--\S+ )*(\S+)`).FindAllStringSubmatch(string(dockerfile), -1) {
		if strings.Contains(m[0], "--from=") || m[1] == "." {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, m[1])); err != nil {
			t.Errorf("Dockerfile: %s: %v", m[0], err)
		}
	}

	// The workers run with pgfed dev's worker settings, no more, no less.
	for _, n := range []string{"metadata", "org1-worker", "org2-worker", "org3-worker"} {
		cmd := f.Services[n].Command
		got := map[string]string{}
		for i := 0; i+1 < len(cmd); i++ {
			if cmd[i] == "-c" {
				k, v, _ := strings.Cut(cmd[i+1], "=")
				got[k] = v
			}
		}
		if !mapsEqual(got, pgcluster.WorkerSettings()) {
			t.Errorf("%s runs with %v, pgfed dev's workers with %v", n, got, pgcluster.WorkerSettings())
		}
	}

	// Every pgfed command line uses flags the binary accepts.
	for n, s := range f.Services {
		if len(s.Command) == 0 || s.Command[0] != "pgfed" {
			continue
		}
		sub, args := subcommand(s.Command)
		flags := acceptedFlags(t, bin, sub)
		for _, a := range args {
			if !strings.HasPrefix(a, "-") {
				continue
			}
			name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if !flags[name] {
				t.Errorf("%s: pgfed %s has no flag --%s", n, strings.Join(sub, " "), name)
			}
		}
	}

	// federation init, with the init service's own arguments, writes what
	// the validators and the coordinator read.
	dir := t.TempDir()
	local := func(p string) string {
		rest, ok := strings.CutPrefix(p, volumePath+"/")
		if !ok {
			t.Fatalf("%s is not on the shared volume %s", p, volumePath)
		}
		return filepath.Join(dir, rest)
	}
	init := f.Services["federation-init"]
	if !slices.Contains(init.Volumes, "federation:"+volumePath) {
		t.Fatalf("federation-init does not mount the federation volume at %s", volumePath)
	}
	sub, args := subcommand(init.Command)
	if strings.Join(sub, " ") != "federation init" {
		t.Fatalf("federation-init runs pgfed %s", strings.Join(sub, " "))
	}
	if d, _ := flagValue(args, "dir"); d != volumePath {
		t.Fatalf("federation-init writes to %q, not the volume %s", d, volumePath)
	}
	run := []string{"federation", "init", "--mount", volumePath}
	for i := 0; i < len(args); i++ {
		if args[i] == "--dir" {
			run = append(run, "--dir", dir)
			i++
			continue
		}
		run = append(run, args[i])
	}
	if out, err := exec.Command(bin, run...).CombinedOutput(); err != nil {
		t.Fatalf("pgfed %s: %v\n%s", strings.Join(run, " "), err, out)
	}
	isService := func(hostport string) bool {
		h, _, err := net.SplitHostPort(hostport)
		_, ok := f.Services[h]
		return err == nil && ok
	}
	withGateways := true
	if v, ok := flagValue(args, "gateways"); ok {
		withGateways = v != "false"
	}
	nodes := map[string]string{} // "host:port" the catalog must know -> organization
	for k := 1; k <= 3; k++ {
		org := fmt.Sprintf("org%d", k)
		v := f.Services[org+"-validator"]
		_, vargs := subcommand(v.Command)
		path, _ := flagValue(vargs, "config")
		b, err := os.ReadFile(local(path))
		if err != nil {
			t.Fatalf("%s-validator: %v", org, err)
		}
		var vc struct {
			Peers []struct {
				Addr           string `json:"addr"`
				FederationAddr string `json:"federation_addr"`
			} `json:"peers"`
			Federation struct {
				Organization string `json:"organization"`
				Workers      []struct {
					Name string `json:"name"`
					Host string `json:"host"`
					Port int    `json:"port"`
				} `json:"workers"`
			} `json:"federation"`
			Gateway struct {
				Workers []struct {
					Listen string `json:"listen"`
					Worker string `json:"worker"`
				} `json:"workers"`
			} `json:"gateway"`
		}
		if err := json.Unmarshal(b, &vc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if vc.Federation.Organization != org || len(vc.Federation.Workers) != 1 {
			t.Fatalf("%s: organization %q, %d workers", path, vc.Federation.Organization, len(vc.Federation.Workers))
		}
		w := vc.Federation.Workers[0]
		if _, ok := f.Services[w.Host]; !ok || w.Host != org+"-worker" || w.Port != 5432 {
			t.Errorf("%s: worker at %s:%d, want the service %s-worker:5432", path, w.Host, w.Port, org)
		}
		switch {
		case !isService(w.Name):
			t.Errorf("%s: worker named %s, not a service's address", path, w.Name)
		case withGateways && !strings.HasPrefix(w.Name, org+"-validator:"):
			t.Errorf("%s: worker named %s, want its gateway on %s-validator", path, w.Name, org)
		case !withGateways && w.Name != net.JoinHostPort(w.Host, fmt.Sprint(w.Port)):
			t.Errorf("%s: worker named %s, want its own address %s:%d", path, w.Name, w.Host, w.Port)
		}
		if withGateways {
			if gw := vc.Gateway.Workers; len(gw) != 1 || gw[0].Worker != w.Name || !strings.HasPrefix(gw[0].Listen, "0.0.0.0:") {
				t.Errorf("%s: gateways %+v for worker %s", path, gw, w.Name)
			}
		} else if len(vc.Gateway.Workers) != 0 {
			t.Errorf("%s: gateways %+v, but federation init ran with --gateways=false", path, vc.Gateway.Workers)
		}
		nodes[w.Name] = org
		for _, p := range vc.Peers {
			if !isService(p.Addr) || !isService(p.FederationAddr) {
				t.Errorf("%s: peer %+v is not at a service of the file", path, p)
			}
		}
	}

	coord := f.Services["coordinator"]
	_, cargs := subcommand(coord.Command)
	fedPath, _ := flagValue(cargs, "federation")
	b, err := os.ReadFile(local(fedPath))
	if err != nil {
		t.Fatalf("coordinator --federation: %v", err)
	}
	var cf struct {
		KeyFile    string `json:"key_file"`
		Validators []struct {
			ClientAddr string `json:"client_addr"`
		} `json:"validators"`
	}
	if err := json.Unmarshal(b, &cf); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(local(cf.KeyFile)); err != nil {
		t.Errorf("the coordinator's key_file %s: %v", cf.KeyFile, err)
	}
	if len(cf.Validators) != 3 {
		t.Errorf("the coordinator knows %d validators", len(cf.Validators))
	}
	for _, v := range cf.Validators {
		if !isService(v.ClientAddr) {
			t.Errorf("the coordinator reaches a validator at %s, not a service of the file", v.ClientAddr)
		}
	}
	meta, _ := flagValue(cargs, "metadata")
	if !strings.Contains(meta, "host=metadata ") {
		t.Errorf("coordinator --metadata %q does not name the metadata service", meta)
	}

	// The registration script registers exactly those gateways, each in
	// its organization, through psql against the coordinator.
	reg := f.Services["register"]
	if len(reg.Command) != 1 || !bytes.Contains(dockerfile, []byte("examples/compose/register.sh /usr/local/bin/"+reg.Command[0])) {
		t.Fatalf("register runs %q, which the Dockerfile does not install", reg.Command)
	}
	if _, ok := f.Services[reg.Environment["PGHOST"]]; !ok {
		t.Errorf("register connects to %q, no service", reg.Environment["PGHOST"])
	}
	if base, _ := flagValue(args, "base-port"); reg.Environment["BASE_PORT"] != base {
		t.Errorf("register's BASE_PORT %q, federation init's --base-port %q", reg.Environment["BASE_PORT"], base)
	}
	if port, _ := flagValue(args, "worker-port"); reg.Environment["WORKER_PORT"] != port {
		t.Errorf("register's WORKER_PORT %q, federation init's --worker-port %q", reg.Environment["WORKER_PORT"], port)
	}
	if reg.Environment["GATEWAYS"] != fmt.Sprint(withGateways) {
		t.Errorf("register's GATEWAYS %q, federation init's --gateways %v", reg.Environment["GATEWAYS"], withGateways)
	}
	sql := runRegister(t, reg.Environment)
	registered := map[string]string{}
	for _, m := range regexp.MustCompile(`pgfed_set_node_organization\('([^']+)', (\d+), '([^']+)'\)`).FindAllStringSubmatch(sql, -1) {
		registered[net.JoinHostPort(m[1], m[2])] = m[3]
		if !strings.Contains(sql, fmt.Sprintf("citus_add_node('%s', %s)", m[1], m[2])) {
			t.Errorf("%s:%s is put in %s but never added", m[1], m[2], m[3])
		}
		if !strings.Contains(sql, fmt.Sprintf("pgfed_add_organization('%s')", m[3])) {
			t.Errorf("organization %s is never added", m[3])
		}
	}
	if !mapsEqual(registered, nodes) {
		t.Errorf("register.sh registers %v; federation init named the workers %v", registered, nodes)
	}
	// And with gateways, the gateways' addresses.
	genv := maps.Clone(reg.Environment)
	genv["GATEWAYS"] = "true"
	gsql := runRegister(t, genv)
	for k := 1; k <= 3; k++ {
		want := fmt.Sprintf("citus_add_node('org%d-validator', %d)", k, 7000+20*(k-1)+10)
		if !strings.Contains(gsql, want) {
			t.Errorf("register.sh with GATEWAYS=true does not run %s:\n%s", want, gsql)
		}
	}
}

// runRegister runs register.sh with psql and pg_isready replaced by
// scripts that record the statements, and returns them.
func runRegister(t *testing.T, env map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "psql.log")
	for name, body := range map[string]string{
		"psql":       "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\" >> " + log + "; done\n",
		"pg_isready": "#!/bin/sh\nexit 0\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("sh", "register.sh")
	cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("register.sh: %v\n%s", err, out)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
