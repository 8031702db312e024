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
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A Cluster or a Sentinel set-up takes seconds to form (a cluster's nodes
// must agree on who holds which slot), so each test process forms one of
// each the first time a test asks and shares it: every test gets it
// emptied. The servers die with the test process (see keepAlive); their
// directories are removed by the next test process that forms one (see
// sharedDir).
var (
	clusterOnce  sync.Once
	clusterAddrs []string
	clusterErr   error

	sentinelOnce sync.Once
	sentinelSet  *Sentinel
	sentinelErr  error
)

// clusterStartTimeout bounds the forming of a cluster or a Sentinel set-up.
const clusterStartTimeout = 60 * time.Second

// StartCluster returns a client of a real Redis Cluster of three masters
// (three redis-server processes joined by `redis-cli --cluster create`),
// empty at the start of the test. Commands whose keys lie in different
// slots fail on it with CROSSSLOT as they would in production. The client
// is closed by t.Cleanup; the cluster is shared by the tests of the
// process, one at a time.
func StartCluster(t testing.TB) *redis.ClusterClient {
	t.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: ClusterAddrs(t)})
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		return n.FlushAll(ctx).Err()
	}); err != nil {
		t.Fatalf("redistest: emptying the cluster: %v", err)
	}
	return c
}

// ClusterAddrs returns the addresses of the shared cluster's masters,
// forming it if no test has yet (see StartCluster). It does not empty
// it: call StartCluster once first.
func ClusterAddrs(t testing.TB) []string {
	t.Helper()
	bin := serverPath(t)
	cli := cliPath(t)
	clusterOnce.Do(func() { clusterAddrs, clusterErr = formCluster(bin, cli) })
	if clusterErr != nil {
		t.Fatalf("redistest: cannot form a Redis Cluster: %v", clusterErr)
	}
	return clusterAddrs
}

func formCluster(bin, cli string) ([]string, error) {
	dir, err := sharedDir("cluster")
	if err != nil {
		return nil, err
	}
	var addrs []string
	for i := range 3 {
		addr, _, err := startShared(bin, filepath.Join(dir, strconv.Itoa(i)),
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000")
		if err != nil {
			return nil, err
		}
		addrs = append(addrs, addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterStartTimeout)
	defer cancel()
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("redis-cli --cluster create: %w\n%s", err, out)
	}
	// redis-cli returns once every node took its slots; wait until each
	// node also knows the others hold theirs.
	for _, addr := range addrs {
		if err := waitClusterOK(ctx, addr); err != nil {
			return nil, err
		}
	}
	return addrs, nil
}

func waitClusterOK(ctx context.Context, addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer func() { _ = c.Close() }()
	for {
		info, err := c.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:3\r\n") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster node %s not ready: %v %q", addr, ctx.Err(), info)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Sentinel is a real Sentinel set-up: a master, a replica of it and a
// sentinel watching them under the name Master.
type Sentinel struct {
	Master    string   // the name the sentinel knows the master by
	Sentinels []string // the sentinel's address
	Servers   []string // master first, then the replica
}

// StartSentinel returns a client of a real Sentinel set-up (see Sentinel),
// the way a production client finds its master: by asking the sentinel.
// The data set is empty at the start of the test; the client is closed by
// t.Cleanup. The set-up is shared by the tests of the process, one at a
// time, so a test must not fail the master over.
func StartSentinel(t testing.TB) (*redis.Client, *Sentinel) {
	t.Helper()
	bin := serverPath(t)
	sentinelOnce.Do(func() {
		var dir string
		if dir, sentinelErr = sharedDir("sentinel"); sentinelErr == nil {
			sentinelSet, _, sentinelErr = formSentinel(bin, dir)
		}
	})
	if sentinelErr != nil {
		t.Fatalf("redistest: cannot start a Sentinel set-up: %v", sentinelErr)
	}
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: sentinelSet.Master, SentinelAddrs: sentinelSet.Sentinels})
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatalf("redistest: emptying the Sentinel master: %v", err)
	}
	return c, sentinelSet
}

func formSentinel(bin, dir string) (s *Sentinel, procs []*os.Process, err error) {
	defer func() {
		if err != nil {
			for _, p := range procs {
				_ = p.Kill()
			}
			procs = nil
		}
	}()
	master, p, err := startShared(bin, filepath.Join(dir, "master"))
	if err != nil {
		return nil, procs, err
	}
	procs = append(procs, p)
	host, port, _ := strings.Cut(master, ":")
	replica, p, err := startShared(bin, filepath.Join(dir, "replica"), "--replicaof", host, port)
	if err != nil {
		return nil, procs, err
	}
	procs = append(procs, p)
	// A sentinel rewrites its configuration file, so it must have one.
	sdir := filepath.Join(dir, "sentinel")
	if err := os.MkdirAll(sdir, 0o700); err != nil {
		return nil, procs, err
	}
	conf := filepath.Join(sdir, "sentinel.conf")
	body := fmt.Sprintf("sentinel monitor ventanilla %s %s 1\nsentinel down-after-milliseconds ventanilla 1000\nsentinel failover-timeout ventanilla 5000\n", host, port)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return nil, procs, err
	}
	sentinel, p, err := startShared(bin, sdir, conf, "--sentinel")
	if err != nil {
		return nil, procs, err
	}
	procs = append(procs, p)
	s = &Sentinel{Master: "ventanilla", Sentinels: []string{sentinel}, Servers: []string{master, replica}}
	// Wait until the sentinel names the master and the replica has
	// synchronised, so that tests start on a settled set-up.
	ctx, cancel := context.WithTimeout(context.Background(), clusterStartTimeout)
	defer cancel()
	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinel, MaxRetries: -1})
	defer func() { _ = sc.Close() }()
	rc := redis.NewClient(&redis.Options{Addr: replica, MaxRetries: -1})
	defer func() { _ = rc.Close() }()
	for {
		got, err := sc.GetMasterAddrByName(ctx, s.Master).Result()
		info, _ := rc.Info(ctx, "replication").Result()
		if err == nil && len(got) == 2 && got[0]+":"+got[1] == master && strings.Contains(info, "master_link_status:up") {
			return s, procs, nil
		}
		select {
		case <-ctx.Done():
			return nil, procs, fmt.Errorf("sentinel on %s not ready: %v (last: %v %q)", sentinel, ctx.Err(), err, info)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// startShared starts a redis-server in dir, on a free loopback port, that
// lives as long as the test process; args come after the port and the
// directory (a configuration file, when one, must come first: it is
// passed first).
func startShared(bin, dir string, args ...string) (string, *os.Process, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	var errs []error
	for range 3 {
		addr, p, err := tryShared(bin, dir, args)
		if err == nil {
			return addr, p, nil
		}
		errs = append(errs, err)
	}
	return "", nil, errors.Join(errs...)
}

func tryShared(bin, dir string, args []string) (string, *os.Process, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := l.Addr().String()
	_ = l.Close()
	host, port, _ := strings.Cut(addr, ":")
	var conf []string
	if len(args) > 0 && strings.HasSuffix(args[0], ".conf") {
		conf, args = args[:1], args[1:]
	}
	logFile := filepath.Join(dir, "redis.log")
	argv := append(conf, "--port", port, "--bind", host, "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", logFile)
	argv = append(argv, args...)
	cmd := exec.Command(bin, argv...)
	cmd.Dir = dir
	if err := startKept(cmd); err != nil {
		return "", nil, err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	if err := waitReady(addr, cmd.Process.Pid, exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		b, _ := os.ReadFile(logFile)
		return "", nil, fmt.Errorf("redis-server on %s: %w\n%s", addr, err, strings.TrimSpace(string(b)))
	}
	return addr, cmd.Process, nil
}

func cliPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("VENTANILLA_REDIS_CLI"); p != "" {
		return p
	}
	p, err := exec.LookPath("redis-cli")
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" || os.Getenv("VENTANILLA_REQUIRE_REDIS") == "1" {
		t.Fatal("redistest: redis-cli not found on PATH, and Redis tests are required here (CI or VENTANILLA_REQUIRE_REDIS=1); install redis-tools or set VENTANILLA_REDIS_CLI")
	}
	t.Skip("SKIPPING Redis Cluster tests: redis-cli not found; run `make test` which installs it")
	return ""
}

// sharedDir makes the directory of a shared set-up, named after this
// process, and removes those of test processes that are gone (their
// servers went with them).
func sharedDir(kind string) (string, error) {
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), "redistest-*-pid*-*"))
	for _, d := range old {
		_, rest, _ := strings.Cut(filepath.Base(d), "-pid")
		pid, _, _ := strings.Cut(rest, "-")
		if n, err := strconv.Atoi(pid); err == nil && !alive(n) {
			_ = os.RemoveAll(d)
		}
	}
	return os.MkdirTemp("", "redistest-"+kind+"-pid"+strconv.Itoa(os.Getpid())+"-")
}

// StartOwnSentinel is StartSentinel with a set-up of the test's own,
// gone after it, which the test may fail over (Failover).
func StartOwnSentinel(t testing.TB) (*redis.Client, *Sentinel) {
	t.Helper()
	bin := serverPath(t)
	set, procs, err := formSentinel(bin, t.TempDir())
	if err != nil {
		t.Fatalf("redistest: cannot start a Sentinel set-up: %v", err)
	}
	t.Cleanup(func() {
		for _, p := range procs {
			_ = p.Kill() // Pdeathsig's waiter reaps it
		}
	})
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: set.Master, SentinelAddrs: set.Sentinels})
	t.Cleanup(func() { _ = c.Close() })
	return c, set
}

// Failover makes the sentinel promote the replica, as it would if the
// master went down, and returns once it names the new master.
func Failover(t testing.TB, set *Sentinel) (master string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterStartTimeout)
	defer cancel()
	sc := redis.NewSentinelClient(&redis.Options{Addr: set.Sentinels[0], MaxRetries: -1})
	defer func() { _ = sc.Close() }()
	before, err := sc.GetMasterAddrByName(ctx, set.Master).Result()
	if err != nil {
		t.Fatalf("redistest: asking the sentinel for the master: %v", err)
	}
	if err := sc.Failover(ctx, set.Master).Err(); err != nil {
		t.Fatalf("redistest: SENTINEL FAILOVER: %v", err)
	}
	for {
		got, err := sc.GetMasterAddrByName(ctx, set.Master).Result()
		if err == nil && len(got) == 2 && got[0]+":"+got[1] != before[0]+":"+before[1] {
			return got[0] + ":" + got[1]
		}
		select {
		case <-ctx.Done():
			t.Fatalf("redistest: the sentinel never named a new master: %v", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
