package redistest_test

import (
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"ventanilla/sessions/redistest"
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
	cl.RestartMaster(t)
	missing := 0
	for i := range n {
		if err := c.Get(ctx, fmt.Sprint("k", i)).Err(); err != nil {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d keys missing after a master's restart", missing, n)
	}
}
