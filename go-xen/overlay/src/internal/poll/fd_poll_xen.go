// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// On xen no descriptor is pollable: the syscall layer never blocks and never
// reports EAGAIN (console and file I/O complete synchronously), and sockets are
// not descriptors (package net runs on the in-program network stack). So an FD
// is always in blocking mode and has no deadlines.

package poll

import (
	"errors"
	"time"
)

var errNoPoller = errors.New("no I/O poller on xen")

type pollDesc struct{}

func (pd *pollDesc) init(fd *FD) error { return errNoPoller }

func (pd *pollDesc) close() {}

func (pd *pollDesc) evict() {}

func (pd *pollDesc) prepare(mode int, isFile bool) error { return nil }

func (pd *pollDesc) prepareRead(isFile bool) error { return nil }

func (pd *pollDesc) prepareWrite(isFile bool) error { return nil }

func (pd *pollDesc) wait(mode int, isFile bool) error { return errNoPoller }

func (pd *pollDesc) waitRead(isFile bool) error { return errNoPoller }

func (pd *pollDesc) waitWrite(isFile bool) error { return errNoPoller }

func (pd *pollDesc) waitCanceled(mode int) {}

func (pd *pollDesc) pollable() bool { return false }

// SetDeadline sets the read and write deadlines associated with fd.
// Without a poller there are none: it returns ErrNoDeadline.
func (fd *FD) SetDeadline(t time.Time) error { return ErrNoDeadline }

// SetReadDeadline returns ErrNoDeadline (see SetDeadline).
func (fd *FD) SetReadDeadline(t time.Time) error { return ErrNoDeadline }

// SetWriteDeadline returns ErrNoDeadline (see SetDeadline).
func (fd *FD) SetWriteDeadline(t time.Time) error { return ErrNoDeadline }

// IsPollDescriptor reports whether fd is the descriptor being used by the poller.
// This is only used for testing.
func IsPollDescriptor(fd uintptr) bool { return false }
