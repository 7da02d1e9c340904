// signals exercises os/signal on xen, where nothing sends a signal on a dom0 without a
// toolstack but the program itself (syscall.Kill, Process.Signal): Notify, Stop, Ignore,
// Ignored, Reset and NotifyContext must neither block
// nor crash, and os/signal's receive goroutine must park instead of holding the only M
// (timers and goroutines keep running, and main's return still ends the program with
// status 0). The delivery path itself (xl shutdown -> SIGTERM) is tested in tier 3.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	// Stop right after the first Notify: Stop waits for the receive goroutine to be
	// waiting in the runtime, so it must get to run.
	early := make(chan os.Signal, 1)
	signal.Notify(early, syscall.SIGQUIT)
	signal.Stop(early)
	fmt.Println("notify+stop: ok")

	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, os.Interrupt)
	fmt.Println("notify: ok")

	// The receive goroutine is parked now; goroutines and timers still run.
	done := make(chan int)
	go func() {
		n := 0
		for i := 0; i < 3; i++ {
			time.Sleep(10 * time.Millisecond)
			n++
		}
		done <- n
	}()
	select {
	case s := <-c:
		fmt.Println("unexpected signal:", s)
		os.Exit(1)
	case n := <-done:
		fmt.Println("sleeps while notified:", n)
	}

	fmt.Println("ignored before:", signal.Ignored(syscall.SIGHUP))
	signal.Ignore(syscall.SIGHUP)
	fmt.Println("ignored after Ignore:", signal.Ignored(syscall.SIGHUP))
	signal.Reset(syscall.SIGHUP)
	fmt.Println("ignored after Reset:", signal.Ignored(syscall.SIGHUP))
	signal.Notify(c, syscall.SIGHUP) // Notify undoes Ignore, as on Unix
	signal.Ignore(syscall.SIGHUP)
	signal.Notify(c, syscall.SIGHUP)
	fmt.Println("ignored after Notify:", signal.Ignored(syscall.SIGHUP))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	<-tctx.Done()
	fmt.Println("notify context:", ctx.Err(), "/", tctx.Err())
	cancel()
	stop()

	signal.Stop(c)
	signal.Reset()
	select {
	case s := <-c:
		fmt.Println("unexpected signal:", s)
		os.Exit(1)
	default:
	}

	// The program signals itself, the only process (kill(2) as on Linux).
	usr := make(chan os.Signal, 1)
	signal.Notify(usr, syscall.SIGUSR1)
	if err := (&os.Process{Pid: os.Getpid()}).Signal(syscall.SIGUSR1); err != nil {
		fmt.Println("self SIGUSR1:", err)
	}
	select {
	case s := <-usr:
		fmt.Println("self signal:", s)
	case <-time.After(time.Second):
		fmt.Println("self signal: not received")
	}
	signal.Stop(usr)
	signal.Ignore(syscall.SIGHUP)
	fmt.Println("kill ignored, unhandled, signal 0, other pid:", syscall.Kill(1, syscall.SIGHUP),
		syscall.Kill(1, syscall.SIGUSR2), syscall.Kill(0, 0), syscall.Kill(2, syscall.SIGTERM))
	signal.Reset(syscall.SIGHUP)

	if len(os.Args) > 1 && os.Args[1] == "selfterm" {
		// Unhandled SIGTERM ends the program as on Linux (status 128+15).
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		time.Sleep(time.Second)
		fmt.Println("still running after SIGTERM")
		return
	}
	// Still notified for SIGTERM (a fresh channel) when main returns: exit status 0.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGTERM)
	fmt.Println("done")
}
