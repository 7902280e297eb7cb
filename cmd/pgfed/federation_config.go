package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
	"github.com/pgfed/pgfed/consensus/validator"
	"github.com/pgfed/pgfed/executor/dtx"
	"github.com/pgfed/pgfed/executor/federation"
)

// coordinatorFederationFile is the file of `pgfed coordinator --federation
// FILE` (and `pgfed dev --federation FILE`): the federation whose
// validators decide the coordinator's transactions that write on several
// workers, one of them an organization's (executor/dtx, federated.go).
//
//	{
//	  "network": "pgfed-dev",
//	  "key_file": "coordinator.key",
//	  "membership": [{"name": "org1", "validators": ["G..."], "threshold": 0}, ...],
//	  "validators": [{"organization": "org1", "client_addr": "127.0.0.1:7101", "key": "G..."}, ...],
//	  "commit_wait_ms": 30000
//	}
//
// "network" is the validators' network name (validator.NetworkID of it is
// the signing network id); "key_file" the coordinator's Ed25519 key (PEM,
// transport.WriteKeyFile or `pgfed validator keygen`; a relative path is
// read from the file's folder); "membership" the same list as the
// validators' federation.membership; "validators" the validators'
// client addresses and keys (64 hex digits or strkeys);
// "commit_wait_ms" (optional, default 30000) how long COMMIT waits for
// the decision.
type coordinatorFederationFile struct {
	Network      string                    `json:"network"`
	KeyFile      string                    `json:"key_file"`
	Membership   []federationMemberCfg     `json:"membership"`
	Validators   []coordinatorValidatorCfg `json:"validators"`
	CommitWaitMS int                       `json:"commit_wait_ms,omitempty"`
}

type coordinatorValidatorCfg struct {
	Organization string `json:"organization"`
	ClientAddr   string `json:"client_addr"`
	Key          string `json:"key"`
}

// maxFederationFile bounds the coordinator's federation file.
const maxFederationFile = 1 << 20

// loadCoordinatorFederation reads the federation file at path; "" means
// no federation (nil).
func loadCoordinatorFederation(path string) (*dtx.Federation, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFederationFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxFederationFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxFederationFile)
	}
	var ff coordinatorFederationFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ff); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case ff.Network == "":
		return nil, fmt.Errorf("%s: \"network\" is required", path)
	case ff.KeyFile == "":
		return nil, fmt.Errorf("%s: \"key_file\" is required", path)
	case len(ff.Membership) == 0:
		return nil, fmt.Errorf("%s: \"membership\" is required", path)
	case len(ff.Validators) == 0:
		return nil, fmt.Errorf("%s: \"validators\" is required", path)
	case ff.CommitWaitMS < 0:
		return nil, fmt.Errorf("%s: \"commit_wait_ms\" must be positive", path)
	}
	keyFile := ff.KeyFile
	if !filepath.IsAbs(keyFile) {
		keyFile = filepath.Join(filepath.Dir(path), keyFile)
	}
	key, err := transport.ReadKeyFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("%s: key_file: %w", path, err)
	}
	m, err := federationMembership(ff.Network, ff.Membership)
	if err != nil {
		return nil, fmt.Errorf("%s: membership%w", path, err)
	}
	fed := &dtx.Federation{Key: key, Membership: m, Wait: time.Duration(ff.CommitWaitMS) * time.Millisecond}
	for i, v := range ff.Validators {
		id, err := quorum.ParseNodeID(v.Key)
		if err != nil {
			return nil, fmt.Errorf("%s: validators[%d].key: %w", path, i, err)
		}
		if v.Organization == "" || v.ClientAddr == "" {
			return nil, fmt.Errorf("%s: validators[%d]: organization and client_addr are required", path, i)
		}
		if org, ok := m.OrgOf(id); !ok || org != v.Organization {
			return nil, fmt.Errorf("%s: validators[%d]: %s is not a validator of %q in the membership", path, i, id.Strkey(), v.Organization)
		}
		fed.Validators = append(fed.Validators, dtx.FederationValidator{Org: v.Organization, Endpoint: federation.Endpoint{Addr: v.ClientAddr, Key: id}})
	}
	return fed, nil
}

// federationMembership checks a federation's membership list (the
// validators' federation.membership, the coordinators' membership) for
// the network named network. Its errors start with the list entry at
// fault ("[1].validators[0]: ...") or ": " for the list as a whole.
func federationMembership(network string, members []federationMemberCfg) (*commit.Membership, error) {
	mc := commit.Config{Network: validator.NetworkID(network)}
	for i, m := range members {
		o := commit.Org{Name: m.Name, Threshold: m.Threshold}
		for j, k := range m.Validators {
			id, err := quorum.ParseNodeID(k)
			if err != nil {
				return nil, fmt.Errorf("[%d].validators[%d]: %w", i, j, err)
			}
			o.Validators = append(o.Validators, id)
		}
		mc.Orgs = append(mc.Orgs, o)
	}
	m, err := commit.NewMembership(mc)
	if err != nil {
		return nil, fmt.Errorf(": %w", err)
	}
	return m, nil
}
