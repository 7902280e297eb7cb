package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
	"github.com/pgfed/pgfed/consensus/validator"
	"github.com/pgfed/pgfed/executor/federation"
)

// The files of a federation, under its folder (pgfed federation init
// --dir, or the dev cluster's folder):
//
//	orgs/<org>/validator.key   the organization's validator key (kept)
//	orgs/<org>/validator.json  `pgfed validator --config` of the organization
//	orgs/<org>/data/           the validator's data folder (made by it)
//	federation/coordinator.key the coordinators' signing key (kept)
//	federation/coordinator.json `pgfed coordinator --federation`
//	federation/layout.json     the layout the files were made from
const (
	fedOrgsDir        = "orgs"
	fedCoordDir       = "federation"
	fedValidatorKey   = "validator.key"
	fedValidatorConf  = "validator.json"
	fedCoordKey       = "coordinator.key"
	fedCoordConf      = "coordinator.json"
	fedLayoutFile     = "layout.json"
	fedDefaultNetwork = "pgfed-dev"
)

// fedLayout says where every process of a federation runs: the input of
// the configuration generator (writeFederation). pgfed dev keeps it in
// federation/layout.json so that a restarted cluster reuses its ports.
type fedLayout struct {
	// Network names the federation (validator.NetworkID of it signs).
	Network string `json:"network"`
	// Orgs are the organizations, one validator each.
	Orgs []fedOrgLayout `json:"orgs"`
	// CommitTimeoutTicks and TickMS: a participant's validator votes ABORT
	// on a request whose parts are not all prepared that long after it
	// learned it.
	CommitTimeoutTicks uint64 `json:"commit_timeout_ticks"`
	TickMS             int    `json:"tick_ms"`
	// OrphanTimeoutTicks rolls back prepared federated parts no request
	// names (0: never); safe with one validator per organization.
	OrphanTimeoutTicks uint64 `json:"orphan_timeout_ticks"`
	// CommitWaitMS bounds a coordinator's wait for a decision.
	CommitWaitMS int `json:"commit_wait_ms"`
	// AllowedTables restricts what remote coordinators may touch through
	// the gateways (empty: every table).
	AllowedTables []string `json:"allowed_tables,omitempty"`
	// PrepareWaitMS is how long a gateway waits for its validator to learn
	// the request of a PREPARE TRANSACTION.
	PrepareWaitMS int `json:"prepare_wait_ms"`
}

// fedOrgLayout is one organization: its validator (with the gateways in
// the same process) and its workers.
type fedOrgLayout struct {
	Name string `json:"name"`
	// Host is the validator's host as the others reach it; Bind is the
	// host it listens on ("" = Host; "0.0.0.0" in a container).
	Host           string `json:"host"`
	Bind           string `json:"bind,omitempty"`
	SCPPort        int    `json:"scp_port"`
	FederationPort int    `json:"federation_port"`
	ClientPort     int    `json:"client_port"`
	// Workers are the organization's workers, each behind a gateway port
	// on Host.
	Workers []fedWorkerLayout `json:"workers"`
	// NoGateway leaves the workers without gateways: the coordinators
	// reach them directly, under their own addresses, and nothing keeps a
	// coordinator from finalizing a prepared transaction itself.
	NoGateway bool `json:"no_gateway,omitempty"`
}

// fedWorkerLayout is one worker and its gateway.
type fedWorkerLayout struct {
	GatewayPort int    `json:"gateway_port"`
	Host        string `json:"host"`
	Port        int    `json:"port"`
	User        string `json:"user"`
	Database    string `json:"database"`
}

func (o *fedOrgLayout) bind() string {
	if o.Bind != "" {
		return o.Bind
	}
	return o.Host
}

// NodeAddr is the address coordinators know worker w by: its gateway on
// the organization's host (the worker's own address with NoGateway). It is
// the worker's node address in the catalog and its name in commit requests
// and in the validator's configuration.
func (o *fedOrgLayout) NodeAddr(w int) string {
	if o.NoGateway {
		return o.WorkerAddr(w)
	}
	return net.JoinHostPort(o.Host, strconv.Itoa(o.Workers[w].GatewayPort))
}

// WorkerAddr is worker w's PostgreSQL address.
func (o *fedOrgLayout) WorkerAddr(w int) string {
	return net.JoinHostPort(o.Workers[w].Host, strconv.Itoa(o.Workers[w].Port))
}

func (o *fedOrgLayout) addr(port int) string  { return net.JoinHostPort(o.Host, strconv.Itoa(port)) }
func (o *fedOrgLayout) laddr(port int) string { return net.JoinHostPort(o.bind(), strconv.Itoa(port)) }

func (l *fedLayout) validate() error {
	if l.Network == "" {
		return errors.New("federation layout: network is required")
	}
	if len(l.Orgs) == 0 {
		return errors.New("federation layout: no organizations")
	}
	if l.CommitTimeoutTicks == 0 || l.TickMS <= 0 || l.CommitWaitMS <= 0 {
		return errors.New("federation layout: commit_timeout_ticks, tick_ms and commit_wait_ms must be positive")
	}
	seen := map[string]bool{}
	for _, o := range l.Orgs {
		if o.Name == "" || seen[o.Name] || strings.ContainsAny(o.Name, "/\\_ ") {
			return fmt.Errorf("federation layout: organization name %q empty, repeated or not a plain word", o.Name)
		}
		seen[o.Name] = true
		if o.Host == "" || len(o.Workers) == 0 {
			return fmt.Errorf("federation layout: organization %s needs a host and workers", o.Name)
		}
		for _, p := range []int{o.SCPPort, o.FederationPort, o.ClientPort} {
			if p <= 0 || p > 65535 {
				return fmt.Errorf("federation layout: organization %s: port %d out of range", o.Name, p)
			}
		}
		for i, w := range o.Workers {
			if w.GatewayPort <= 0 || w.GatewayPort > 65535 || w.Port <= 0 || w.Port > 65535 || w.Host == "" || w.Database == "" {
				return fmt.Errorf("federation layout: organization %s worker %d: gateway_port, host, port and database are required", o.Name, i+1)
			}
		}
	}
	return nil
}

// fedThreshold is the top-level threshold of the quorum set shared by n
// one-validator organizations: all of them up to 2; a majority (2) for 3,
// which survives one crashed organization but not a lying one; and
// n - floor((n-1)/3) from 4 on (quorum.BFTThreshold, that is 2f+1 for
// n = 3f+1), which survives f faulty organizations, crashed or lying.
func fedThreshold(n int) uint32 {
	if n <= 3 {
		return uint32(n/2 + 1)
	}
	return quorum.BFTThreshold(n)
}

// fedFiles is what writeFederation made.
type fedFiles struct {
	// Keys are the validators' public keys, by organization.
	Keys map[string]quorum.NodeID
	// ValidatorConfigs are the validators' configuration files, by
	// organization.
	ValidatorConfigs map[string]string
	// CoordinatorConfig is `pgfed coordinator --federation`'s file.
	CoordinatorConfig string
	// Threshold is the quorum sets' threshold.
	Threshold uint32
}

// writeFederation writes the keys (kept when they exist) and the
// configuration files of layout l under dir: one validator configuration
// per organization (with its federation and gateway sections) and the
// coordinators' federation configuration. mount is the folder the
// processes that read the files see dir as (the same path when they run on
// this machine; the mount point in a container): the coordinator's key
// path is written under it, the validators' paths relative to their file.
// The quorum sets pass the validators' own intersection check.
func writeFederation(ctx context.Context, dir, mount string, l fedLayout) (*fedFiles, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	if mount == "" {
		mount = dir
	}
	out := &fedFiles{Keys: map[string]quorum.NodeID{}, ValidatorConfigs: map[string]string{}, Threshold: fedThreshold(len(l.Orgs))}
	var ids []quorum.NodeID
	var members []federationMemberCfg
	var endpoints []coordinatorValidatorCfg
	for _, o := range l.Orgs {
		key, err := ensureKey(filepath.Join(dir, fedOrgsDir, o.Name, fedValidatorKey))
		if err != nil {
			return nil, fmt.Errorf("organization %s: %w", o.Name, err)
		}
		id := transport.NodeID(key)
		out.Keys[o.Name] = id
		ids = append(ids, id)
		members = append(members, federationMemberCfg{Name: o.Name, Validators: []string{id.Strkey()}})
		endpoints = append(endpoints, coordinatorValidatorCfg{Organization: o.Name, ClientAddr: o.addr(o.ClientPort), Key: id.Strkey()})
	}
	qset := qsetJSON{Threshold: out.Threshold, InnerSets: []qsetJSON{}}
	for _, id := range ids {
		qset.Validators = append(qset.Validators, id.Strkey())
	}
	for i, o := range l.Orgs {
		vf := validatorFileConfig{
			Network: l.Network, KeyFile: fedValidatorKey, Listen: o.laddr(o.SCPPort), DataDir: "data", QuorumSet: &qset,
			Federation: &federationFileConfig{
				Organization: o.Name, Membership: members, CommitTimeoutTicks: l.CommitTimeoutTicks, TickMS: l.TickMS,
				Listen: o.laddr(o.FederationPort), ClientListen: o.laddr(o.ClientPort),
				OrphanTimeoutTicks: l.OrphanTimeoutTicks,
			},
		}
		if l.OrphanTimeoutTicks > 0 {
			// Federated gids only: dtx's are "pgfed_", not "pgfedx_".
			vf.Federation.OrphanPrefix = federation.GIDPrefix
		}
		gw := &gatewayFileConfig{AllowedTables: append([]string{}, l.AllowedTables...), PrepareWaitMS: l.PrepareWaitMS}
		for w, wl := range o.Workers {
			name := o.NodeAddr(w)
			vf.Federation.Workers = append(vf.Federation.Workers, federationWorkerCfg{Name: name, Host: wl.Host, Port: wl.Port, User: wl.User, Database: wl.Database})
			gw.Workers = append(gw.Workers, gatewayWorkerCfg{Listen: o.laddr(wl.GatewayPort), Worker: name})
		}
		if !o.NoGateway {
			vf.Gateway = gw
		}
		for j, p := range l.Orgs {
			if j != i {
				vf.Peers = append(vf.Peers, validatorPeerCfg{Key: out.Keys[p.Name].Strkey(), Addr: p.addr(p.SCPPort), FederationAddr: p.addr(p.FederationPort)})
			}
		}
		var peerIDs []quorum.NodeID
		for j, id := range ids {
			if j != i {
				peerIDs = append(peerIDs, id)
			}
		}
		q, err := qset.qset("quorum_set")
		if err != nil {
			return nil, err
		}
		res, err := validator.CheckNetwork(ctx, ids[i], q, peerIDs, nil)
		if err != nil {
			return nil, fmt.Errorf("organization %s: quorum check: %w", o.Name, err)
		}
		if !res.Intersects {
			return nil, fmt.Errorf("organization %s: %s", o.Name, describeIntersection(res))
		}
		path := filepath.Join(dir, fedOrgsDir, o.Name, fedValidatorConf)
		if err := writeJSONFile(path, vf, 0o600); err != nil {
			return nil, err
		}
		out.ValidatorConfigs[o.Name] = path
	}
	coordKey := filepath.Join(dir, fedCoordDir, fedCoordKey)
	if _, err := ensureKey(coordKey); err != nil {
		return nil, fmt.Errorf("coordinator: %w", err)
	}
	cf := coordinatorFederationFile{Network: l.Network, KeyFile: filepath.Join(mount, fedCoordDir, fedCoordKey),
		Membership: members, Validators: endpoints, CommitWaitMS: l.CommitWaitMS}
	out.CoordinatorConfig = filepath.Join(dir, fedCoordDir, fedCoordConf)
	if err := writeJSONFile(out.CoordinatorConfig, cf, 0o600); err != nil {
		return nil, err
	}
	if err := writeJSONFile(filepath.Join(dir, fedCoordDir, fedLayoutFile), l, 0o644); err != nil {
		return nil, err
	}
	return out, nil
}

// ensureKey reads the Ed25519 key at path, or makes one there (and its
// folder) when there is none.
func ensureKey(path string) (ed25519.PrivateKey, error) {
	key, err := transport.ReadKeyFile(path)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if key, err = transport.GenerateKey(rand.Reader); err != nil {
		return nil, err
	}
	if err := transport.WriteKeyFile(path, key); err != nil {
		return nil, err
	}
	return key, nil
}

// writeJSONFile writes v as indented JSON, atomically (temporary file,
// rename), making the folder when needed.
func writeJSONFile(path string, v any, perm os.FileMode) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// readFedLayout reads a layout written by writeFederation (ok false when
// there is none).
func readFedLayout(dir string) (l fedLayout, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, fedCoordDir, fedLayoutFile))
	if errors.Is(err, fs.ErrNotExist) {
		return l, false, nil
	}
	if err != nil {
		return l, false, err
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return l, false, fmt.Errorf("%s: %w", filepath.Join(dir, fedCoordDir, fedLayoutFile), err)
	}
	return l, true, nil
}

// fedInitOptions are the flags of `pgfed federation init`.
type fedInitOptions struct {
	orgs          int
	workersPerOrg int
	dir           string
	mount         string
	network       string
	hostTemplate  string // the organization's validator and gateways
	bind          string
	workerHost    string // template of a worker's host
	basePort      int
	workerPort    int
	workerUser    string
	workerDB      string
	commitTicks   uint64
	tickMS        int
	orphanTicks   uint64
	commitWaitMS  int
	prepareWaitMS int
	allowed       string
	gateways      bool // false: NoGateway for every organization
}

// fedPortStride is the ports each organization gets from --base-port:
// SCP, federation links and clients at +0, +1, +2, gateways from +10.
const fedPortStride = 20

// maxWorkersPerOrg bounds --workers-per-org (the gateways' ports fit the
// stride).
const maxWorkersPerOrg = fedPortStride - 10

// expand replaces {org} (org1), {n} (1) and {w} (the worker's number) in
// a host template.
func expand(template, org string, n, w int) string {
	r := strings.NewReplacer("{org}", org, "{n}", strconv.Itoa(n), "{w}", strconv.Itoa(w))
	return r.Replace(template)
}

// layout builds the layout the flags describe: organization K is named
// orgK, its validator is on --host-of-org-template's host with ports from
// --base-port + 20*(K-1), and its workers on --worker-host-template's host
// at --worker-port (plus the worker's rank among those of the same host,
// so several workers may share a host).
func (o *fedInitOptions) layout() (fedLayout, error) {
	if o.orgs < 1 || o.orgs > 64 {
		return fedLayout{}, errors.New("--orgs must be between 1 and 64")
	}
	if o.workersPerOrg < 1 || o.workersPerOrg > maxWorkersPerOrg {
		return fedLayout{}, fmt.Errorf("--workers-per-org must be between 1 and %d", maxWorkersPerOrg)
	}
	if o.basePort < 1 || o.basePort+fedPortStride*o.orgs > 65535 {
		return fedLayout{}, errors.New("--base-port leaves no room for the organizations' ports")
	}
	l := fedLayout{Network: o.network, CommitTimeoutTicks: o.commitTicks, TickMS: o.tickMS, OrphanTimeoutTicks: o.orphanTicks,
		CommitWaitMS: o.commitWaitMS, PrepareWaitMS: o.prepareWaitMS}
	for _, t := range strings.Split(o.allowed, ",") {
		if t = strings.TrimSpace(t); t != "" {
			l.AllowedTables = append(l.AllowedTables, t)
		}
	}
	workersOnHost := map[string]int{}
	for k := 1; k <= o.orgs; k++ {
		name := "org" + strconv.Itoa(k)
		base := o.basePort + fedPortStride*(k-1)
		ol := fedOrgLayout{Name: name, Host: expand(o.hostTemplate, name, k, 0), Bind: o.bind,
			SCPPort: base, FederationPort: base + 1, ClientPort: base + 2, NoGateway: !o.gateways}
		for w := 1; w <= o.workersPerOrg; w++ {
			host := expand(o.workerHost, name, k, w)
			port := o.workerPort + workersOnHost[host]
			workersOnHost[host]++
			ol.Workers = append(ol.Workers, fedWorkerLayout{GatewayPort: base + 9 + w, Host: host, Port: port, User: o.workerUser, Database: o.workerDB})
		}
		l.Orgs = append(l.Orgs, ol)
	}
	return l, nil
}

// federationMain implements `pgfed federation init`.
func federationMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, "usage: pgfed federation init --orgs N --dir DIR [flags]\n       pgfed federation bench [flags]   (make bench-fed)\n\n"+
			"writes the validators' keys and configurations (with their gateways) and the\n"+
			"coordinators' federation configuration of N organizations org1..orgN:\n"+
			"  DIR/orgs/orgK/validator.json   pgfed validator --config DIR/orgs/orgK/validator.json\n"+
			"  DIR/federation/coordinator.json pgfed coordinator --federation DIR/federation/coordinator.json\n"+
			"Existing keys are kept; the configurations are rewritten.")
	}
	if len(args) > 0 && args[0] == "bench" {
		return fedBenchMain(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "init" {
		usage()
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return 0
		}
		return 2
	}
	fs := flag.NewFlagSet("pgfed federation init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o fedInitOptions
	fs.IntVar(&o.orgs, "orgs", 3, "number of organizations (org1..orgN), one validator each")
	fs.IntVar(&o.workersPerOrg, "workers-per-org", 1, "workers of each organization, each behind its own gateway port")
	fs.StringVar(&o.dir, "dir", "", "folder to write the keys and configurations to (required)")
	fs.StringVar(&o.mount, "mount", "", "the path at which the processes reading the files see --dir (default: --dir itself)")
	fs.StringVar(&o.network, "network", fedDefaultNetwork, "the federation's network name (signatures are bound to it)")
	fs.StringVar(&o.hostTemplate, "host-of-org-template", "127.0.0.1", "host of each organization's validator and gateways, as the others reach it; {org} is the organization's name (org1), {n} its number")
	fs.StringVar(&o.bind, "bind", "", "host the validators and gateways listen on (default: their host; 0.0.0.0 in containers)")
	fs.StringVar(&o.workerHost, "worker-host-template", "127.0.0.1", "host of each organization's PostgreSQL workers; {org}, {n} and {w} (the worker's number) are replaced")
	fs.IntVar(&o.basePort, "base-port", 7000, "first port of organization 1; organization K uses base+20*(K-1): SCP +0, federation links +1, clients +2, gateways +10..")
	fs.IntVar(&o.workerPort, "worker-port", 5432, "PostgreSQL port of the workers (workers sharing a host take the next ones)")
	fs.StringVar(&o.workerUser, "worker-user", "postgres", "user the validators and gateways connect to the workers as (password from PGPASSWORD)")
	fs.StringVar(&o.workerDB, "worker-database", "postgres", "the workers' database")
	fs.Uint64Var(&o.commitTicks, "commit-timeout-ticks", 30, "ticks after which a participant votes ABORT on a request whose parts it has not seen prepared")
	fs.IntVar(&o.tickMS, "tick-ms", 100, "length of a validator tick in milliseconds")
	fs.Uint64Var(&o.orphanTicks, "orphan-timeout-ticks", 100, "ticks after which a prepared federated part no request names is rolled back (0: never)")
	fs.IntVar(&o.commitWaitMS, "commit-wait-ms", 30000, "how long a coordinator waits for the validators' decision")
	fs.IntVar(&o.prepareWaitMS, "prepare-wait-ms", 2000, "how long a gateway waits for its validator to learn a request before refusing its PREPARE TRANSACTION")
	fs.StringVar(&o.allowed, "allowed-tables", "", "comma-separated tables remote coordinators may touch through the gateways (default: all)")
	fs.BoolVar(&o.gateways, "gateways", true, "put a gateway in front of each worker and name the workers by their gateways' addresses; false names them by their own addresses (pgfed dev --orgs --gateways=false)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if o.dir == "" || fs.NArg() != 0 {
		usage()
		fs.PrintDefaults()
		return 2
	}
	l, err := o.layout()
	if err != nil {
		fmt.Fprintln(stderr, "pgfed federation init:", err)
		return 2
	}
	files, err := writeFederation(ctx, o.dir, o.mount, l)
	if err != nil {
		fmt.Fprintln(stderr, "pgfed federation init:", err)
		return 1
	}
	printFederation(stdout, l, files)
	return 0
}

// printFederation prints the organizations of a federation and how to run
// them.
func printFederation(w io.Writer, l fedLayout, files *fedFiles) {
	fmt.Fprintf(w, "federation %q: %d organizations, quorum threshold %d of %d\n", l.Network, len(l.Orgs), files.Threshold, len(l.Orgs))
	for _, o := range l.Orgs {
		var gws []string
		for i := range o.Workers {
			gws = append(gws, fmt.Sprintf("%s -> %s", o.NodeAddr(i), o.WorkerAddr(i)))
		}
		fmt.Fprintf(w, "  %s  validator %s  scp %s  clients %s  gateways %s\n      pgfed validator --config %s\n",
			o.Name, files.Keys[o.Name].Strkey(), o.addr(o.SCPPort), o.addr(o.ClientPort), strings.Join(gws, ", "), files.ValidatorConfigs[o.Name])
	}
	fmt.Fprintf(w, "  coordinators: pgfed coordinator --federation %s\n", files.CoordinatorConfig)
}
