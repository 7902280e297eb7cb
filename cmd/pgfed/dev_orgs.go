package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/errgroup"

	"github.com/pgfed/pgfed/catalog/store"
	"github.com/pgfed/pgfed/executor/pgcluster"
)

// The federation of `pgfed dev --orgs N`: organizations org1..orgN, each
// with its workers (PostgreSQL servers "orgK-workerW" of the dev folder)
// and its validator, a separate OS process (`pgfed validator`) that also
// runs the organization's gateway in front of each of its workers. The
// catalog knows every worker by its gateway's address, so the coordinator
// never talks to a worker directly. The files are those of `pgfed
// federation init` (writeFederation), under the dev folder; the ports are
// picked once and kept in federation/layout.json.
const (
	devNetwork         = fedDefaultNetwork
	devTickMS          = 100
	devCommitTicks     = 30  // 3 s to see every part prepared
	devOrphanTicks     = 100 // 10 s
	devCommitWaitMS    = 30000
	devPrepareWaitMS   = 2000
	devValidatorsReady = 90 * time.Second
)

// devFederation is the running federation of a dev cluster.
type devFederation struct {
	layout     fedLayout
	files      *fedFiles
	validators []*devValidator
	cancel     context.CancelFunc
	wg         sync.WaitGroup
}

// startFederation starts (or reuses) every organization's workers, writes
// the federation's files, registers the organizations and the workers
// (under their gateways' addresses) in the catalog, and starts the
// validators, returning once every validator answers on its client port and
// every gateway accepts connections.
func startFederation(ctx context.Context, cfg devConfig, root *pgcluster.Root, dir, metadata string, rec *clusterRecord, log hclog.Logger) (*devFederation, error) {
	if err := checkDevLayout(dir, cfg); err != nil {
		return nil, err
	}
	workers := make([][]*pgcluster.Server, cfg.orgs)
	g, gctx := errgroup.WithContext(ctx)
	for k := range cfg.orgs {
		workers[k] = make([]*pgcluster.Server, cfg.workersPerOrg)
		for w := range cfg.workersPerOrg {
			g.Go(func() error {
				name := fmt.Sprintf("org%d-worker%d", k+1, w+1)
				s, err := root.Server(gctx, pgcluster.ServerSpec{Name: name, Settings: pgcluster.WorkerSettings()})
				if err != nil {
					return fmt.Errorf("worker %s: %w", name, err)
				}
				workers[k][w] = s
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	l, err := devLayout(dir, cfg, workers)
	if err != nil {
		return nil, err
	}
	files, err := writeFederation(ctx, dir, dir, l)
	if err != nil {
		return nil, err
	}
	if err := registerOrganizations(ctx, metadata, l, log); err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("the pgfed binary for the validators: %w", err)
	}
	f := &devFederation{layout: l, files: files}
	for k, o := range l.Orgs {
		for w, wl := range o.Workers {
			s := workers[k][w]
			p := serverProcess("worker", s)
			p.Organization = o.Name
			rec.add(p)
			if !o.NoGateway {
				rec.add(Process{Role: "gateway", Name: fmt.Sprintf("%s-gateway%d", o.Name, w+1), Organization: o.Name,
					Host: o.Host, Port: wl.GatewayPort, Worker: net.JoinHostPort(s.Host, strconv.Itoa(s.Port))})
			}
		}
		orgDir := filepath.Join(dir, fedOrgsDir, o.Name)
		v := &devValidator{org: o.Name, exe: exe, config: files.ValidatorConfigs[o.Name], logPath: filepath.Join(orgDir, "validator.log"),
			logLevel: cfg.logLevel, log: log.Named("validator").With("org", o.Name)}
		v.onStart = func(pid int) {
			if err := rec.setValidatorPID(v.org, pid); err != nil {
				v.log.Error("cluster.json not updated", "error", err)
			}
		}
		rec.add(Process{Role: "validator", Name: o.Name + "-validator", Organization: o.Name, Host: o.Host, Port: o.SCPPort,
			FederationAddr: o.addr(o.FederationPort), ClientAddr: o.addr(o.ClientPort), Key: files.Keys[o.Name].Strkey(),
			DataDir: filepath.Join(orgDir, "data"), Config: v.config, Log: v.logPath})
		f.validators = append(f.validators, v)
	}
	vctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	for _, v := range f.validators {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			v.run(vctx)
		}()
	}
	if err := f.waitReady(ctx); err != nil {
		f.stop()
		return nil, err
	}
	return f, nil
}

// checkDevLayout refuses a dev folder made for another number of
// organizations or workers, or with(out) gateways.
func checkDevLayout(dir string, cfg devConfig) error {
	l, ok, err := readFedLayout(dir)
	if err != nil || !ok {
		return err
	}
	if len(l.Orgs) != cfg.orgs {
		return fmt.Errorf("%s holds a federation of %d organizations; start it with --orgs %d or use another --dir", dir, len(l.Orgs), len(l.Orgs))
	}
	for k := range l.Orgs {
		if l.Orgs[k].NoGateway != cfg.noGateways {
			return fmt.Errorf("%s holds a federation with --gateways=%v; start it so or use another --dir", dir, !l.Orgs[k].NoGateway)
		}
		if len(l.Orgs[k].Workers) != cfg.workersPerOrg {
			return fmt.Errorf("%s holds %d workers per organization; start it with --workers-per-org %d or use another --dir", dir, len(l.Orgs[k].Workers), len(l.Orgs[k].Workers))
		}
	}
	return nil
}

// devLayout returns the layout kept in the dev folder (checkDevLayout),
// with the workers' current addresses, or picks free ports for a new one.
func devLayout(dir string, cfg devConfig, workers [][]*pgcluster.Server) (fedLayout, error) {
	if err := checkDevLayout(dir, cfg); err != nil {
		return fedLayout{}, err
	}
	l, ok, err := readFedLayout(dir)
	if err != nil {
		return l, err
	}
	if ok {
		for k := range l.Orgs {
			for w, s := range workers[k] {
				l.Orgs[k].Workers[w].Host, l.Orgs[k].Workers[w].Port = s.Host, s.Port
			}
		}
		return l, nil
	}
	l = fedLayout{Network: devNetwork, CommitTimeoutTicks: devCommitTicks, TickMS: devTickMS, OrphanTimeoutTicks: devOrphanTicks,
		CommitWaitMS: devCommitWaitMS, PrepareWaitMS: devPrepareWaitMS}
	ports, err := freePorts(cfg.orgs * (3 + cfg.workersPerOrg))
	if err != nil {
		return l, err
	}
	next := func() int { p := ports[0]; ports = ports[1:]; return p }
	for k := range cfg.orgs {
		o := fedOrgLayout{Name: "org" + strconv.Itoa(k+1), Host: "127.0.0.1", SCPPort: next(), FederationPort: next(), ClientPort: next(),
			NoGateway: cfg.noGateways}
		for _, s := range workers[k] {
			o.Workers = append(o.Workers, fedWorkerLayout{GatewayPort: next(), Host: s.Host, Port: s.Port, User: "postgres", Database: "postgres"})
		}
		l.Orgs = append(l.Orgs, o)
	}
	return l, nil
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// registerOrganizations creates the catalog if needed, adds the
// organizations and registers every worker under its gateway's address
// (idempotent, as registerWorkers).
func registerOrganizations(ctx context.Context, metadata string, l fedLayout, log hclog.Logger) error {
	st, err := store.Open(ctx, metadata, log.Named("catalog"))
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	defer st.Close()
	if err := st.Init(ctx); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	for _, o := range l.Orgs {
		if err := st.AddOrganization(ctx, o.Name); err != nil {
			return fmt.Errorf("catalog: %w", err)
		}
		for w := range o.Workers {
			host, port, err := net.SplitHostPort(o.NodeAddr(w))
			if err != nil {
				return err
			}
			p, _ := strconv.Atoi(port)
			if _, err := st.AddNode(ctx, host, p, o.Name); err != nil {
				return fmt.Errorf("register %s's worker %s: %w", o.Name, o.NodeAddr(w), err)
			}
		}
	}
	return nil
}

// waitReady waits until every validator's client port and every gateway
// accept connections.
func (f *devFederation) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, devValidatorsReady)
	defer cancel()
	for k, o := range f.layout.Orgs {
		addrs := []string{o.addr(o.ClientPort)}
		for w := range o.Workers {
			if !o.NoGateway {
				addrs = append(addrs, o.NodeAddr(w))
			}
		}
		for _, a := range addrs {
			for {
				var d net.Dialer
				c, err := d.DialContext(ctx, "tcp", a)
				if err == nil {
					c.Close()
					break
				}
				if ctx.Err() != nil {
					return fmt.Errorf("validator of %s not listening on %s (%w); its log (%s) ends with:\n%s",
						o.Name, a, ctx.Err(), f.validators[k].logPath, f.validators[k].logTail(20))
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	return nil
}

// stop stops the validators and waits for them.
func (f *devFederation) stop() {
	f.cancel()
	f.wg.Wait()
}

// print tells how the organizations run.
func (f *devFederation) print(w io.Writer) {
	fmt.Fprintf(w, "pgfed dev: federation %q, quorum threshold %d of %d (validator logs in orgs/<org>/validator.log)\n",
		f.layout.Network, f.files.Threshold, len(f.layout.Orgs))
	for _, o := range f.layout.Orgs {
		var gws []string
		for i := range o.Workers {
			if o.NoGateway {
				gws = append(gws, o.WorkerAddr(i))
			} else {
				gws = append(gws, fmt.Sprintf("%s (gateway of %s)", o.NodeAddr(i), o.WorkerAddr(i)))
			}
		}
		fmt.Fprintf(w, "    %s  validator %s, clients on %s, workers %s\n", o.Name, f.files.Keys[o.Name].Strkey()[:12]+"...",
			o.addr(o.ClientPort), strings.Join(gws, ", "))
	}
	if len(f.layout.Orgs) > 0 && f.layout.Orgs[0].NoGateway {
		fmt.Fprintln(w, "pgfed dev: the workers are registered without their gateways (--gateways=false): the coordinator reaches them directly")
	} else {
		fmt.Fprintln(w, "pgfed dev: the coordinator reaches the workers only through their organizations' gateways, which let only the validators finalize what was written on several workers")
	}
	fmt.Fprintln(w, "pgfed dev: distribute by organization with create_distributed_table('accounts', 'bank', distribution_type => 'org')")
}
