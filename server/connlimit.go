package server

import (
	"net"
	"sync"
)

// limitListener returns a listener that holds at most n connections at
// once, as netutil.LimitListener does, but whose connections keep their
// TCP half-close (CloseWrite). net/http half-closes a connection it ends
// with the request unread (431 for headers past the limit) and answers
// with a body that ends at the close: without the half-close the client
// gets a reset in place of the answer.
func limitListener(ln net.Listener, n int) net.Listener {
	return &limitedListener{Listener: ln, slots: make(chan struct{}, n), done: make(chan struct{})}
}

type limitedListener struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// Accept waits for a free slot, then for a connection, which gives its
// slot back when it is closed.
func (l *limitedListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	conn := &limitedConn{Conn: c, release: func() { <-l.slots }}
	if cw, ok := c.(closeWriter); ok {
		return &limitedHalfCloser{limitedConn: conn, cw: cw}, nil
	}
	return conn, nil
}

// Close closes the listener and ends an Accept waiting for a slot.
func (l *limitedListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

// limitedConn is a connection that gives its slot back once closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close closes the connection and gives its slot back.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// closeWriter is a connection that can be half-closed, as a TCP one can.
type closeWriter interface{ CloseWrite() error }

// limitedHalfCloser is a limitedConn over a connection that can be
// half-closed, which net/http looks for.
type limitedHalfCloser struct {
	*limitedConn
	cw closeWriter
}

// CloseWrite half-closes the connection.
func (c *limitedHalfCloser) CloseWrite() error { return c.cw.CloseWrite() }
