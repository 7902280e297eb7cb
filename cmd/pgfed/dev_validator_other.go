//go:build !linux

package main

import "syscall"

// devChildAttr runs a dev cluster's child process in its own process group
// (the terminal's Ctrl-C reaches dev alone, which stops the children in
// order).
func devChildAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
