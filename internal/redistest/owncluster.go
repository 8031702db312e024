package redistest

import (
	"context"
	"fmt"
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

// OwnCluster is a real Redis Cluster of three masters, each with a
// replica, that belongs to one test: unlike the shared one (StartCluster),
// the test may kill its nodes (KillMaster, Restart). The nodes keep no
// data on disk, as the sessions' Redis is run (docs/operations.md); a
// master's data survives its loss on its replica, which takes over.
type OwnCluster struct {
	bin   string
	mu    sync.Mutex
	nodes []*ownNode
}

type ownNode struct {
	addr, dir string
	cmd       *exec.Cmd
	exited    chan struct{}
}

// StartOwnCluster forms an OwnCluster in the test's temporary directory;
// its servers are killed when the test ends.
func StartOwnCluster(t testing.TB) *OwnCluster {
	t.Helper()
	bin := serverPath(t)
	cli := cliPath(t)
	c := &OwnCluster{bin: bin}
	t.Cleanup(c.killAll)
	root := t.TempDir()
	for i := range 6 {
		n := &ownNode{addr: freeAddr(t), dir: filepath.Join(root, strconv.Itoa(i))}
		if err := os.MkdirAll(n.dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := c.start(n); err != nil {
			t.Fatalf("redistest: %v", err)
		}
		c.nodes = append(c.nodes, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterStartTimeout)
	defer cancel()
	// redis-cli makes masters of the first three addresses it is given
	// and replicas of the others.
	args := append([]string{"--cluster", "create"}, c.Nodes()...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.waitSettled(ctx); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return c
}

// Nodes returns the addresses of every node, masters and replicas, as a
// client of the cluster takes them (--redis-addrs).
func (c *OwnCluster) Nodes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var addrs []string
	for _, n := range c.nodes {
		addrs = append(addrs, n.addr)
	}
	return addrs
}

func (c *OwnCluster) start(n *ownNode) error {
	host, port, _ := strings.Cut(n.addr, ":")
	logFile := filepath.Join(n.dir, "redis.log")
	cmd := exec.Command(c.bin, "--port", port, "--bind", host, "--save", "", "--appendonly", "no",
		"--dir", n.dir, "--logfile", logFile,
		"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000")
	cmd.Dir = n.dir
	if err := startKept(cmd); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	if err := waitReady(n.addr, cmd.Process.Pid, exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		b, _ := os.ReadFile(logFile)
		return fmt.Errorf("redis-server on %s: %w\n%s", n.addr, err, strings.TrimSpace(string(b)))
	}
	n.cmd, n.exited = cmd, exited
	return nil
}

func (c *OwnCluster) killAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.nodes {
		if n.cmd != nil {
			_ = n.cmd.Process.Kill()
			<-n.exited
			n.cmd = nil
		}
	}
}

// RestartMaster kills a master with SIGKILL, waits until its replica has
// taken over its slots, then starts the killed server again on its
// address and directory, where it joins as the new master's replica; it
// returns the killed node's address once every node agrees the cluster is
// whole again. A client of the cluster sees the master's slots fail
// during the node timeout (2 s) and the election.
func (c *OwnCluster) RestartMaster(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterStartTimeout)
	defer cancel()
	victim, err := c.aMaster(ctx)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	_ = victim.cmd.Process.Kill()
	<-victim.exited
	victim.cmd = nil
	// The others must see a whole cluster without the victim: its replica
	// promoted, every slot served.
	if err := c.waitState(ctx, victim, 5); err != nil {
		t.Fatalf("redistest: no failover after killing %s: %v", victim.addr, err)
	}
	if err := c.start(victim); err != nil {
		t.Fatalf("redistest: restarting %s: %v", victim.addr, err)
	}
	if err := c.waitSettled(ctx); err != nil {
		t.Fatalf("redistest: %s back: %v", victim.addr, err)
	}
	return victim.addr
}

// aMaster returns the first node that calls itself a master.
func (c *OwnCluster) aMaster(ctx context.Context) (*ownNode, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.nodes {
		if n.cmd == nil {
			continue
		}
		rc := redis.NewClient(&redis.Options{Addr: n.addr, MaxRetries: -1})
		role, err := rc.Do(ctx, "ROLE").Slice()
		_ = rc.Close()
		if err == nil && len(role) > 0 && role[0] == "master" {
			return n, nil
		}
	}
	return nil, fmt.Errorf("no master answers")
}

// waitSettled waits until every node sees the cluster whole, with all six
// nodes known, and holds a replication link (a replica's is up).
func (c *OwnCluster) waitSettled(ctx context.Context) error {
	if err := c.waitState(ctx, nil, 6); err != nil {
		return err
	}
	for _, n := range c.nodes {
		rc := redis.NewClient(&redis.Options{Addr: n.addr, MaxRetries: -1})
		err := waitFor(ctx, func() bool {
			info, err := rc.Info(ctx, "replication").Result()
			return err == nil && (strings.Contains(info, "role:master") || strings.Contains(info, "master_link_status:up"))
		})
		_ = rc.Close()
		if err != nil {
			return fmt.Errorf("node %s never linked to its master: %w", n.addr, err)
		}
	}
	return nil
}

// waitState waits until every node but skip reports cluster_state:ok and
// lists at least live nodes in CLUSTER NODES that are connected and not
// suspected of failing, and skip, when given, as failed. Restarting a
// master before that would bring it back empty as the master of its
// slots, and its replica would copy the emptiness.
func (c *OwnCluster) waitState(ctx context.Context, skip *ownNode, live int) error {
	for _, n := range c.nodes {
		if n == skip {
			continue
		}
		rc := redis.NewClient(&redis.Options{Addr: n.addr, MaxRetries: -1})
		var last string
		err := waitFor(ctx, func() bool {
			info, err := rc.ClusterInfo(ctx).Result()
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				last = info
				return false
			}
			nodes, err := rc.ClusterNodes(ctx).Result()
			if err != nil {
				return false
			}
			ok, skipFailed := 0, false
			for _, line := range strings.Split(strings.TrimSpace(nodes), "\n") {
				f := strings.Fields(line)
				if len(f) > 7 && !strings.Contains(f[2], "fail") && f[7] == "connected" {
					ok++
				}
				// The killed master counts as gone once the cluster has
				// flagged it failed (not merely suspected, "fail?"), which is
				// when its replica is elected; its address is still listed.
				if skip != nil && len(f) > 2 && strings.HasPrefix(f[1], skip.addr+"@") && strings.Contains(f[2], "fail") && !strings.Contains(f[2], "fail?") {
					skipFailed = true
				}
			}
			last = nodes
			return ok >= live && (skip == nil || skipFailed)
		})
		_ = rc.Close()
		if err != nil {
			return fmt.Errorf("node %s: %w (last: %q)", n.addr, err, last)
		}
	}
	return nil
}

func waitFor(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}
