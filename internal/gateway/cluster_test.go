package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/keys"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// sharedRedis are the shapes of a shared Redis the gateway runs on beyond
// the single server: a Cluster of three masters and a Sentinel set-up,
// each with a client as serve builds it (commands batched).
func sharedRedis(t *testing.T, test func(t *testing.T, client redis.UniversalClient)) {
	t.Run("cluster", func(t *testing.T) {
		redistest.StartCluster(t) // empties it
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: redistest.ClusterAddrs(t)})
		t.Cleanup(func() { _ = c.Close() })
		sessions.Batch(c)
		test(t, c)
	})
	t.Run("sentinel", func(t *testing.T) {
		_, set := redistest.StartSentinel(t)
		c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: set.Master, SentinelAddrs: set.Sentinels})
		t.Cleanup(func() { _ = c.Close() })
		sessions.Batch(c)
		test(t, c)
	})
}

// A returning citizen is greeted in the language they chose, and a result
// kept for them is shown, on a Cluster as on one server: the profile and
// the result are read together, and must be readable together.
func TestReturningCitizenOnSharedRedis(t *testing.T) {
	sharedRedis(t, func(t *testing.T, client redis.UniversalClient) {
		store := sessions.NewRedis(client, sessions.RedisOptions{})
		g := nearGateway(t, client)
		hop(t, g, at("a", ""))
		if r := hop(t, g, at("a", "2")); !strings.HasPrefix(r.Text, "Citizen services") {
			t.Fatalf("after choosing English: %q", r.Text)
		}
		if err := (gateway.Pending{Store: store}).Notify(t.Context(), "+593991234567", "", "Your appointment T-0001 is booked."); err != nil {
			t.Fatal(err)
		}
		advance(g, time.Hour) // past the resume window: a fresh start
		r := hop(t, g, at("b", ""))
		if !strings.Contains(r.Text, "T-0001") || !strings.Contains(r.Text, "Citizen services") {
			t.Errorf("returning citizen: %q, want the kept result and the English menu", r.Text)
		}
	})
}

// Two instances on one shared Redis: a conversation goes on from one to
// the other, hop by hop.
func TestTwoInstancesShareOneClusterOrSentinel(t *testing.T) {
	sharedRedis(t, func(t *testing.T, client redis.UniversalClient) {
		alternate(t, nearGateway(t, client), nearGateway(t, client))
	})
}

// Everything kept about one citizen lies in one Cluster slot — their
// conversations on every channel, profile, channel preference, kept
// result, PIN, the question waiting for their answer — so that any of
// them can be read or written together.
func TestCitizenKeysShareOneSlot(t *testing.T) {
	client := redistest.StartCluster(t)
	const phone = "+593991234567"
	keys := []string{
		gateway.Key(carrier.Inbound{Channel: "ussd", Carrier: "africastalking", Phone: phone, SessionID: "s"}),
		gateway.Key(carrier.Inbound{Channel: "sms", Carrier: "twilio", Phone: phone}),
		gateway.Key(carrier.Inbound{Channel: "chat", Carrier: "whatsapp", Phone: phone}),
		keys.Profile(phone),
		keys.Preference(phone),
		keys.Pending(phone),
		keys.Question(phone),
	}
	slots := map[int64][]string{}
	for _, k := range keys {
		s, err := client.ClusterKeySlot(t.Context(), "ventanilla:"+k).Result()
		if err != nil {
			t.Fatal(err)
		}
		slots[s] = append(slots[s], k)
	}
	if len(slots) != 1 {
		t.Errorf("one citizen's keys lie in %d slots: %v", len(slots), slots)
	}
}
