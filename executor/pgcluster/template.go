package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
)

// templateFormat changes whenever the way templates are made changes, so
// that templates left by older code are not reused.
const templateFormat = 1

// A template is a freshly initdb'd data folder that new servers are copied
// from: initdb costs about a second, a copy a few tens of milliseconds. One
// template exists per (template base, PostgreSQL version, locale, server
// user). It is built at most once per process (an in-process lock) and, across
// processes sharing the base (parallel `go test` binaries), once in all
// (a flock on a lock file); it is built in a scratch folder and renamed
// into place, so a template folder that exists is complete.

// templateEntry serializes the building of one template within the process.
type templateEntry struct {
	mu   sync.Mutex
	done bool
}

var templates sync.Map // template path -> *templateEntry

// templateStats records how long the last template build took, for tests
// and logs.
type templateStats struct {
	initdb time.Duration // 0 when the template already existed
}

// ensureTemplate returns the path of a complete template folder under base,
// running initdb if none exists yet.
func ensureTemplate(ctx context.Context, binDir, base string, acct account, log hclog.Logger) (string, templateStats, error) {
	version, err := initdbVersion(ctx, binDir)
	if err != nil {
		return "", templateStats{}, err
	}
	locale := pickLocale()
	key := fmt.Sprintf("f%d-%s-%s-u%d", templateFormat, version, strings.ToLower(strings.ReplaceAll(locale, ".", "")), acct.uid)
	path := filepath.Join(base, ".pgcluster-template-"+key)

	v, _ := templates.LoadOrStore(path, &templateEntry{})
	entry := v.(*templateEntry)
	entry.mu.Lock()
	defer entry.mu.Unlock()
	if entry.done {
		return path, templateStats{}, nil
	}
	if isDataDir(path) {
		entry.done = true
		return path, templateStats{}, nil
	}

	unlock, err := lockFile(ctx, path+".lock")
	if err != nil {
		return "", templateStats{}, fmt.Errorf("pgcluster: lock template %s: %w", path, err)
	}
	defer unlock()
	if isDataDir(path) { // built by another process while we waited
		entry.done = true
		return path, templateStats{}, nil
	}

	start := time.Now()
	if err := buildTemplate(ctx, binDir, path, locale, acct); err != nil {
		return "", templateStats{}, err
	}
	stats := templateStats{initdb: time.Since(start)}
	log.Info("initdb template built", "path", path, "locale", locale, "elapsed", stats.initdb)
	entry.done = true
	return path, stats, nil
}

// buildTemplate runs initdb into a scratch folder, adds the include of
// pgcluster.conf, and renames the folder to path.
func buildTemplate(ctx context.Context, binDir, path, locale string, acct account) error {
	tmp := fmt.Sprintf("%s.tmp-%d", path, os.Getpid())
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("pgcluster: clear %s: %w", tmp, err)
	}
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return fmt.Errorf("pgcluster: template folder: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op after the rename
	if err := acct.chown(tmp); err != nil {
		return fmt.Errorf("pgcluster: hand %s to user %s: %w", tmp, acct.name, err)
	}
	cmd := acct.command(ctx, filepath.Join(binDir, "initdb"),
		"--pgdata="+tmp,
		"--username=postgres",
		"--auth=trust", // local socket and loopback TCP
		"--encoding=UTF8",
		"--locale="+locale,
		"--no-sync",
	)
	if out, err := cmd.CombinedOutput(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("pgcluster: initdb: %w", ctx.Err())
		}
		return fmt.Errorf("pgcluster: initdb as user %s: %w\n%s", acct.name, err, tail(string(out), 30))
	}
	f, err := os.OpenFile(filepath.Join(tmp, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("pgcluster: template postgresql.conf: %w", err)
	}
	_, err = fmt.Fprintf(f, "\n# Added by pgfed executor/pgcluster: port, logging and per-server settings.\ninclude_if_exists = '%s'\n", confFile)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pgcluster: template postgresql.conf: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("pgcluster: template: %w", err)
	}
	return nil
}

var (
	versionMu    sync.Mutex
	versionCache = map[string]string{}
	versionRE    = regexp.MustCompile(`[0-9]+(\.[0-9]+)*`)
)

// initdbVersion returns the version printed by `initdb --version`, e.g. "15.8".
func initdbVersion(ctx context.Context, binDir string) (string, error) {
	versionMu.Lock()
	defer versionMu.Unlock()
	if v, ok := versionCache[binDir]; ok {
		return v, nil
	}
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("pgcluster: %s --version: %w", filepath.Join(binDir, "initdb"), err)
	}
	v := versionRE.FindString(string(out))
	if v == "" {
		return "", fmt.Errorf("pgcluster: cannot read the version in %q", strings.TrimSpace(string(out)))
	}
	versionCache[binDir] = v
	return v, nil
}

var (
	localeOnce sync.Once
	localeVal  string
)

// pickLocale prefers C.UTF-8 (byte-order sorting like C, but upper() and
// friends know non-ASCII letters) when the system has it, else C.
func pickLocale() string {
	localeOnce.Do(func() { localeVal = findLocale() })
	return localeVal
}

func findLocale() string {
	for _, p := range []string{"/usr/lib/locale/C.utf8", "/usr/lib/locale/C.UTF-8"} {
		if _, err := os.Stat(p); err == nil {
			return "C.UTF-8"
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "locale", "-a").Output(); err == nil {
		for _, l := range strings.Fields(string(out)) {
			if strings.EqualFold(l, "C.utf8") || strings.EqualFold(l, "C.UTF-8") {
				return "C.UTF-8"
			}
		}
	}
	return "C"
}

// isDataDir reports whether dir holds a PostgreSQL data folder.
func isDataDir(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "PG_VERSION"))
	return err == nil
}

// lockFile takes an exclusive flock on path, polling so that ctx is
// honoured; the returned func releases it.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// copyTree copies the folder src to dst (which must not exist), handing
// everything to acct. It copies into a scratch name and renames, so a
// half-copied folder never looks like a server.
func copyTree(ctx context.Context, src, dst string, acct account) error {
	tmp := dst + ".copying"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(tmp, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, info.Mode().Perm()|0o700); err != nil {
				return err
			}
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
		case d.Type().IsRegular():
			if err := copyFile(path, target, info.Mode().Perm()); err != nil {
				return err
			}
		default:
			return nil // sockets, fifos: nothing a template needs
		}
		return acct.chown(target)
	})
	if err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	return nil
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	if err := copySparse(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// copySparse copies in to out leaving holes where in has zero blocks: a
// fresh WAL segment is 16 MiB of mostly zeros, and PostgreSQL reads holes as
// the zeros they stand for. It saves a third of a template's bytes.
func copySparse(out, in *os.File) error {
	const block = 32 << 10
	buf := make([]byte, block)
	var size int64
	for {
		n, err := io.ReadFull(in, buf)
		if n > 0 {
			if isZero(buf[:n]) {
				if _, err := out.Seek(int64(n), io.SeekCurrent); err != nil {
					return err
				}
			} else if _, err := out.Write(buf[:n]); err != nil {
				return err
			}
			size += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return err
		}
	}
	return out.Truncate(size) // materializes a trailing hole
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append([]string{"... (" + strconv.Itoa(len(lines)-n) + " earlier lines)"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
