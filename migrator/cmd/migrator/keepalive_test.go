package main

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"sync/atomic"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// sleepy sleeps only when the test asks, through a session setting in the URL.
const sleepy = "SELECT pg_sleep(coalesce(nullif(current_setting('carthub.test_sleep', true), ''), '0')::float8)"

func withSleep(url, seconds string) string {
	return url + "&options=-c%20carthub.test_sleep%3D" + seconds
}

// A primary that dies without a word (a lost host, a blackholed route) must be a lost connection
// within seconds, not a wait on TCP for hours. A proxy on 127.0.0.1 forwards the migrator's
// connection; mid-statement it stops forwarding and drops, in the kernel, every packet the
// migrator sends (a socket filter: no ACK, no keepalive answer, no reset), as a dead peer would.
func TestDeadPeerIsALostConnectionWithinSeconds(t *testing.T) {
	dir := writeMigrations(t, map[string]string{
		"0001_first.sql": "CREATE TABLE first (id int);\n",
		"0002_slow.sql":  "CREATE TABLE slow (id int);\n" + sleepy + ";\n",
	})
	direct := pgtest.NewDB(t)
	hole := newBlackHole(t, mustParseURL(t, direct).Host)
	u := mustParseURL(t, direct)
	u.Host = hole.addr
	p := start(t, map[string]string{"DATABASE_URL": withSleep(u.String(), "120"), "MIGRATOR_DIR": dir}, "up", "--connect-timeout", "2s")
	waitFor(t, direct, "SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%SELECT pg_sleep%' AND state = 'active' AND datname = current_database() AND pid <> pg_backend_pid()")
	holed := time.Now()
	hole.swallow(t)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(45 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		t.Fatalf("the migrator still waited on a dead peer 45s after it went silent\n%s", p.stderr)
	}
	took := time.Since(holed)
	t.Logf("dead peer noticed %.1fs after it went silent (keepalive idle 5s, interval 2s, TCP_USER_TIMEOUT 10s)", took.Seconds())
	if code := p.cmd.ProcessState.ExitCode(); code != 3 {
		t.Fatalf("exit %d after the peer went silent, want 3 (lost connection, the Job retries)\n%s", code, p.stderr)
	}
	if took > 30*time.Second {
		t.Errorf("noticed after %s, want within 30s", took)
	}
	// The server cancels the orphaned session itself once it notices; terminate it to go on.
	pgtest.Exec(t, direct, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%SELECT pg_sleep%' AND pid <> pg_backend_pid()")
	waitFor(t, direct, "SELECT count(*) = 0 FROM pg_locks WHERE locktype = 'advisory'")
	mustCode(t, cli(t, map[string]string{"DATABASE_URL": direct, "MIGRATOR_DIR": dir}, "up"), 0)
}

// blackHole is a TCP proxy that can go silent: it stops forwarding and its kernel drops what the
// client sends, so the client sees neither data, nor ACKs, nor a reset.
type blackHole struct {
	addr    string
	silent  atomic.Bool
	mu      sync.Mutex
	clients []*net.TCPConn
}

func newBlackHole(t *testing.T, target string) *blackHole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackHole{addr: ln.Addr().String()}
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			b.mu.Lock()
			b.clients = append(b.clients, c.(*net.TCPConn))
			conns = append(conns, c, s)
			b.mu.Unlock()
			go b.pipe(s, c)
			go b.pipe(c, s)
		}
	}()
	return b
}

func (b *blackHole) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if b.silent.Load() {
			return // swallowed: nothing more goes either way
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				_ = dst.(*net.TCPConn).CloseWrite()
			}
			return
		}
	}
}

// swallow makes the proxy a dead peer: a classic BPF filter that drops every packet on the client
// sockets (unprivileged), so the kernel acknowledges nothing.
func (b *blackHole) swallow(t *testing.T) {
	t.Helper()
	b.silent.Store(true)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.clients {
		raw, err := c.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var ferr error
		if err := raw.Control(func(fd uintptr) {
			// A classic BPF filter that accepts nothing: one instruction, which x/net/bpf would
			// only spell differently (a module for one call).
			//lint:ignore SA1019 the deprecated call is the kernel's own interface, and it is one instruction
			ferr = syscall.AttachLsf(int(fd), []syscall.SockFilter{{Code: syscall.BPF_RET | syscall.BPF_K, K: 0}})
		}); err != nil || ferr != nil {
			t.Fatalf("attach the dropping filter: %v %v", err, ferr)
		}
	}
}
