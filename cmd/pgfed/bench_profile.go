package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// benchProfiler writes pprof profiles of the bench process, which runs the
// coordinator in-process: a CPU profile of the workloads (setup excluded)
// and an allocation profile taken when they end.
type benchProfiler struct {
	cpuPath, memPath string
	cpu              *os.File
}

// start begins the CPU profile, when one was asked for. Allocations are
// recorded from here on too: the allocation profile counts since the
// process started, so the setup's allocations are in it as well.
func (p *benchProfiler) start() error {
	if p.cpuPath == "" {
		return nil
	}
	f, err := os.Create(p.cpuPath)
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	p.cpu = f
	return nil
}

// stop ends the CPU profile and writes the allocation profile.
func (p *benchProfiler) stop() error {
	var first error
	if p.cpu != nil {
		pprof.StopCPUProfile()
		if err := p.cpu.Close(); err != nil {
			first = fmt.Errorf("--cpuprofile: %w", err)
		}
		p.cpu = nil
	}
	if p.memPath != "" {
		f, err := os.Create(p.memPath)
		if err != nil {
			return fmt.Errorf("--memprofile: %w", err)
		}
		runtime.GC()
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil && first == nil {
			first = fmt.Errorf("--memprofile: %w", err)
		}
	}
	return first
}
