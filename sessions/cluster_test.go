package sessions

import (
	"errors"
	"testing"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// slot agrees with the cluster on where keys live, hash tags included.
func TestSlotAgreesWithCluster(t *testing.T) {
	client := redistest.StartCluster(t)
	for _, k := range []string{"", "a", "ventanilla:profile:{c9f0}", "{}x", "x{}y{z}", "{a}{b}", "ventanilla:ussd:+593991234567", "ñandú", "{user1000}.following"} {
		want, err := client.ClusterKeySlot(t.Context(), k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got := slot(k); int64(got) != want {
			t.Errorf("slot(%q) = %d, cluster says %d", k, got, want)
		}
	}
}

// When Sentinel fails the master over, the store follows it: a record
// written (and replicated) before is read at its revision after, and
// the conversation's next write goes on from it.
func TestRedisSentinelFailover(t *testing.T) {
	client, set := redistest.StartOwnSentinel(t)
	s := NewRedis(client, RedisOptions{})
	ctx := t.Context()
	mustPut(t, s, "ussd:{+593991234567}", "before", 0)
	if err := client.Do(ctx, "WAIT", 1, 5000).Err(); err != nil {
		t.Fatal(err)
	}
	master := redistest.Failover(t, set)
	// The client learns of the switch from the sentinel; commands sent
	// meanwhile may fail (a closed connection, a master turned replica).
	testutil.WaitFor(t, "a write to the new master "+master, func() bool {
		rev, err := s.Put(ctx, "ussd:{+593991234567}", []byte("after"), 1, 0)
		if errors.Is(err, ErrConflict) {
			t.Fatalf("write after the failover to %s: rev %d, %v", master, rev, err)
		}
		return err == nil && rev == 2
	})
	wantRecord(t, s, "ussd:{+593991234567}", "after", 2)
}
