package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pgfed/pgfed/executor/federation"
	"github.com/pgfed/pgfed/executor/gateway"
)

// gatewayFileConfig is the "gateway" section of `pgfed validator`'s
// configuration: the organization's gateway (package executor/gateway),
// run in the validator's process in front of the organization's workers.
// It needs the "federation" section, whose App checks every PREPARE
// TRANSACTION:
//
//	"gateway": {
//	  "workers": [{"listen": "127.0.0.1:7201", "worker": "127.0.0.1:7201"}],
//	  "allowed_tables": ["accounts", "transfers"],
//	  "prepare_wait_ms": 2000
//	}
//
// Each "worker" names one of federation.workers, whose host and port say
// where the real worker is; by convention the name is the gateway's own
// listen address, the node address the coordinators' catalog knows.
// "allowed_tables" empty or absent: every table (a shard "accounts_102008"
// counts as "accounts"). "prepare_wait_ms" (default 2000) bounds the wait
// for the validator to learn the request of a PREPARE TRANSACTION.
type gatewayFileConfig struct {
	Workers       []gatewayWorkerCfg `json:"workers"`
	AllowedTables []string           `json:"allowed_tables,omitempty"`
	PrepareWaitMS int                `json:"prepare_wait_ms,omitempty"`
}

type gatewayWorkerCfg struct {
	Listen string `json:"listen"`
	Worker string `json:"worker"`
}

// loadGatewayConfig reads the "gateway" section of the configuration file
// (nil without one); fed is the file's federated commit configuration.
func loadGatewayConfig(path string, fed *federation.Config) (*gateway.Config, error) {
	_, _, fc, err := readValidatorConfig(path)
	if err != nil || fc.Gateway == nil {
		return nil, err
	}
	return gatewayConfig(path, fc.Gateway, fed)
}

// gatewayConfig checks the section against the federation's workers.
func gatewayConfig(path string, gc *gatewayFileConfig, fed *federation.Config) (*gateway.Config, error) {
	if fed == nil {
		return nil, fmt.Errorf("%s: the gateway section needs the federation section", path)
	}
	if len(gc.Workers) == 0 {
		return nil, fmt.Errorf("%s: gateway.workers is empty", path)
	}
	if gc.PrepareWaitMS < 0 {
		return nil, fmt.Errorf("%s: gateway.prepare_wait_ms is negative", path)
	}
	byName := map[string]federation.Worker{}
	for _, w := range fed.Workers {
		byName[w.Name] = w
	}
	cfg := &gateway.Config{AllowedTables: gc.AllowedTables, PrepareWait: time.Duration(gc.PrepareWaitMS) * time.Millisecond}
	seen := map[string]bool{}
	for i, gw := range gc.Workers {
		w, ok := byName[gw.Worker]
		switch {
		case gw.Listen == "":
			return nil, fmt.Errorf("%s: gateway.workers[%d].listen is required", path, i)
		case !ok:
			return nil, fmt.Errorf("%s: gateway.workers[%d]: worker %q is not in federation.workers", path, i, gw.Worker)
		case seen[gw.Worker]:
			return nil, fmt.Errorf("%s: gateway.workers[%d]: worker %q fronted twice", path, i, gw.Worker)
		}
		seen[gw.Worker] = true
		cfg.Routes = append(cfg.Routes, gateway.Route{Listen: gw.Listen, Worker: gw.Worker, Addr: net.JoinHostPort(w.Host, strconv.Itoa(w.Port))})
	}
	return cfg, nil
}

// startGateway starts the gateway (none when cfg is nil) with app as its
// gatekeeper; the function returned stops it.
func startGateway(ctx context.Context, cfg *gateway.Config, app *federation.App, log hclog.Logger) (func(), error) {
	if cfg == nil {
		return func() {}, nil
	}
	c := *cfg
	c.Keeper, c.Logger = app, log
	gw, err := gateway.Start(ctx, c)
	if err != nil {
		return nil, err
	}
	log.Info("gateway running", "org", app.Org(), "listen", fmt.Sprint(gw.Addrs()))
	return func() { gw.Close() }, nil
}
