// Package redistest gives tests a real, private redis-server, so that code
// talking to Redis is tested against Redis and not against a fake. It is for
// tests only: nothing outside _test.go files should import it.
//
// Environment:
//
//	VENTANILLA_REDIS_SERVER   path of redis-server (default: looked up on PATH)
//	VENTANILLA_REDIS_ADDR     use this running server instead of starting one;
//	                          Start flushes DB VENTANILLA_REDIS_DB (default 15),
//	                          so run packages one at a time (go test -p 1)
//	VENTANILLA_REQUIRE_REDIS  "1": fail instead of skip when redis-server is missing
//	CI                        set: same as VENTANILLA_REQUIRE_REDIS=1
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	readyTimeout    = 5 * time.Second
	shutdownTimeout = 5 * time.Second
)

// Start returns a client of a Redis server that is empty at the start of the
// test and gone after it. The client is closed by t.Cleanup.
func Start(t testing.TB) *redis.Client {
	t.Helper()
	if addr := os.Getenv("VENTANILLA_REDIS_ADDR"); addr != "" {
		return external(t, addr)
	}
	addr, _ := StartServer(t)
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func external(t testing.TB, addr string) *redis.Client {
	t.Helper()
	db := 15
	if s := os.Getenv("VENTANILLA_REDIS_DB"); s != "" {
		var err error
		if db, err = strconv.Atoi(s); err != nil {
			t.Fatalf("redistest: VENTANILLA_REDIS_DB=%q: %v", s, err)
		}
	}
	c := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := c.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("redistest: flushing DB %d of VENTANILLA_REDIS_ADDR=%s: %v", db, addr, err)
	}
	return c
}

// StartServer starts a redis-server of its own on a free loopback port and
// returns its address. stop shuts it down and waits for it to exit; it is
// also registered with t.Cleanup, and calling it twice is harmless. A test
// can stop the server to see how its code copes, and start another on the
// same address with StartServerAt.
//
// It ignores VENTANILLA_REDIS_ADDR: a server it did not start is not one it
// may stop.
func StartServer(t testing.TB) (addr string, stop func()) {
	t.Helper()
	bin := serverPath(t)
	var errs []error
	// The port is free when chosen but is released before redis-server binds
	// it, so another process may take it in between: try a few ports.
	for range 3 {
		addr := freeAddr(t)
		stop, err := launch(t, bin, addr, "")
		if err == nil {
			return addr, stop
		}
		errs = append(errs, err)
	}
	t.Fatalf("redistest: cannot start redis-server: %v", errors.Join(errs...))
	return "", nil
}

// StartServerAt starts a redis-server on addr, typically the address of a
// server the test stopped, to simulate a restart. See StartServer for stop.
func StartServerAt(t testing.TB, addr string) (stop func()) {
	t.Helper()
	stop, err := launch(t, serverPath(t), addr, "")
	if err != nil {
		t.Fatalf("redistest: cannot start redis-server on %s: %v", addr, err)
	}
	return stop
}

// StartDurableServer starts a redis-server that keeps its data in dir with
// appendonly yes, written to disk at every command, on addr ("" for a free
// loopback port), and returns its address. A test stops it and starts
// another on the same addr and dir to see what survives a restart. See
// StartServer for stop.
func StartDurableServer(t testing.TB, addr, dir string) (string, func()) {
	t.Helper()
	bin := serverPath(t)
	var errs []error
	for range 3 {
		a := addr
		if a == "" {
			a = freeAddr(t)
		}
		stop, err := launch(t, bin, a, dir, "--appendonly", "yes", "--appendfsync", "always")
		if err == nil {
			return a, stop
		}
		errs = append(errs, err)
		if addr != "" {
			break
		}
	}
	t.Fatalf("redistest: cannot start a durable redis-server: %v", errors.Join(errs...))
	return "", nil
}

// Client returns a client of the server at addr, closed by t.Cleanup. Its
// retries are off, so a test of a stopped server fails fast.
func Client(t testing.TB, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

var loudSkip sync.Once

func serverPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("VENTANILLA_REDIS_SERVER"); p != "" {
		return p // a wrong explicit path fails in launch, loudly
	}
	p, err := exec.LookPath("redis-server")
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" || os.Getenv("VENTANILLA_REQUIRE_REDIS") == "1" {
		t.Fatal("redistest: redis-server not found on PATH, and Redis tests are required here (CI or VENTANILLA_REQUIRE_REDIS=1); install redis-server or set VENTANILLA_REDIS_SERVER")
	}
	const msg = "SKIPPING Redis tests: redis-server not found; run `make test` which installs it"
	// t.Skip is silent without -v; stderr at least reaches people running
	// go test in a package directory.
	loudSkip.Do(func() { fmt.Fprintln(os.Stderr, "!!! "+msg) })
	t.Skip(msg)
	return ""
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: finding a free port: %v", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// launch starts redis-server on addr and returns once it answers PING, or
// fails if it exits or stays silent for readyTimeout. It keeps its files in
// dir ("": a new temporary one); extra arguments override the defaults.
func launch(t testing.TB, bin, addr, dir string, extra ...string) (stop func(), err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if dir == "" {
		dir = t.TempDir()
	}
	logFile := filepath.Join(dir, "redis.log")
	cmd := exec.Command(bin, append([]string{
		"--port", port,
		"--bind", host,
		"--save", "",
		"--appendonly", "no",
		"--dir", dir,
		"--logfile", logFile,
	}, extra...)...)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	kill := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	serverLog := func() string {
		b, _ := os.ReadFile(logFile)
		return strings.TrimSpace(string(b))
	}

	if err := waitReady(addr, cmd.Process.Pid, exited); err != nil {
		kill()
		return nil, fmt.Errorf("redis-server on %s: %w\n%s", addr, err, serverLog())
	}

	stop = sync.OnceFunc(func() {
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		// The connection drops as the server exits, so the error says nothing.
		_ = c.Do(ctx, "SHUTDOWN", "NOSAVE").Err()
		cancel()
		_ = c.Close()
		select {
		case <-exited:
		case <-time.After(shutdownTimeout):
			kill()
		}
	})
	t.Cleanup(stop)
	return stop, nil
}

// waitReady polls until the server answers PING, then checks that the server
// answering is the process just started and not one that took the port first.
func waitReady(addr string, pid int, exited <-chan struct{}) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		info, err := serverInfo(addr)
		if err == nil {
			if !strings.Contains(info, "process_id:"+strconv.Itoa(pid)+"\r\n") {
				return errors.New("another server answers on this port")
			}
			return nil
		}
		select {
		case <-exited:
			return errors.New("exited before answering PING")
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer to PING within %v: %w", readyTimeout, err)
		}
	}
}

// serverInfo uses a client of its own each time because a client's pool
// backs off after failed dials, which would slow every start by up to a
// second.
func serverInfo(addr string) (string, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer func() { _ = c.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		return "", err
	}
	return c.Info(ctx, "server").Result()
}

// Commands is a go-redis hook that counts what a client sends: each
// command sent alone counts one, each pipeline one — the round trips.
// Add it with client.AddHook.
type Commands struct{ n atomic.Int64 }

// N is the count so far.
func (c *Commands) N() int64 { return c.n.Load() }

func (c *Commands) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *Commands) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *Commands) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}
