package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Options configures a Root.
type Options struct {
	// BinDir holds initdb, pg_ctl and postgres; "" means FindBinDir().
	BinDir string
	// Logger receives the root's logs; nil means a null logger.
	Logger hclog.Logger
	// Fast turns off fsync and full_page_writes, for tests. A process
	// crash (StopImmediate, kill -9) still loses no committed transaction;
	// only an operating system crash can. synchronous_commit deliberately
	// stays on: with it off, an immediate stop loses the last commits
	// (measured: 62 of 250 single-row commits lost over five StopImmediate
	// runs), which would make recovery tests lie, and with fsync off it
	// saves next to nothing.
	Fast bool
}

// ServerSpec describes one server of a Root.
type ServerSpec struct {
	// Name is the server's folder under the root ("metadata", "worker1"):
	// letters, digits, '-', '_' and '.', not starting with '.'.
	Name string
	// Port is the TCP port; 0 picks a free loopback port. Once chosen the
	// port is recorded in the data folder and kept across restarts.
	Port int
	// Settings are extra postgresql.conf settings, applied on every start.
	// "port" is not allowed here: use Port.
	Settings map[string]string
}

// Root is a folder holding PostgreSQL servers, one data folder per server
// name. It is safe for concurrent use.
type Root struct {
	dir          string
	opts         Options
	binDir       string
	log          hclog.Logger
	acct         account
	templateBase string // folder holding the initdb template

	mu       sync.Mutex
	creating map[string]*sync.Mutex // per-name lock: one creation at a time
	servers  map[string]*Server     // servers returned by Server
	order    []string               // names in the order they were first returned
}

// Open opens the root folder dir, creating it if needed. It finds the
// PostgreSQL binaries and, when this process is root, the `postgres` user
// the servers will run as (creating it if missing) and makes dir reachable
// by that user.
func Open(dir string, opts Options) (*Root, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: root folder %q: %w", dir, err)
	}
	log := opts.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	log = log.Named("pgcluster")
	binDir := opts.BinDir
	if binDir == "" {
		if binDir, err = FindBinDir(); err != nil {
			return nil, err
		}
	} else if err := checkBinDir(binDir); err != nil {
		return nil, fmt.Errorf("pgcluster: Options.BinDir %s: %w", binDir, err)
	}
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	if err := mkdirReachable(abs); err != nil {
		return nil, fmt.Errorf("pgcluster: root folder: %w", err)
	}
	if err := acct.makeTraversable(abs, log.Info); err != nil {
		return nil, err
	}
	// The template cache is shared by every root of this user on the
	// machine (see testBase); a root keeps its own when that is unusable.
	templateBase := testBase()
	if err := mkdirReachable(templateBase); err != nil {
		templateBase = abs
	} else if err := acct.makeTraversable(templateBase, log.Info); err != nil {
		templateBase = abs
	}
	return &Root{
		dir:          abs,
		opts:         opts,
		binDir:       binDir,
		log:          log,
		acct:         acct,
		templateBase: templateBase,
		creating:     map[string]*sync.Mutex{},
		servers:      map[string]*Server{},
	}, nil
}

// mkdirReachable creates dir and missing parents with mode 0755 (umask
// notwithstanding), so that another user can traverse them.
func mkdirReachable(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a folder", dir)
		}
		return nil
	}
	if err := mkdirReachable(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return os.Chmod(dir, 0o755)
}

// Dir returns the root folder's absolute path.
func (r *Root) Dir() string { return r.dir }

// BinDir returns the folder of the PostgreSQL programs the root uses.
func (r *Root) BinDir() string { return r.binDir }

// Server returns the running server named spec.Name. On first use of the
// name the data folder is created (a copy of an initdb template); a stopped
// server is started; a server already running — a live postmaster named by
// the folder's postmaster.pid, left by an earlier process — is reused, never
// duplicated, even by two processes at once (a lock file in the root
// serializes them). Calls for the same name return the same *Server.
func (r *Root) Server(ctx context.Context, spec ServerSpec) (*Server, error) {
	if err := validName(spec.Name); err != nil {
		return nil, err
	}
	if _, ok := spec.Settings["port"]; ok {
		return nil, fmt.Errorf("pgcluster: server %s: set the port with ServerSpec.Port, not Settings", spec.Name)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	lock := r.nameLock(spec.Name)
	lock.Lock()
	defer lock.Unlock()
	// Another process (a second `pgfed dev`) may be making the same server.
	unlock, err := lockFile(ctx, filepath.Join(r.dir, "."+spec.Name+".lock"))
	if err != nil {
		return nil, fmt.Errorf("pgcluster: lock server %s: %w", spec.Name, err)
	}
	defer unlock()

	r.mu.Lock()
	s := r.servers[spec.Name]
	r.mu.Unlock()
	if s == nil {
		s = r.newServer(spec.Name)
	}
	if err := r.prepare(ctx, s, spec); err != nil {
		return nil, err
	}
	r.publish(s)
	return s, nil
}

// nameLock returns the creation lock of a server name.
func (r *Root) nameLock(name string) *sync.Mutex {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.creating[name]
	if l == nil {
		l = &sync.Mutex{}
		r.creating[name] = l
	}
	return l
}

func (r *Root) newServer(name string) *Server {
	return &Server{
		Name:    name,
		Host:    "127.0.0.1",
		DataDir: filepath.Join(r.dir, name),
		root:    r,
		log:     r.log.With("server", name),
	}
}

func (r *Root) publish(s *Server) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.servers[s.Name] == nil {
		r.servers[s.Name] = s
		r.order = append(r.order, s.Name)
	}
}

// prepare brings s to running according to spec: create the data folder,
// settle the port, adopt a running postmaster or start one.
func (r *Root) prepare(ctx context.Context, s *Server, spec ServerSpec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settings = maps.Clone(spec.Settings)

	fresh := s.Port == 0 // not yet published (or adopted without a port)
	if fresh {
		if err := r.ensureDataDir(ctx, s); err != nil {
			return err
		}
		switch recorded := confPort(s.DataDir); {
		case spec.Port != 0:
			s.Port = spec.Port
		case recorded != 0:
			s.Port = recorded
		default:
			port, err := pickPort()
			if err != nil {
				return s.fail("start", err, -1)
			}
			s.Port, s.portAuto = port, true
		}
	} else if spec.Port != 0 && spec.Port != s.Port {
		return fmt.Errorf("pgcluster: server %s already uses port %d, spec asks for %d", s.Name, s.Port, spec.Port)
	}

	if p, ok := livePostmaster(s.DataDir); ok {
		if spec.Port != 0 && p.port != spec.Port {
			return fmt.Errorf("pgcluster: server %s is already running on port %d (pid %d), spec asks for port %d; stop it first", s.Name, p.port, p.pid, spec.Port)
		}
		if p.port != s.Port && p.port != 0 {
			if !fresh {
				return fmt.Errorf("pgcluster: server %s was restarted elsewhere on port %d (pid %d), this Server has port %d", s.Name, p.port, p.pid, s.Port)
			}
			s.Port = p.port
		}
		s.portAuto = false
		changed, err := s.writeConfChanged()
		if err != nil {
			return s.fail("configure", err, -1)
		}
		if changed {
			if err := s.reload(ctx); err != nil {
				return err
			}
			s.log.Info("settings rewritten and reloaded; settings that need a restart apply at the next one")
		}
		s.log.Info("reusing running server", "pid", p.pid, "port", s.Port)
		return nil
	}
	return s.start(ctx)
}

// ensureDataDir creates s's data folder from the template if it does not
// exist yet.
func (r *Root) ensureDataDir(ctx context.Context, s *Server) error {
	if isDataDir(s.DataDir) {
		return nil
	}
	if entries, err := os.ReadDir(s.DataDir); err == nil && len(entries) > 0 {
		return fmt.Errorf("pgcluster: %s exists and is not a PostgreSQL data folder", s.DataDir)
	} else if err == nil {
		if err := os.Remove(s.DataDir); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
	}
	tmpl, _, err := ensureTemplate(ctx, r.binDir, r.templateBase, r.acct, r.log)
	if err != nil {
		return err
	}
	began := time.Now()
	if err := copyTree(ctx, tmpl, s.DataDir, r.acct); err != nil {
		return fmt.Errorf("pgcluster: create server %s from template %s: %w", s.Name, tmpl, err)
	}
	s.log.Info("data folder created from template", "path", s.DataDir, "elapsed", time.Since(began))
	return nil
}

// Servers returns the servers returned so far by Server (and those StopAll
// found on disk), in the order they first appeared.
func (r *Root) Servers() []*Server {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Server, 0, len(r.order))
	for _, name := range r.order {
		out = append(out, r.servers[name])
	}
	return out
}

// StopAll stops (fast) every server of the root, in parallel: those returned
// by Server and any other data folder under the root with a live postmaster,
// such as servers left running by an earlier process.
func (r *Root) StopAll(ctx context.Context) error {
	return r.stopAll(ctx, "fast")
}

func (r *Root) stopAll(ctx context.Context, mode string) error {
	r.adoptOnDisk()
	servers := r.Servers()
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.mu.Lock()
			defer s.mu.Unlock()
			errs[i] = s.stop(ctx, mode)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// adoptOnDisk registers the data folders under the root that Server has not
// returned, so StopAll reaches servers left by an earlier process.
func (r *Root) adoptOnDisk() {
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		return
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || validName(name) != nil || !isDataDir(filepath.Join(r.dir, name)) {
			continue
		}
		lock := r.nameLock(name) // not while Server is making this one
		lock.Lock()
		r.mu.Lock()
		if r.servers[name] == nil {
			s := r.newServer(name)
			s.Port = confPort(s.DataDir)
			r.servers[name] = s
			r.order = append(r.order, name)
		}
		r.mu.Unlock()
		lock.Unlock()
	}
}

// validName checks a server name: a plain folder name.
func validName(name string) error {
	if name == "" {
		return errors.New("pgcluster: empty server name")
	}
	if len(name) > 63 || strings.HasPrefix(name, ".") {
		return fmt.Errorf("pgcluster: invalid server name %q", name)
	}
	for _, c := range name {
		if !(c == '-' || c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return fmt.Errorf("pgcluster: invalid server name %q: use letters, digits, '-', '_', '.'", name)
		}
	}
	if strings.HasSuffix(name, ".copying") {
		return fmt.Errorf("pgcluster: invalid server name %q", name)
	}
	return nil
}

var (
	portsMu sync.Mutex
	ports   = map[int]bool{} // ports this process has picked
)

// pickPort returns a free loopback TCP port that this process has not
// picked before (the kernel may hand a just-closed port out again).
func pickPort() (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("pick a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !ports[port] {
			ports[port] = true
			return port, nil
		}
	}
	return 0, errors.New("pick a free port: the kernel keeps offering ports already used")
}
