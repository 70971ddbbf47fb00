package dbconn

import (
	"net"
	"syscall"
	"time"
)

// A primary that vanishes without a reset (a lost host, a blackholed route, the old primary of a
// failover) would leave the migrator waiting on TCP for as long as the kernel's defaults say
// (hours). Keepalives probe an idle connection and the user timeout bounds how long sent data may
// stay unacknowledged, so such a death is a lost connection (exit 3) within seconds.
const (
	KeepAliveIdle     = 5 * time.Second
	KeepAliveInterval = 2 * time.Second
	KeepAliveCount    = 3
	// UserTimeout also bounds the keepalive probes in all (Linux: TCP_USER_TIMEOUT overrides the
	// probe count once a probe is out): a silent peer is noticed about 11 s after it went away.
	UserTimeout = 10 * time.Second
)

// Dialer is the dialer of every connection the migrator opens: keepalives and a user timeout.
func Dialer() *net.Dialer {
	return &net.Dialer{
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: KeepAliveIdle, Interval: KeepAliveInterval, Count: KeepAliveCount},
		Control: func(network, _ string, c syscall.RawConn) error {
			if network != "tcp" && network != "tcp4" && network != "tcp6" {
				return nil
			}
			var serr error
			if err := c.Control(func(fd uintptr) { serr = setUserTimeout(fd, UserTimeout) }); err != nil {
				return err
			}
			return serr
		},
	}
}
