package server

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"
)

// TestConnectionLimits opens real connections from several loopback addresses: one address gets
// no more than its limit, the rest are closed at once; beyond the total, a connection waits until
// another closes; closing the listener ends an Accept that waits.
func TestConnectionLimits(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := limitConnections(raw, 2, 3, slog.New(slog.DiscardHandler))
	accepted := make(chan net.Conn, 10)
	acceptErr := make(chan error, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				acceptErr <- err
				return
			}
			accepted <- c
		}
	}()
	dial := func(from string) net.Conn {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	closed := func(c net.Conn, wait time.Duration) bool {
		_ = c.SetReadDeadline(time.Now().Add(wait))
		_, err := io.Copy(io.Discard, c)
		return !errors.Is(err, os.ErrDeadlineExceeded)
	}

	first, second := dial("127.0.0.1"), dial("127.0.0.1")
	held := []net.Conn{<-accepted, <-accepted}
	third := dial("127.0.0.1")
	if !closed(third, 10*time.Second) {
		t.Error("a third connection from one address with a limit of two was kept open")
	}
	for _, c := range []net.Conn{first, second} {
		if closed(c, 100*time.Millisecond) {
			t.Error("a connection within its address's limit was closed")
		}
	}

	dial("127.0.0.2")
	held = append(held, <-accepted) // the total of three is reached
	dial("127.0.0.3")
	select {
	case <-accepted:
		t.Fatal("a connection beyond the total was accepted")
	case <-time.After(200 * time.Millisecond):
	}
	held[0].Close()
	select {
	case c := <-accepted:
		held = append(held, c) // the total is reached again
	case <-time.After(10 * time.Second):
		t.Fatal("a connection waiting for room was not accepted once another closed")
	}

	// Accept now waits for room, and the listener closes meanwhile.
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-acceptErr:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v; want net.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("an Accept waiting for room did not return when the listener closed")
	}
}
