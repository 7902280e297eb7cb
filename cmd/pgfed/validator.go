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
type validatorFileConfig struct {
	Network   string             `json:"network"`
	KeyFile   string             `json:"key_file"`
	Listen    string             `json:"listen"`
	DataDir   string             `json:"data_dir"`
	QuorumSet *qsetJSON          `json:"quorum_set"`
	Peers     []validatorPeerCfg `json:"peers"`
	// CloseDelayMS is the pause between slots in milliseconds (optional).
	CloseDelayMS int `json:"close_delay_ms,omitempty"`
}

type validatorPeerCfg struct {
	Key       string    `json:"key"`
	Addr      string    `json:"addr"`
	QuorumSet *qsetJSON `json:"quorum_set,omitempty"`
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
	cfg, peerQSets, err := loadValidatorConfig(*configFile)
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
	v, err := validator.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "pgfed validator:", err)
		return 1
	}
	log.Info("validator ready", "node", id.Strkey(), "listen", v.Addr(), "slot", v.Last())
	select {
	case <-ctx.Done():
	case <-v.Done():
	}
	if err := v.Close(); err != nil {
		fmt.Fprintln(stderr, "pgfed validator:", err)
		return 1
	}
	return 0
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
// It returns the peers' quorum sets given in the file.
func loadValidatorConfig(path string) (validator.Config, map[quorum.NodeID]quorum.QSet, error) {
	var cfg validator.Config
	f, err := os.Open(path)
	if err != nil {
		return cfg, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxValidatorConfig+1))
	if err != nil {
		return cfg, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxValidatorConfig {
		return cfg, nil, fmt.Errorf("%s: larger than %d bytes", path, maxValidatorConfig)
	}
	var fc validatorFileConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return cfg, nil, fmt.Errorf("%s: %w", path, err)
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
		return cfg, nil, fmt.Errorf("%s: \"network\" is required", path)
	case fc.KeyFile == "":
		return cfg, nil, fmt.Errorf("%s: \"key_file\" is required", path)
	case fc.Listen == "":
		return cfg, nil, fmt.Errorf("%s: \"listen\" is required", path)
	case fc.DataDir == "":
		return cfg, nil, fmt.Errorf("%s: \"data_dir\" is required", path)
	case fc.QuorumSet == nil:
		return cfg, nil, fmt.Errorf("%s: \"quorum_set\" is required", path)
	}
	key, err := transport.ReadKeyFile(rel(fc.KeyFile))
	if err != nil {
		return cfg, nil, err
	}
	q, err := fc.QuorumSet.qset("quorum_set")
	if err != nil {
		return cfg, nil, fmt.Errorf("%s: %w", path, err)
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
			return cfg, nil, fmt.Errorf("%s: peers[%d].key: %w", path, i, err)
		}
		if id == self {
			return cfg, nil, fmt.Errorf("%s: peers[%d] is this node", path, i)
		}
		if seen[id] {
			return cfg, nil, fmt.Errorf("%s: peers[%d]: %s listed twice", path, i, id.Strkey())
		}
		seen[id] = true
		cfg.Peers = append(cfg.Peers, transport.Peer{ID: id, Addr: p.Addr})
		if p.QuorumSet != nil {
			pq, err := p.QuorumSet.qset(fmt.Sprintf("peers[%d].quorum_set", i))
			if err != nil {
				return cfg, nil, fmt.Errorf("%s: %w", path, err)
			}
			peerQSets[id] = pq
		}
	}
	return cfg, peerQSets, nil
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
