package pgcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serverUser is the system account PostgreSQL runs as when this process is
// root: PostgreSQL refuses to run as root.
const serverUser = "postgres"

// account is the operating system user that initdb, pg_ctl and postgres run
// as. The zero value (cred == nil) is the current user.
type account struct {
	name string
	uid  int
	gid  int
	cred *syscall.Credential // nil: run as the current user
}

// foreign reports whether the servers run as a user other than the current
// one, so folders must be handed to that user.
func (a account) foreign() bool { return a.cred != nil }

// accountOnce caches serverAccount's answer: looking up (or creating) the
// user needs doing once per process.
var (
	accountOnce sync.Once
	accountVal  account
	accountErr  error
)

// serverAccount returns the user to run PostgreSQL as: the current user,
// or, when the current process is root, the unprivileged `postgres` system
// user, created with useradd if it does not exist.
func serverAccount() (account, error) {
	accountOnce.Do(func() { accountVal, accountErr = lookupServerAccount() })
	return accountVal, accountErr
}

func lookupServerAccount() (account, error) {
	if os.Geteuid() != 0 {
		return account{name: currentUserName(), uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	u, err := user.Lookup(serverUser)
	if err != nil {
		if err := createServerUser(); err != nil {
			return account{}, err
		}
		if u, err = user.Lookup(serverUser); err != nil {
			return account{}, fmt.Errorf("pgcluster: running as root, and user %q still not found after useradd: %w", serverUser, err)
		}
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil || uid == 0 {
		return account{}, fmt.Errorf("pgcluster: running as root, and user %q has unusable uid %q / gid %q", serverUser, u.Uid, u.Gid)
	}
	return account{
		name: serverUser,
		uid:  uid,
		gid:  gid,
		cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}},
	}, nil
}

func currentUserName() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return strconv.Itoa(os.Geteuid())
}

// createServerUser adds the `postgres` system user (no home, no login).
func createServerUser() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	path, err := exec.LookPath("useradd")
	if err != nil {
		return fmt.Errorf("pgcluster: running as root and user %q does not exist; useradd not found to create it (PostgreSQL refuses to run as root)", serverUser)
	}
	out, err := exec.CommandContext(ctx, path, "--system", "--user-group", "--no-create-home",
		"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", serverUser).CombinedOutput()
	if err != nil {
		// A concurrent process may have created it first.
		if _, lerr := user.Lookup(serverUser); lerr == nil {
			return nil
		}
		return fmt.Errorf("pgcluster: running as root, could not create user %q (PostgreSQL refuses to run as root): %w: %s", serverUser, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// command builds an exec.Cmd running path as the account, with a trimmed
// environment: PG* variables of the caller (PGDATA, PGPORT, ...) must not
// leak into the tools, and messages are in English so errors can be matched.
func (a account) command(ctx context.Context, path string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = "/"
	env := []string{"LC_ALL=C", "LANG=C"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "PG"), strings.HasPrefix(k, "LC_"), k == "LANG", k == "LANGUAGE":
			continue
		case a.foreign() && (k == "HOME" || k == "USER" || k == "LOGNAME"):
			continue
		}
		env = append(env, kv)
	}
	if a.foreign() {
		env = append(env, "HOME=/", "USER="+a.name, "LOGNAME="+a.name)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: a.cred}
	}
	cmd.Env = env
	// pg_ctl start leaves a postmaster behind; it redirects the
	// postmaster's output to the log file, but never let a stray inherited
	// pipe hang Wait.
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// chown hands path to the account when servers run as another user.
func (a account) chown(path string) error {
	if !a.foreign() {
		return nil
	}
	return os.Lchown(path, a.uid, a.gid)
}

// makeTraversable ensures the account can reach dir: every ancestor must be
// searchable by it. Folders made by t.TempDir() and their parents are 0700
// root; such an ancestor gains o+x (search, not listing). Nothing is changed
// when the servers run as the current user.
func (a account) makeTraversable(dir string, log func(msg string, args ...any)) error {
	if !a.foreign() {
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for p := abs; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pgcluster: make %s reachable by user %s: %w", dir, a.name, err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		searchable := fi.Mode().Perm()&0o001 != 0 ||
			(ok && int(st.Uid) == a.uid && fi.Mode().Perm()&0o100 != 0) ||
			(ok && int(st.Gid) == a.gid && fi.Mode().Perm()&0o010 != 0)
		if !searchable {
			if err := os.Chmod(p, fi.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("pgcluster: make %s reachable by user %s: chmod o+x %s: %w", dir, a.name, p, err)
			}
			log("made folder traversable for the server user", "path", p, "user", a.name)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}
