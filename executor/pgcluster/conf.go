package pgcluster

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// confFile is the settings file pgcluster owns in every data folder. The
// template's postgresql.conf ends with an include_if_exists of it, so it
// wins over postgresql.conf; ALTER SYSTEM (postgresql.auto.conf) still
// wins over it. It is rewritten before every start.
const confFile = "pgcluster.conf"

// logFile is the server log inside the data folder (pg_ctl -l).
const logFile = "server.log"

// unixSocketPathMax is the longest unix socket path the kernel accepts
// (sizeof sun_path - 1).
const unixSocketPathMax = 107

// fastSettings trade durability against an operating system crash for speed.
// A process crash (StopImmediate, kill -9) keeps every committed transaction:
// the WAL reaches the kernel at commit, only the fsync is skipped.
// synchronous_commit stays on on purpose: off would let an immediate stop
// lose the last commits, which breaks recovery tests, and with fsync=off
// it saves almost nothing.
var fastSettings = map[string]string{
	"fsync":            "off",
	"full_page_writes": "off",
}

// WorkerSettings returns the postgresql.conf settings pgfed needs on a
// worker: max_connections = 200, max_prepared_transactions equal to it (2PC
// keeps a prepared transaction per distributed transaction that touches the
// worker), and room for the many shard tables one transaction may lock. The
// map is fresh: callers may change it.
func WorkerSettings() map[string]string {
	return map[string]string{
		"max_connections":           "200",
		"max_prepared_transactions": "200",
		"max_locks_per_transaction": "256",
		"log_lock_waits":            "on",
	}
}

// baseSettings are applied to every server, before the spec's settings.
func baseSettings(port int, dataDir string, fast bool) map[string]string {
	m := map[string]string{
		"listen_addresses":  "127.0.0.1",
		"port":              strconv.Itoa(port),
		"logging_collector": "off", // pg_ctl -l writes stderr to server.log
		"log_destination":   "stderr",
		"log_line_prefix":   "%m [%p] %q%u@%d ",
		"lc_messages":       "C",
	}
	// The unix socket lives in the data folder, never /var/run; a folder
	// too deep for a socket path gets TCP only.
	sock := filepath.Join(dataDir, ".s.PGSQL."+strconv.Itoa(port))
	if len(sock) <= unixSocketPathMax {
		m["unix_socket_directories"] = dataDir
	} else {
		m["unix_socket_directories"] = ""
	}
	if fast {
		for k, v := range fastSettings {
			m[k] = v
		}
	}
	return m
}

// renderConf writes settings as postgresql.conf lines, sorted by name.
func renderConf(settings map[string]string) ([]byte, error) {
	names := make([]string, 0, len(settings))
	for k := range settings {
		if !validSettingName(k) {
			return nil, fmt.Errorf("pgcluster: invalid setting name %q", k)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	var b bytes.Buffer
	b.WriteString("# Written by pgfed executor/pgcluster before every start; edits here are lost.\n")
	b.WriteString("# Use ALTER SYSTEM (postgresql.auto.conf) for lasting changes.\n")
	for _, k := range names {
		fmt.Fprintf(&b, "%s = %s\n", k, quoteConfValue(settings[k]))
	}
	return b.Bytes(), nil
}

// validSettingName accepts GUC names, including custom "ext.name" ones.
func validSettingName(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if !(c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// quoteConfValue quotes a value for postgresql.conf; every setting type
// accepts a quoted value.
func quoteConfValue(v string) string {
	v = strings.ReplaceAll(v, `\`, `\\`)
	v = strings.ReplaceAll(v, `'`, `''`)
	return "'" + v + "'"
}

// confPort returns the port recorded in dataDir's pgcluster.conf, or 0.
func confPort(dataDir string) int {
	f, err := os.Open(filepath.Join(dataDir, confFile))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || strings.TrimSpace(k) != "port" {
			continue
		}
		n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(v), "'"))
		if err == nil {
			return n
		}
	}
	return 0
}
