package server

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"
)

// connLimitListener bounds the connections the hub holds open: at most perAddress from one client
// address (IPv6 by /64, as the rate limits count them), and at most total in all, so that one
// address, or many, cannot take every file descriptor and starve the partners who behave.
//
// It is written here rather than taken from golang.org/x/net/netutil, whose LimitListener has only
// the total: the per-address count is the part that matters against a single hostile client.
//
// A connection over its address's limit is accepted and closed at once: the file descriptor is
// given back immediately, and the client sees its connection reset. When the total is reached,
// Accept waits for a connection to close, so that further clients wait in the kernel's backlog,
// which costs the hub no descriptor.
type connLimitListener struct {
	net.Listener
	log        *slog.Logger
	perAddress int
	// slots holds a token per open connection; its capacity is the total.
	slots chan struct{}
	// closing is closed by Close, so that an Accept waiting for a slot returns.
	closing   chan struct{}
	closeOnce sync.Once

	mu     sync.Mutex
	open   map[netip.Prefix]int
	warned map[netip.Prefix]bool // addresses whose refusals are logged once until they fall back
}

// limitConnections wraps ln; perAddress or total at 0 leaves that limit off.
func limitConnections(ln net.Listener, perAddress, total int, log *slog.Logger) net.Listener {
	if perAddress <= 0 && total <= 0 {
		return ln
	}
	l := &connLimitListener{Listener: ln, log: log, perAddress: perAddress, closing: make(chan struct{}),
		open: map[netip.Prefix]int{}, warned: map[netip.Prefix]bool{}}
	if total > 0 {
		l.slots = make(chan struct{}, total)
	}
	return l
}

func (l *connLimitListener) Accept() (net.Conn, error) {
	for {
		if l.slots != nil {
			select {
			case l.slots <- struct{}{}:
			case <-l.closing:
				return nil, net.ErrClosed
			}
		}
		c, err := l.Listener.Accept()
		if err != nil {
			l.release()
			return nil, err
		}
		key, ok := addressKey(c.RemoteAddr())
		if !ok || l.perAddress <= 0 {
			return &limitedConn{Conn: c, done: func() { l.release() }}, nil
		}
		l.mu.Lock()
		if l.open[key] >= l.perAddress {
			first := !l.warned[key]
			l.warned[key] = true
			l.mu.Unlock()
			if first {
				l.log.Warn("refusing connections from an address over its limit of open connections",
					"client_ip", key.Addr().String(), "limit", l.perAddress)
			}
			c.Close()
			l.release()
			continue
		}
		l.open[key]++
		l.mu.Unlock()
		return &limitedConn{Conn: c, done: func() { l.closed(key) }}, nil
	}
}

// Close stops accepting, also an Accept waiting for a slot.
func (l *connLimitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closing) })
	return l.Listener.Close()
}

// closed counts a connection from key as closed.
func (l *connLimitListener) closed(key netip.Prefix) {
	l.mu.Lock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
		delete(l.warned, key)
	}
	l.mu.Unlock()
	l.release()
}

func (l *connLimitListener) release() {
	if l.slots != nil {
		<-l.slots
	}
}

// addressKey is what a connection counts against: its IPv4 address, or its IPv6 /64, which one
// client typically holds whole.
func addressKey(a net.Addr) (netip.Prefix, bool) {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(tcp.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ip = ip.Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, err := ip.Prefix(bits)
	return p, err == nil
}

// limitedConn gives its slot back once, however often it is closed.
type limitedConn struct {
	net.Conn
	once sync.Once
	done func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.done)
	return err
}

// fileLimit is the process's soft limit on open files, or 0 when it cannot be read.
func fileLimit() uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	return r.Cur
}

// defaultMaxConnections is half the open-file limit: the other half stays for the store's
// connections, the database's files and the metrics listener. Without a known limit it is off.
func defaultMaxConnections() int {
	n := fileLimit() / 2
	if n == 0 || n > 1<<30 {
		return 0
	}
	return int(n)
}
