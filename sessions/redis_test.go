package sessions

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
)

func TestRedisValueLayout(t *testing.T) {
	client := redistest.Start(t)
	s := NewRedis(client, RedisOptions{})
	mustPut(t, s, "ussd:abc", "data", 0)
	mustPut(t, s, "ussd:abc", "data2", 1)

	raw, err := client.Get(t.Context(), "ventanilla:ussd:abc").Bytes()
	if err != nil {
		t.Fatalf("raw GET under the default prefix: %v", err)
	}
	want := append([]byte{0, 0, 0, 0, 0, 0, 0, 2}, "data2"...)
	if !bytes.Equal(raw, want) {
		t.Fatalf("stored value %q, want %q", raw, want)
	}
}

func TestRedisTTL(t *testing.T) {
	client := redistest.Start(t)
	s := NewRedis(client, RedisOptions{DefaultTTL: time.Hour})
	ctx := t.Context()
	tests := []struct {
		name  string
		write func(key string) error
		want  time.Duration
	}{
		{"put with ttl", func(k string) error { _, err := s.Put(ctx, k, nil, 0, time.Minute); return err }, time.Minute},
		{"put with default ttl", func(k string) error { _, err := s.Put(ctx, k, nil, 0, 0); return err }, time.Hour},
		{"set with ttl", func(k string) error { return s.Set(ctx, k, nil, time.Minute) }, time.Minute},
		{"set with default ttl", func(k string) error { return s.Set(ctx, k, nil, 0) }, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := t.Name()
			if err := tt.write(key); err != nil {
				t.Fatal(err)
			}
			got, err := client.PTTL(ctx, "ventanilla:"+key).Result()
			if err != nil {
				t.Fatal(err)
			}
			if got <= 0 || got > tt.want {
				t.Fatalf("PTTL %v, want in (0, %v]", got, tt.want)
			}
		})
	}
}

// PX refuses 0, so a ttl under a millisecond must round up, not fail.
func TestRedisSubMillisecondTTL(t *testing.T) {
	s := NewRedis(redistest.Start(t), RedisOptions{})
	if _, err := s.Put(t.Context(), "k", nil, 0, time.Microsecond); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := s.Set(t.Context(), "p", nil, time.Nanosecond); err != nil {
		t.Fatalf("Set: %v", err)
	}
	waitExpired(t, s, "k", time.Millisecond)
}

func TestRedisSetIncrementsRevisionAcrossBytes(t *testing.T) {
	client := redistest.Start(t)
	s := NewRedis(client, RedisOptions{})
	// Revision 0x00000000_000001ff: the increment must carry into the next byte.
	seed := append([]byte{0, 0, 0, 0, 0, 0, 1, 0xff}, "x"...)
	if err := client.Set(t.Context(), "ventanilla:k", seed, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	mustSet(t, s, "k", "y")
	wantRecord(t, s, "k", "y", 0x200)
}

func TestRedisSurvivesScriptFlush(t *testing.T) {
	client := redistest.Start(t)
	s := NewRedis(client, RedisOptions{})
	mustPut(t, s, "k", "v1", 0)
	// A restarted or failed-over server has an empty script cache.
	if err := client.ScriptFlush(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "k", "v2", 1)
	if err := client.ScriptFlush(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	mustSet(t, s, "k", "v3")
	wantRecord(t, s, "k", "v3", 3)
}

func TestRedisForeignValueIsMalformed(t *testing.T) {
	client := redistest.Start(t)
	s := NewRedis(client, RedisOptions{})
	if err := client.Set(t.Context(), "ventanilla:k", "short", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(t.Context(), "k"); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Get: %v, want ErrMalformed", err)
	}
	// Set replaces a value it cannot read the revision of.
	mustSet(t, s, "k", "mine")
	wantRecord(t, s, "k", "mine", 1)
}

func TestRedisCloseLeavesClientOpen(t *testing.T) {
	client := redistest.Start(t)
	if err := NewRedis(client, RedisOptions{}).Close(); err != nil {
		t.Fatal(err)
	}
	if err := client.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("client unusable after store Close: %v", err)
	}
}

func TestRedisDown(t *testing.T) {
	addr, stop := redistest.StartServer(t)
	s := NewRedis(redistest.Client(t, addr), RedisOptions{})
	mustPut(t, s, "k", "v", 0)
	stop()
	if err := s.Ping(t.Context()); err == nil {
		t.Fatal("Ping succeeded with the server stopped")
	}
	if _, err := s.Get(t.Context(), "k"); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("Get with the server stopped: %v, want a connection error", err)
	}

	// A fresh server on the same address: the store reconnects by itself.
	redistest.StartServerAt(t, addr)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping after restart: %v", err)
	}
	mustPut(t, s, "k", "v", 0) // nothing was persisted
}

func BenchmarkRedisGetPut(b *testing.B) {
	data, err := typicalSession().MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	benchmarkGetPut(b, NewRedis(redistest.Start(b), RedisOptions{}), data)
}

func TestRedisGetMulti(t *testing.T) {
	s := NewRedis(redistest.Start(t), RedisOptions{Prefix: t.Name() + ":"})
	mustPut(t, s, "a", "first", 0)
	mustSet(t, s, "c", "third")
	recs, err := s.GetMulti(t.Context(), "a", "b", "c")
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{{Data: []byte("first"), Rev: 1}, {}, {Data: []byte("third"), Rev: 1}}
	for i := range want {
		if !bytes.Equal(recs[i].Data, want[i].Data) || recs[i].Rev != want[i].Rev {
			t.Errorf("record %d: %+v, want %+v", i, recs[i], want[i])
		}
	}
}

// With Tag, the hash tag that names a citizen reaches Redis rewritten;
// keys without one are stored as they are.
func TestRedisTagRewritesTheHashTag(t *testing.T) {
	client := redistest.Start(t)
	s := NewRedis(client, RedisOptions{Tag: func(s string) string { return "h(" + s + ")" }})
	mustSet(t, s, "profile:{+593991234567}", "es")
	mustSet(t, s, "notify:abc", "x")
	keys, err := client.Keys(t.Context(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	if want := []string{"ventanilla:notify:abc", "ventanilla:profile:{h(+593991234567)}"}; !slices.Equal(keys, want) {
		t.Fatalf("keys in Redis %q, want %q", keys, want)
	}
	wantRecord(t, s, "profile:{+593991234567}", "es", 1)
}
