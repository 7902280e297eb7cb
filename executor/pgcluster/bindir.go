package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// BinDirEnv is the environment variable that, when set, names the folder
// holding initdb, pg_ctl and postgres. It wins over every other way of
// finding them.
const BinDirEnv = "PGFED_PG_BINDIR"

// ErrNoPostgres is wrapped by the error FindBinDir returns when no folder
// holding initdb, pg_ctl and postgres was found.
var ErrNoPostgres = errors.New("postgresql server binaries not found")

// requiredBinaries are the programs a bin folder must hold to be usable.
var requiredBinaries = []string{"initdb", "pg_ctl", "postgres"}

// BinDirError is returned by FindBinDir when no usable folder was found. It
// lists every place that was tried and why it was rejected.
type BinDirError struct {
	Tried []string // one line per candidate: "where: why not"
}

func (e *BinDirError) Error() string {
	return fmt.Sprintf("pgcluster: %v (need %s); tried:\n  %s\nset %s to the folder holding them, or install PostgreSQL (Debian: apt-get install postgresql)",
		ErrNoPostgres, strings.Join(requiredBinaries, ", "), strings.Join(e.Tried, "\n  "), BinDirEnv)
}

// Unwrap returns ErrNoPostgres.
func (e *BinDirError) Unwrap() error { return ErrNoPostgres }

// FindBinDir locates the folder holding initdb, pg_ctl and postgres. It
// tries, in order: $PGFED_PG_BINDIR (an explicit setting that does not hold
// the programs is an error, not something to silently skip), the output of
// `pg_config --bindir`, the folder of initdb found on $PATH, and the newest
// /usr/lib/postgresql/*/bin (Debian's layout, which keeps initdb off $PATH).
// The error, a *BinDirError wrapping ErrNoPostgres, names what was tried.
func FindBinDir() (string, error) {
	var tried []string

	if dir := os.Getenv(BinDirEnv); dir != "" {
		if err := checkBinDir(dir); err != nil {
			return "", &BinDirError{Tried: []string{fmt.Sprintf("$%s=%s: %v", BinDirEnv, dir, err)}}
		}
		return dir, nil
	}
	tried = append(tried, "$"+BinDirEnv+": not set")

	if dir, err := pgConfigBinDir(); err != nil {
		tried = append(tried, "pg_config --bindir: "+err.Error())
	} else if err := checkBinDir(dir); err != nil {
		tried = append(tried, fmt.Sprintf("pg_config --bindir (%s): %v", dir, err))
	} else {
		return dir, nil
	}

	if path, err := exec.LookPath("initdb"); err != nil {
		tried = append(tried, "initdb on $PATH: not found")
	} else {
		if resolved, err := filepath.EvalSymlinks(path); err == nil {
			path = resolved
		}
		dir := filepath.Dir(path)
		if err := checkBinDir(dir); err != nil {
			tried = append(tried, fmt.Sprintf("initdb on $PATH (%s): %v", dir, err))
		} else {
			return dir, nil
		}
	}

	const debianGlob = "/usr/lib/postgresql/*/bin"
	candidates, _ := filepath.Glob(debianGlob)
	sortNewestFirst(candidates)
	for _, dir := range candidates {
		if err := checkBinDir(dir); err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", dir, err))
			continue
		}
		return dir, nil
	}
	if len(candidates) == 0 {
		tried = append(tried, debianGlob+": no match")
	}
	return "", &BinDirError{Tried: tried}
}

// pgConfigBinDir runs `pg_config --bindir`.
func pgConfigBinDir() (string, error) {
	path, err := exec.LookPath("pg_config")
	if err != nil {
		return "", errors.New("not on $PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--bindir").Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("%s printed nothing", path)
	}
	return dir, nil
}

// checkBinDir reports why dir is not a usable bin folder, or nil.
func checkBinDir(dir string) error {
	var missing []string
	for _, name := range requiredBinaries {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	return nil
}

// sortNewestFirst orders /usr/lib/postgresql/<version>/bin folders by
// version, newest first (numerically, so 16 comes before 9.6).
func sortNewestFirst(dirs []string) {
	version := func(dir string) float64 {
		v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
		if err != nil {
			return -1
		}
		return v
	}
	sort.SliceStable(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
}
