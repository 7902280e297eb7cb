package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
)

// defaultWait bounds pg_ctl's waits when ctx has no deadline.
const defaultWait = 120 * time.Second

// bindRetries is how many fresh ports a new server tries when the port it
// picked was taken by someone else between the pick and the bind.
const bindRetries = 5

// logTailLines is how much of the server log an error carries.
const logTailLines = 30

// Server is one PostgreSQL server (a postmaster and its data folder) in a
// Root. It is safe for concurrent use; Start, Stop, StopImmediate and
// Restart are serialized. Host, Port and DataDir do not change once the
// Server has been returned by Root.Server.
type Server struct {
	Name    string // folder name under the root
	Host    string // always "127.0.0.1"
	Port    int    // TCP port, kept across restarts
	DataDir string // absolute path of the data folder

	root     *Root
	log      hclog.Logger
	mu       sync.Mutex        // serializes start/stop and guards the fields below
	settings map[string]string // the spec's extra settings
	portAuto bool              // port picked here and never bound yet: may be re-picked
}

// ServerError is returned when a server operation fails. It carries the tail
// of the server log, which Error prints.
type ServerError struct {
	Server  string // server name
	Op      string // "start", "stop", ...
	DataDir string
	Err     error
	LogTail string // last lines of the server log, may be empty
}

func (e *ServerError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pgcluster: %s server %s (%s): %v", e.Op, e.Server, e.DataDir, e.Err)
	if e.LogTail != "" {
		fmt.Fprintf(&b, "\n--- tail of %s ---\n%s\n---", filepath.Join(e.DataDir, logFile), e.LogTail)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *ServerError) Unwrap() error { return e.Err }

// PID returns the postmaster's process id, or 0 when the server is not
// running. It reads postmaster.pid and checks that the process is alive.
func (s *Server) PID() int {
	if p, ok := livePostmaster(s.DataDir); ok {
		return p.pid
	}
	return 0
}

// Running reports whether a live postmaster serves the data folder.
func (s *Server) Running() bool { return s.PID() != 0 }

// ConnString returns a keyword/value connection string for database ("" is
// "postgres") as the superuser postgres over loopback TCP:
// "host=127.0.0.1 port=N user=postgres dbname=DB sslmode=disable".
func (s *Server) ConnString(database string) string {
	if database == "" {
		database = "postgres"
	}
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", s.Host, s.Port, quoteConnValue(database))
}

// quoteConnValue quotes a keyword/value connection string value when needed.
func quoteConnValue(v string) string {
	if v != "" && !strings.ContainsAny(v, ` '\`) {
		return v
	}
	v = strings.ReplaceAll(v, `\`, `\\`)
	v = strings.ReplaceAll(v, `'`, `\'`)
	return "'" + v + "'"
}

// Connect opens a pgx connection to database ("" is "postgres") as the
// superuser postgres. The caller closes it.
func (s *Server) Connect(ctx context.Context, database string) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, s.ConnString(database))
	if err != nil {
		return nil, fmt.Errorf("pgcluster: connect to server %s (port %d): %w", s.Name, s.Port, err)
	}
	return conn, nil
}

// LogPath returns the path of the server log inside the data folder.
func (s *Server) LogPath() string { return filepath.Join(s.DataDir, logFile) }

// LogTail returns the last n lines of the server log ("" if there is none).
func (s *Server) LogTail(n int) string {
	b, err := readTail(s.LogPath(), 0)
	if err != nil {
		return ""
	}
	return tail(string(b), n)
}

// Start starts the server if it is not running and waits until it accepts
// connections. The settings file is rewritten first, so the spec's settings
// apply on every start.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.start(ctx)
}

// Stop stops the server with `pg_ctl stop -m fast` (a clean shutdown:
// sessions are disconnected, a checkpoint is written) and waits for it.
// Stopping a stopped server is not an error.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stop(ctx, "fast")
}

// StopImmediate stops the server with `pg_ctl stop -m immediate`: every
// process quits at once, without a checkpoint, as in a crash; the next start
// runs crash recovery. For recovery tests.
func (s *Server) StopImmediate(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stop(ctx, "immediate")
}

// Restart stops the server (fast) and starts it again, rereading settings.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stop(ctx, "fast"); err != nil {
		return err
	}
	return s.start(ctx)
}

// start runs pg_ctl start; s.mu is held.
func (s *Server) start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return s.fail("start", err, -1)
	}
	if s.Running() {
		return nil
	}
	for attempt := 1; ; attempt++ {
		offset := fileSize(s.LogPath())
		began := time.Now()
		err := s.pgctlStart(ctx)
		if err == nil {
			s.portAuto = false
			s.log.Info("server started", "port", s.Port, "pid", s.PID(), "elapsed", time.Since(began))
			return nil
		}
		if ctx.Err() != nil {
			// pg_ctl was killed; the postmaster may still be coming up.
			s.cleanupAfterCancel()
			return s.fail("start", ctx.Err(), offset)
		}
		newLog, _ := readTail(s.LogPath(), offset)
		if s.portAuto && attempt < bindRetries && isBindFailure(string(newLog)) {
			port, perr := pickPort()
			if perr != nil {
				return s.fail("start", perr, offset)
			}
			s.log.Debug("port taken before bind, picking another", "old_port", s.Port, "port", port)
			s.Port = port
			continue
		}
		return s.fail("start", err, offset)
	}
}

// pgctlStart writes the settings file and runs pg_ctl start -w.
func (s *Server) pgctlStart(ctx context.Context) error {
	if err := s.writeConf(); err != nil {
		return err
	}
	r := s.root
	cmd := r.acct.command(ctx, filepath.Join(r.binDir, "pg_ctl"), "start",
		"-D", s.DataDir, "-l", s.LogPath(), "-w", "-t", waitSeconds(ctx), "-s")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl start: %w: %s", err, strings.TrimSpace(string(out)))
	}
	if !s.Running() {
		return errors.New("pg_ctl start succeeded but no live postmaster was found")
	}
	return nil
}

// cleanupAfterCancel stops a postmaster that may have come up after its
// pg_ctl start was cancelled, so that a cancelled start leaves nothing behind.
func (s *Server) cleanupAfterCancel() {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	time.Sleep(200 * time.Millisecond) // let a forked postmaster write its pid file
	if err := s.stop(ctx, "immediate"); err != nil {
		s.log.Warn("could not stop server after cancelled start", "error", err)
	}
}

// stop runs pg_ctl stop -m mode; s.mu is held.
func (s *Server) stop(ctx context.Context, mode string) error {
	if !s.Running() {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return s.fail("stop", err, -1)
	}
	offset := fileSize(s.LogPath())
	began := time.Now()
	err := stopDataDir(ctx, s.root.binDir, s.root.acct, s.DataDir, mode)
	if err != nil && s.Running() {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return s.fail("stop -m "+mode, err, offset)
	}
	s.log.Info("server stopped", "mode", mode, "elapsed", time.Since(began))
	return nil
}

// stopDataDir runs pg_ctl stop on a data folder.
func stopDataDir(ctx context.Context, binDir string, acct account, dataDir, mode string) error {
	cmd := acct.command(ctx, filepath.Join(binDir, "pg_ctl"), "stop",
		"-D", dataDir, "-m", mode, "-w", "-t", waitSeconds(ctx), "-s")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl stop -m %s: %w: %s", mode, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// reload asks a running server to reread its settings files.
func (s *Server) reload(ctx context.Context) error {
	r := s.root
	cmd := r.acct.command(ctx, filepath.Join(r.binDir, "pg_ctl"), "reload", "-D", s.DataDir, "-s")
	if out, err := cmd.CombinedOutput(); err != nil {
		return s.fail("reload", fmt.Errorf("pg_ctl reload: %w: %s", err, strings.TrimSpace(string(out))), -1)
	}
	return nil
}

// writeConf writes pgcluster.conf: the base settings, then the spec's.
// It reports whether the file changed.
func (s *Server) writeConf() error {
	_, err := s.writeConfChanged()
	return err
}

func (s *Server) writeConfChanged() (bool, error) {
	settings := baseSettings(s.Port, s.DataDir, s.root.opts.Fast)
	for k, v := range s.settings {
		settings[k] = v
	}
	b, err := renderConf(settings)
	if err != nil {
		return false, err
	}
	path := filepath.Join(s.DataDir, confFile)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return false, nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := s.root.acct.chown(tmp); err != nil {
		os.Remove(tmp)
		return false, fmt.Errorf("hand %s to user %s: %w", path, s.root.acct.name, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	return true, nil
}

// fail wraps err as a ServerError with the log written since offset (the
// whole log's tail when offset < 0 or nothing new was written).
func (s *Server) fail(op string, err error, offset int64) error {
	var logTail string
	if offset >= 0 {
		if b, rerr := readTail(s.LogPath(), offset); rerr == nil && len(bytes.TrimSpace(b)) > 0 {
			logTail = tail(string(b), logTailLines)
		}
	}
	if logTail == "" {
		logTail = s.LogTail(logTailLines)
	}
	return &ServerError{Server: s.Name, Op: op, DataDir: s.DataDir, Err: err, LogTail: logTail}
}

// isBindFailure recognizes a postmaster that could not bind its port.
func isBindFailure(log string) bool {
	return strings.Contains(log, "could not bind") ||
		strings.Contains(log, "Address already in use") ||
		strings.Contains(log, "could not create any TCP/IP sockets")
}

// waitSeconds turns ctx's deadline into pg_ctl's -t argument.
func waitSeconds(ctx context.Context) string {
	d := defaultWait
	if deadline, ok := ctx.Deadline(); ok {
		d = time.Until(deadline)
	}
	secs := int(math.Ceil(d.Seconds()))
	if secs < 1 {
		secs = 1
	}
	return strconv.Itoa(secs)
}

// fileSize returns the size of path, 0 if it does not exist.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readTail reads path from offset to the end, at most the last 64 KiB.
func readTail(path string, offset int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	const max = 64 << 10
	if size := fileSize(path); size-offset > max {
		offset = size - max
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(f)
}
