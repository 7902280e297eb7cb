package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
	"github.com/pgfed/pgfed/consensus/validator"
	"github.com/pgfed/pgfed/executor/federation"
)

// maxValidatorConfig bounds the configuration file.
const maxValidatorConfig = 1 << 20

// validatorFileConfig is the JSON configuration of `pgfed validator`.
// Relative paths are relative to the configuration file's folder. Keys are
// 64 hex digits or Stellar strkeys ("G...").
//
//	{
//	  "network": "pgfed example",
//	  "key_file": "node1.key",
//	  "listen": "127.0.0.1:7001",
//	  "data_dir": "node1",
//	  "quorum_set": {"threshold": 3, "validators": ["G...", "G...", "G...", "G..."], "inner_sets": []},
//	  "peers": [{"key": "G...", "addr": "127.0.0.1:7002"}, ...]
//	}
//
// A peer may carry its own "quorum_set"; peers without one are assumed to
// share the local quorum set when checking quorum intersection.
//
// With a "federation" section the validator runs the federated commit
// (package executor/federation) instead of the generic item ledger: it
// decides cross-organization transactions and finalizes its
// organization's prepared parts on the workers listed. Each peer then
// also gives the address of its federation links ("federation_addr"):
//
//	"federation": {
//	  "organization": "bank1",
//	  "workers": [{"name": "bank1-w1", "host": "127.0.0.1", "port": 5433, "user": "postgres", "database": "postgres"}],
//	  "membership": [{"name": "bank1", "validators": ["G..."]}, {"name": "bank2", "validators": ["G..."]}],
//	  "commit_timeout_ticks": 50,
//	  "listen": "127.0.0.1:7101",
//	  "client_listen": "127.0.0.1:7201"
//	}
//
// "tick_ms" (default 100), "orphan_timeout_ticks" and "orphan_prefix"
// (see federation.Config) are optional. The membership must be the same
// on every validator; the federation's state file goes to data_dir.
type validatorFileConfig struct {
	Network   string             `json:"network"`
	KeyFile   string             `json:"key_file"`
	Listen    string             `json:"listen"`
	DataDir   string             `json:"data_dir"`
	QuorumSet *qsetJSON          `json:"quorum_set"`
	Peers     []validatorPeerCfg `json:"peers"`
	// CloseDelayMS is the pause between slots in milliseconds (optional).
	CloseDelayMS int `json:"close_delay_ms,omitempty"`
	// Federation, when present, runs the federated commit.
	Federation *federationFileConfig `json:"federation,omitempty"`
	// Gateway, with Federation, runs the organization's gateway in this
	// process (see gatewayFileConfig).
	Gateway *gatewayFileConfig `json:"gateway,omitempty"`
}

type validatorPeerCfg struct {
	Key       string    `json:"key"`
	Addr      string    `json:"addr"`
	QuorumSet *qsetJSON `json:"quorum_set,omitempty"`
	// FederationAddr is the peer's federation links address (federation
	// mode; may be empty for a peer with a lower key, which dials us).
	FederationAddr string `json:"federation_addr,omitempty"`
}

type federationFileConfig struct {
	Organization       string                `json:"organization"`
	Workers            []federationWorkerCfg `json:"workers"`
	Membership         []federationMemberCfg `json:"membership"`
	CommitTimeoutTicks uint64                `json:"commit_timeout_ticks"`
	TickMS             int                   `json:"tick_ms,omitempty"`
	Listen             string                `json:"listen"`
	ClientListen       string                `json:"client_listen,omitempty"`
	OrphanTimeoutTicks uint64                `json:"orphan_timeout_ticks,omitempty"`
	OrphanPrefix       string                `json:"orphan_prefix,omitempty"`
}

type federationWorkerCfg struct {
	Name     string `json:"name"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	User     string `json:"user"`
	Database string `json:"database"`
}

type federationMemberCfg struct {
	Name       string   `json:"name"`
	Validators []string `json:"validators"`
	Threshold  int      `json:"threshold,omitempty"`
}

type qsetJSON struct {
	Threshold  uint32     `json:"threshold"`
	Validators []string   `json:"validators"`
	InnerSets  []qsetJSON `json:"inner_sets"`
}

func (j *qsetJSON) qset(path string) (quorum.QSet, error) {
	q := quorum.QSet{Threshold: j.Threshold}
	for i, s := range j.Validators {
		id, err := quorum.ParseNodeID(s)
		if err != nil {
			return q, fmt.Errorf("%s.validators[%d]: %w", path, i, err)
		}
		q.Validators = append(q.Validators, id)
	}
	for i := range j.InnerSets {
		in, err := j.InnerSets[i].qset(fmt.Sprintf("%s.inner_sets[%d]", path, i))
		if err != nil {
			return q, err
		}
		q.InnerSets = append(q.InnerSets, in)
	}
	return q, nil
}

// validatorMain implements `pgfed validator --config FILE [--force]` and
// `pgfed validator keygen --out FILE`.
func validatorMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "keygen" {
		return validatorKeygen(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("pgfed validator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "configuration file (JSON)")
	force := fs.Bool("force", false, "start even if the network's quorums do not intersect or the quorum set's thresholds are unsafe")
	logLevel := fs.String("log-level", "info", "log level: trace, debug, info, warn, error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pgfed validator --config FILE [--force] [--log-level LEVEL]\n       pgfed validator keygen --out FILE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *configFile == "" || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	cfg, peerQSets, fed, err := loadValidatorConfig(*configFile)
	if err != nil {
		fmt.Fprintln(stderr, "pgfed validator:", err)
		return 2
	}
	gwc, err := loadGatewayConfig(*configFile, fed)
	if err != nil {
		fmt.Fprintln(stderr, "pgfed validator:", err)
		return 2
	}
	log := newLogger(stderr, *logLevel)
	id := transport.NodeID(cfg.Key)
	var peerIDs []quorum.NodeID
	for _, p := range cfg.Peers {
		peerIDs = append(peerIDs, p.ID)
	}
	res, err := validator.CheckNetwork(ctx, id, cfg.QSet, peerIDs, peerQSets)
	if err != nil {
		fmt.Fprintln(stderr, "pgfed validator:", err)
		return 1
	}
	if !res.Intersects {
		msg := describeIntersection(res)
		if !*force {
			fmt.Fprintf(stderr, "pgfed validator: refusing to start: %s (--force to start anyway)\n", msg)
			return 1
		}
		log.Warn("starting despite a quorum configuration that can fork or halt", "problem", msg)
	}
	cfg.UnsafeQuorum = *force
	cfg.Logger = log
	var app *federation.App
	if fed != nil {
		fed.Logger = log
		if app, err = federation.New(*fed); err != nil {
			fmt.Fprintln(stderr, "pgfed validator:", err)
			return 2
		}
		cfg.Driver, cfg.Propose, cfg.OnDecision = app.Driver(), app.Propose, app.OnDecision
	}
	v, err := validator.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "pgfed validator:", err)
		return 1
	}
	stopGateway := func() {}
	if app != nil {
		if err := app.Start(ctx, v); err != nil {
			fmt.Fprintln(stderr, "pgfed validator:", err)
			v.Close()
			return 1
		}
		log.Info("federated commit running", "org", app.Org(), "links", app.GossipAddr(), "clients", app.ClientAddr())
		if stopGateway, err = startGateway(ctx, gwc, app, log); err != nil {
			fmt.Fprintln(stderr, "pgfed validator:", err)
			app.Close()
			v.Close()
			return 1
		}
	}
	log.Info("validator ready", "node", id.Strkey(), "listen", v.Addr(), "slot", v.Last())
	select {
	case <-ctx.Done():
	case <-v.Done():
	}
	code := 0
	stopGateway()
	if app != nil {
		if err := app.Close(); err != nil {
			fmt.Fprintln(stderr, "pgfed validator:", err)
			code = 1
		}
	}
	if err := v.Close(); err != nil {
		fmt.Fprintln(stderr, "pgfed validator:", err)
		return 1
	}
	return code
}

func describeIntersection(res *quorum.Intersection) string {
	switch {
	case res.NoQuorum:
		return "the network has no quorum: nothing could ever be decided"
	case res.Split != nil:
		return fmt.Sprintf("two disjoint quorums exist, {%s} and {%s}: the network can fork",
			strkeyList(res.Split[0]), strkeyList(res.Split[1]))
	}
	return "quorums do not intersect"
}

func strkeyList(ids []quorum.NodeID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.Strkey()
	}
	return strings.Join(s, ", ")
}

// loadValidatorConfig reads the configuration file and the key it names.
// It returns the peers' quorum sets given in the file, and the federated
// commit's configuration (nil without a "federation" section).
func loadValidatorConfig(path string) (validator.Config, map[quorum.NodeID]quorum.QSet, *federation.Config, error) {
	cfg, peerQSets, fc, err := readValidatorConfig(path)
	if err != nil || fc.Federation == nil {
		return cfg, peerQSets, nil, err
	}
	fed, err := federationConfig(path, &cfg, fc)
	if err != nil {
		return cfg, nil, nil, err
	}
	return cfg, peerQSets, fed, nil
}

// federationConfig builds the federated commit's configuration from the
// file's "federation" section and the validator's configuration.
func federationConfig(path string, cfg *validator.Config, fc *validatorFileConfig) (*federation.Config, error) {
	ff := fc.Federation
	switch {
	case ff.Organization == "":
		return nil, fmt.Errorf("%s: federation.organization is required", path)
	case len(ff.Membership) == 0:
		return nil, fmt.Errorf("%s: federation.membership is required", path)
	case ff.CommitTimeoutTicks == 0:
		return nil, fmt.Errorf("%s: federation.commit_timeout_ticks is required", path)
	case ff.Listen == "":
		return nil, fmt.Errorf("%s: federation.listen is required", path)
	}
	m, err := federationMembership(cfg.Network, ff.Membership)
	if err != nil {
		return nil, fmt.Errorf("%s: federation.membership%w", path, err)
	}
	self := transport.NodeID(cfg.Key)
	if org, ok := m.OrgOf(self); !ok || org != ff.Organization {
		return nil, fmt.Errorf("%s: federation: this validator's key %s is not a validator of %q in the membership", path, self.Strkey(), ff.Organization)
	}
	fed := &federation.Config{Membership: m, Key: cfg.Key, DataDir: cfg.DataDir, Timeout: ff.CommitTimeoutTicks,
		OrphanTimeout: ff.OrphanTimeoutTicks, OrphanPrefix: ff.OrphanPrefix, GossipListen: ff.Listen, ClientListen: ff.ClientListen}
	if ff.TickMS > 0 {
		fed.TickInterval = time.Duration(ff.TickMS) * time.Millisecond
	}
	for i, w := range ff.Workers {
		if w.Name == "" || w.Host == "" || w.Port <= 0 || w.Port > 65535 || w.Database == "" {
			return nil, fmt.Errorf("%s: federation.workers[%d]: name, host, port and database are required", path, i)
		}
		fed.Workers = append(fed.Workers, federation.Worker{Name: w.Name, Host: w.Host, Port: w.Port, User: w.User, Database: w.Database})
	}
	for i, p := range fc.Peers {
		fed.GossipPeers = append(fed.GossipPeers, transport.Peer{ID: cfg.Peers[i].ID, Addr: p.FederationAddr})
	}
	return fed, nil
}

// readValidatorConfig reads the file and the validator's part of it.
func readValidatorConfig(path string) (validator.Config, map[quorum.NodeID]quorum.QSet, *validatorFileConfig, error) {
	var cfg validator.Config
	f, err := os.Open(path)
	if err != nil {
		return cfg, nil, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxValidatorConfig+1))
	if err != nil {
		return cfg, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxValidatorConfig {
		return cfg, nil, nil, fmt.Errorf("%s: larger than %d bytes", path, maxValidatorConfig)
	}
	var fc validatorFileConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return cfg, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	switch {
	case fc.Network == "":
		return cfg, nil, nil, fmt.Errorf("%s: \"network\" is required", path)
	case fc.KeyFile == "":
		return cfg, nil, nil, fmt.Errorf("%s: \"key_file\" is required", path)
	case fc.Listen == "":
		return cfg, nil, nil, fmt.Errorf("%s: \"listen\" is required", path)
	case fc.DataDir == "":
		return cfg, nil, nil, fmt.Errorf("%s: \"data_dir\" is required", path)
	case fc.QuorumSet == nil:
		return cfg, nil, nil, fmt.Errorf("%s: \"quorum_set\" is required", path)
	}
	key, err := transport.ReadKeyFile(rel(fc.KeyFile))
	if err != nil {
		return cfg, nil, nil, err
	}
	q, err := fc.QuorumSet.qset("quorum_set")
	if err != nil {
		return cfg, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg = validator.Config{Key: key, Network: fc.Network, QSet: q, ListenAddr: fc.Listen, DataDir: rel(fc.DataDir)}
	if fc.CloseDelayMS > 0 {
		cfg.CloseDelay = time.Duration(fc.CloseDelayMS) * time.Millisecond
	}
	self := transport.NodeID(key)
	peerQSets := map[quorum.NodeID]quorum.QSet{}
	seen := map[quorum.NodeID]bool{}
	for i, p := range fc.Peers {
		id, err := quorum.ParseNodeID(p.Key)
		if err != nil {
			return cfg, nil, nil, fmt.Errorf("%s: peers[%d].key: %w", path, i, err)
		}
		if id == self {
			return cfg, nil, nil, fmt.Errorf("%s: peers[%d] is this node", path, i)
		}
		if seen[id] {
			return cfg, nil, nil, fmt.Errorf("%s: peers[%d]: %s listed twice", path, i, id.Strkey())
		}
		seen[id] = true
		cfg.Peers = append(cfg.Peers, transport.Peer{ID: id, Addr: p.Addr})
		if p.QuorumSet != nil {
			pq, err := p.QuorumSet.qset(fmt.Sprintf("peers[%d].quorum_set", i))
			if err != nil {
				return cfg, nil, nil, fmt.Errorf("%s: %w", path, err)
			}
			peerQSets[id] = pq
		}
	}
	return cfg, peerQSets, &fc, nil
}

// validatorKeygen implements `pgfed validator keygen --out FILE`.
func validatorKeygen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pgfed validator keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "file to write the private key to (PEM, mode 0600; must not exist)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *out == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: pgfed validator keygen --out FILE")
		return 2
	}
	key, err := transport.GenerateKey(rand.Reader)
	if err != nil {
		fmt.Fprintln(stderr, "pgfed validator keygen:", err)
		return 1
	}
	if err := transport.WriteKeyFile(*out, key); err != nil {
		fmt.Fprintln(stderr, "pgfed validator keygen:", err)
		return 1
	}
	id := transport.NodeID(key)
	fmt.Fprintf(stdout, "public key: %s\nstrkey:     %s\n", hex.EncodeToString(id[:]), id.Strkey())
	return 0
}
