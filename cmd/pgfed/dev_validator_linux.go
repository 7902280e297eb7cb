package main

import "syscall"

// devChildAttr runs a dev cluster's child process in its own process group
// (the terminal's Ctrl-C reaches dev alone, which stops the children in
// order) and kills it if dev dies without stopping it.
func devChildAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
