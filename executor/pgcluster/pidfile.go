package pgcluster

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// postmasterPID is what postmaster.pid says about a running server. The
// file's lines are: pid, data folder, start time, port, socket folder,
// listen address, shared memory key, status ("starting", "ready",
// "stopping", "standby").
type postmasterPID struct {
	pid     int
	dataDir string
	port    int
	status  string
}

// readPostmasterPID parses dataDir/postmaster.pid. A missing file is
// (zero value, nil).
func readPostmasterPID(dataDir string) (postmasterPID, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if errors.Is(err, os.ErrNotExist) {
		return postmasterPID{}, nil
	}
	if err != nil {
		return postmasterPID{}, err
	}
	lines := strings.Split(string(b), "\n")
	line := func(i int) string {
		if i < len(lines) {
			return strings.TrimSpace(lines[i])
		}
		return ""
	}
	var p postmasterPID
	p.pid, _ = strconv.Atoi(line(0))
	p.dataDir = line(1)
	p.port, _ = strconv.Atoi(line(3))
	p.status = line(7)
	return p, nil
}

// livePostmaster returns the postmaster.pid of dataDir when it names a
// live postmaster of this very data folder, and ok=false otherwise (no
// file, a dead pid, or a pid reused by an unrelated process).
func livePostmaster(dataDir string) (postmasterPID, bool) {
	p, err := readPostmasterPID(dataDir)
	if err != nil || p.pid <= 0 {
		return postmasterPID{}, false
	}
	if !processAlive(p.pid) {
		return postmasterPID{}, false
	}
	if !sameDir(p.dataDir, dataDir) {
		return postmasterPID{}, false
	}
	if !looksLikePostgres(p.pid) {
		return postmasterPID{}, false
	}
	return p, true
}

// processAlive reports whether pid exists (EPERM: it exists but belongs to
// another user).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// looksLikePostgres checks /proc/pid/cmdline, where available, so that a
// pid reused by another program after a crash is not taken for a server.
func looksLikePostgres(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return !errors.Is(err, os.ErrNotExist) // no /proc: trust kill(0)
	}
	argv0, _, _ := bytes.Cut(b, []byte{0})
	base := filepath.Base(string(argv0))
	return strings.Contains(base, "postgres") || strings.Contains(base, "postmaster")
}

// sameDir compares two folder names after resolving symlinks.
func sameDir(a, b string) bool {
	if a == b {
		return true
	}
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

// processStartTime returns the start time of pid in clock ticks since boot
// (field 22 of /proc/pid/stat), used with the pid to name a process
// unambiguously; "" when unknown.
func processStartTime(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) may hold spaces; fields resume after ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return ""
	}
	fields := strings.Fields(string(b[i+1:]))
	const startTimeField = 22 - 3 // fields[0] is field 3 (state)
	if len(fields) <= startTimeField {
		return ""
	}
	return fields[startTimeField]
}
