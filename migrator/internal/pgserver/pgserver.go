// Package pgserver starts a throwaway PostgreSQL server from the machine's own binaries, for
// tests and for `make run`. It needs no container: initdb and postgres from Debian's
// postgresql package (or any PostgreSQL whose initdb is on PATH) are enough.
package pgserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options say where and how to run the server.
type Options struct {
	Dir    string // data, socket and state live here; created if missing
	Port   int    // 0 picks a free port
	Detach bool   // keep running after this process exits (pg_ctl); otherwise it dies with us
	TLS    bool   // also accept TLS, with a certificate from a throwaway CA (Server.CAFile)
	// Settings are extra server settings, "name=value" each, e.g.
	// "shared_preload_libraries=pg_stat_statements".
	Settings []string
	// Bin is the directory of the binaries to run (default: FindBin's, from PG_BINDIR).
	Bin string
}

// Server is a running PostgreSQL that accepts password (SCRAM) logins on 127.0.0.1.
type Server struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	User     string `json:"user"`
	Password string `json:"password"`
	Dir      string `json:"dir"` // the caller's directory, holding the state file
	// Files is where the server keeps its data, socket, certificates and log: Dir, or a
	// directory of its own when the server's user cannot enter Dir (ServerDir).
	Files  string `json:"files"`
	Bin    string `json:"bin"`              // the binaries it runs: PG_BINDIR's, or a copy the server's user can execute
	CAFile string `json:"caFile,omitempty"` // the CA of the server certificate, with Options.TLS
	cmd    *exec.Cmd
}

// URL is the connection string for database db on this server.
func (s *Server) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(s.User, s.Password),
		Host: net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// FindBin returns the directory holding initdb and postgres: PG_BINDIR, else PATH, else the
// newest /usr/lib/postgresql/*/bin.
func FindBin() (string, error) {
	if dir := os.Getenv("PG_BINDIR"); dir != "" {
		return dir, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) < versionOf(dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries found (initdb): install Debian's postgresql package (apt-get install -y postgresql) or set PG_BINDIR")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

const stateFile = "server.json"

// Start initialises (if needed) and starts a server for opts.Dir. As root it runs the server as
// the postgres user, because initdb and postgres refuse to run as root; the binaries and the
// server's files then go where that user can reach them (ReachableBin, ServerDir).
func Start(ctx context.Context, opts Options) (*Server, error) {
	bin, err := opts.Bin, error(nil)
	if bin == "" {
		if bin, err = FindBin(); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", opts.Dir, err)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	owner, err := RunAs()
	if err != nil {
		return nil, err
	}
	if bin, err = ReachableBin(ctx, owner, bin); err != nil {
		return nil, err
	}
	files, err := ServerDir(ctx, owner, dir)
	if err != nil {
		return nil, err
	}
	s := &Server{Host: "127.0.0.1", Port: opts.Port, User: "postgres", Dir: dir, Files: files, Bin: bin}
	if prev, err := load(dir); err == nil {
		s.Password = prev.Password
		if s.Port == 0 {
			s.Port = prev.Port
		}
	}
	data := filepath.Join(files, "data")
	if made, err := os.ReadFile(filepath.Join(data, "PG_VERSION")); err == nil {
		if major, err := serverMajor(ctx, bin); err == nil && strings.TrimSpace(string(made)) != major {
			return nil, fmt.Errorf("the data in %s was made by PostgreSQL %s, and this server (%s) is %s: "+
				"remove it (make clean) or set PG_VERSION=%s", data, strings.TrimSpace(string(made)), bin, major, strings.TrimSpace(string(made)))
		}
	} else {
		s.Password = RandomHex(16)
		if err := s.initdb(ctx, owner, data); err != nil {
			return nil, err
		}
	}
	if s.Port == 0 {
		if s.Port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	var tlsArgs []string
	if opts.TLS {
		if s.CAFile, err = WriteTLS(files); err != nil {
			return nil, fmt.Errorf("make test certificates: %w", err)
		}
		if err := ChownAll(files, owner); err != nil {
			return nil, err
		}
		tlsArgs = []string{"-c", "ssl=on", "-c", "ssl_cert_file=" + filepath.Join(files, "server.crt"),
			"-c", "ssl_key_file=" + filepath.Join(files, "server.key")}
	}
	if err := save(dir, s); err != nil {
		return nil, err
	}
	args := []string{"-D", data, "-p", strconv.Itoa(s.Port), "-k", files,
		"-c", "listen_addresses=127.0.0.1",
		// Throwaway data: durability off, as pgtestdb does, for fast tests.
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "log_min_messages=warning"}
	args = append(args, tlsArgs...)
	for _, kv := range opts.Settings {
		args = append(args, "-c", kv)
	}
	if opts.Detach {
		logFile := filepath.Join(files, "postgres.log")
		cmd := command(ctx, owner, filepath.Join(bin, "pg_ctl"), "start", "-w", "-t", "60", "-D", data, "-l", logFile, "-o", quoteArgs(args[2:]))
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("pg_ctl start: %w\n%s\n(see %s)", err, out, logFile)
		}
	} else {
		cmd := command(ctx, owner, filepath.Join(bin, "postgres"), args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
		logf, err := os.Create(filepath.Join(files, "postgres.log"))
		if err != nil {
			return nil, err
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start postgres: %w", err)
		}
		s.cmd = cmd
	}
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// Running reports the server recorded in dir if it answers.
func Running(ctx context.Context, dir string) (*Server, bool) {
	s, err := load(dir)
	if err != nil {
		return nil, false
	}
	return s, s.waitReady(ctx, 0) == nil
}

// serverMajor is the major version of the postgres binary in bin, e.g. "17".
func serverMajor(ctx context.Context, bin string) (string, error) {
	out, err := exec.CommandContext(ctx, filepath.Join(bin, "postgres"), "--version").Output()
	if err != nil {
		return "", err
	}
	f := strings.Fields(string(out))
	if len(f) == 0 {
		return "", fmt.Errorf("postgres --version: %q", out)
	}
	major, _, _ := strings.Cut(f[len(f)-1], ".")
	return major, nil
}

func (s *Server) initdb(ctx context.Context, owner *user.User, data string) error {
	pw := filepath.Join(s.Files, "pwfile")
	if err := os.WriteFile(pw, []byte(s.Password+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pw)
	if err := ChownAll(s.Files, owner); err != nil {
		return err
	}
	cmd := command(ctx, owner, filepath.Join(s.Bin, "initdb"), "-D", data, "-U", s.User, "--pwfile", pw,
		"--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

func (s *Server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, s.URL("postgres"))
		cancel()
		if err == nil {
			return conn.Close(ctx)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("PostgreSQL on port %d did not accept connections (log: %s): %w", s.Port, filepath.Join(s.Files, "postgres.log"), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// StartStandby makes a streaming standby of s (pg_basebackup -R from s, which must run with
// wal_level=replica and a replication slot of WAL senders) in opts.Dir and starts it: a hot
// standby, read-only until promoted (SELECT pg_promote()).
func (s *Server) StartStandby(ctx context.Context, opts Options) (*Server, error) {
	owner, err := RunAs()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	files, err := ServerDir(ctx, owner, dir)
	if err != nil {
		return nil, err
	}
	if err := ChownAll(files, owner); err != nil {
		return nil, err
	}
	cmd := command(ctx, owner, filepath.Join(s.Bin, "pg_basebackup"), "-h", s.Host, "-p", strconv.Itoa(s.Port), "-U", s.User,
		"-D", filepath.Join(files, "data"), "-R", "-X", "stream", "-c", "fast")
	cmd.Env = append(os.Environ(), "PGPASSWORD="+s.Password)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pg_basebackup: %w\n%s", err, out)
	}
	if opts.Port == 0 {
		if opts.Port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	// The standby's superuser is the primary's: Start reads its password from the state file.
	if err := save(dir, &Server{Host: s.Host, Port: opts.Port, User: s.User, Password: s.Password, Dir: dir, Files: files, Bin: s.Bin}); err != nil {
		return nil, err
	}
	opts.Bin = s.Bin
	return Start(ctx, opts)
}

// Kill ends the server and every one of its processes with SIGKILL, as a lost host would: no
// shutdown, no goodbye to the clients.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	pid := s.cmd.Process.Pid
	if n, ok := postmasterPID(s.Files); ok {
		pid = n
	}
	if pgid, err := syscall.Getpgid(pid); err == nil && pgid != syscall.Getpgrp() {
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // the postmaster's group: every backend with it
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	_ = s.cmd.Wait()
}

// Stop shuts the server down quickly and waits for it to exit.
func (s *Server) Stop() error {
	if s.cmd != nil {
		// Signal the postmaster itself: runuser, our direct child as root, does not pass SIGINT on.
		pid := s.cmd.Process.Pid
		if n, ok := postmasterPID(s.Files); ok {
			pid = n
		}
		_ = syscall.Kill(pid, syscall.SIGINT) // fast shutdown
		_ = s.cmd.Wait()
		return nil
	}
	owner, err := RunAs()
	if err != nil {
		return err
	}
	out, err := command(context.Background(), owner, filepath.Join(s.Bin, "pg_ctl"), "stop", "-m", "fast", "-D", filepath.Join(s.Files, "data")).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

// Remove stops the server recorded in dir, if one runs, and deletes its files and dir.
func Remove(ctx context.Context, dir string) error {
	s, running := Running(ctx, dir)
	if s == nil {
		return os.RemoveAll(dir)
	}
	if running {
		if err := s.Stop(); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(s.Files); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

// RunAs returns the user to run a server as: nil for the current user, postgres for root
// (PostgreSQL and pgbouncer refuse to run as root).
func RunAs() (*user.User, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("running as root, and PostgreSQL refuses to run as root: create a postgres user (Debian's postgresql package does) or run as another user")
	}
	return u, nil
}

func command(ctx context.Context, owner *user.User, name string, args ...string) *exec.Cmd {
	if owner == nil {
		return exec.CommandContext(ctx, name, args...)
	}
	return exec.CommandContext(ctx, "runuser", append([]string{"-u", owner.Username, "--", name}, args...)...)
}

// ChownAll gives dir and everything below it to u (nothing when u is nil).
func ChownAll(dir string, u *user.User) error {
	if u == nil {
		return nil
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// FreePort is a TCP port on 127.0.0.1 that nothing listens on right now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// RandomHex is n random bytes in hex: passwords and unique names.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func load(dir string) (*Server, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	var s Server
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	if s.Files == "" {
		s.Files = s.Dir // recorded before the server's files could live elsewhere
	}
	return &s, nil
}

func save(dir string, s *Server) error {
	b, _ := json.MarshalIndent(s, "", "  ")
	return os.WriteFile(filepath.Join(dir, stateFile), b, 0o600)
}

// CreateDatabase creates database name unless it exists.
func (s *Server) CreateDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}
