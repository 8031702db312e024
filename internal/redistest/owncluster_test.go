package redistest_test

import (
	"cmp"
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
)

// A master killed and started again loses nothing: its replica took over
// with its data, and it comes back as that replica's replica.
func TestOwnClusterRestartMasterKeepsData(t *testing.T) {
	if testing.Short() {
		t.Skip("forms a cluster of six servers")
	}
	cl := redistest.StartOwnCluster(t)
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Nodes()})
	defer c.Close()
	ctx := t.Context()
	const n = 300
	for i := range n {
		if err := c.Set(ctx, fmt.Sprint("k", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// Replication is asynchronous: the last writes before a crash may be
	// lost by any Redis; these are not the test's business.
	if err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		return m.Do(ctx, "WAIT", 1, 5000).Err()
	}); err != nil {
		t.Fatal(err)
	}
	cl.RestartMaster(t)
	missing, first := 0, error(nil)
	for i := range n {
		if err := c.Get(ctx, fmt.Sprint("k", i)).Err(); err != nil {
			missing++
			first = cmp.Or(first, err)
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d keys missing after a master's restart (first: %v)", missing, n, first)
	}
}
