package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Restart backoff of a dev cluster's validators: the first restart after
// devRestartMin, each next one after twice the pause, at most
// devRestartMax; a validator that ran devRestartReset starts over.
const (
	devRestartMin   = 500 * time.Millisecond
	devRestartMax   = 5 * time.Second
	devRestartReset = 30 * time.Second
	// devValidatorStop is how long a validator has to exit after SIGTERM
	// before it is killed.
	devValidatorStop = 10 * time.Second
)

// devValidator supervises one organization's validator process (`pgfed
// validator --config FILE`, its output appended to logPath): it restarts
// it, after a growing pause, whenever it exits, until its run's ctx ends.
type devValidator struct {
	org      string
	exe      string
	config   string
	logPath  string
	logLevel string
	log      hclog.Logger
	// onStart is told the pid of every process started.
	onStart func(pid int)
}

// run keeps the validator running until ctx ends, then stops it (SIGTERM,
// SIGKILL after devValidatorStop).
func (v *devValidator) run(ctx context.Context) {
	pause := devRestartMin
	for {
		began := time.Now()
		err := v.runOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) >= devRestartReset {
			pause = devRestartMin
		}
		v.log.Warn("validator exited; restarting it", "error", err, "after", pause, "log", v.logPath)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, devRestartMax)
	}
}

// runOnce starts the validator and waits for it to exit, or for ctx to end
// (then stops it).
func (v *devValidator) runOnce(ctx context.Context) error {
	out, err := os.OpenFile(v.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	fmt.Fprintf(out, "--- pgfed dev: starting the validator of %s at %s\n", v.org, time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(v.exe, "validator", "--config", v.config, "--log-level", v.logLevel)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = devChildAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	v.log.Debug("validator started", "pid", cmd.Process.Pid)
	if v.onStart != nil {
		v.onStart(cmd.Process.Pid)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		return err
	case <-time.After(devValidatorStop):
		v.log.Warn("validator did not stop after SIGTERM; killing it", "pid", cmd.Process.Pid)
		_ = cmd.Process.Kill()
		return <-done
	}
}

// logTail returns the last n lines of the validator's log.
func (v *devValidator) logTail(n int) string {
	b, err := os.ReadFile(v.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
