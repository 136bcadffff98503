package server

import (
	"errors"
	"net"
	"testing"
	"time"
)

// TestLimitListener: a TCP connection accepted through the limit can
// still be half-closed, as net/http needs to end a 431 cleanly; beyond n
// connections Accept waits until one is closed; Close ends a waiting
// Accept.
func TestLimitListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := limitListener(inner, 1)
	accepted := make(chan net.Conn)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	dial()
	first := <-accepted
	if _, ok := first.(closeWriter); !ok {
		t.Fatalf("got a %T, want a connection that can be half-closed", first)
	}
	dial()
	select {
	case c := <-accepted:
		t.Fatalf("accepted %v beyond the limit of 1", c.RemoteAddr())
	case <-time.After(100 * time.Millisecond):
	}
	first.Close()
	select {
	case second := <-accepted:
		second.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("the second connection was not accepted after the first closed")
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case _, open := <-accepted:
		if open {
			t.Fatal("accepted a connection after Close")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Accept did not return after Close")
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: got %v, want net.ErrClosed", err)
	}
}
