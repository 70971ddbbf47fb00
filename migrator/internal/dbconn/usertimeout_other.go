//go:build !linux

package dbconn

import "time"

// setUserTimeout does nothing where TCP_USER_TIMEOUT does not exist: keepalives alone notice a
// dead peer there.
func setUserTimeout(uintptr, time.Duration) error { return nil }
