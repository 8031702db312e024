package sessions

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
)

func retag(k string) (string, bool) {
	who, ok := strings.CutPrefix(k, "profile:+")
	if !ok {
		return "", false
	}
	return "profile:{+" + who + "}", true
}

// Rekey moves values with their TTL, keeps a newer record already under
// the new key, and leaves alone keys that rename does not name.
func TestRekey(t *testing.T) {
	test := func(t *testing.T, client redis.UniversalClient) {
		s := NewRedis(client, RedisOptions{Tag: func(s string) string { return "h" + s }})
		ctx := t.Context()
		for i := range 50 {
			old := NewRedis(client, RedisOptions{})
			if err := old.Set(ctx, "profile:+5939912345"+strconv.Itoa(10+i), []byte("en"), 100*time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		mustSet(t, s, "profile:{+593991234510}", "qu") // chosen since the upgrade: newer
		mustSet(t, s, "notify:x", "other")
		moved, err := s.Rekey(ctx, retag)
		if err != nil || moved != 50 {
			t.Fatalf("Rekey: %d moved, %v; want 50", moved, err)
		}
		wantRecord(t, s, "profile:{+593991234510}", "qu", 1)
		wantRecord(t, s, "profile:{+593991234511}", "en", 1)
		if ttl := client.PTTL(ctx, "ventanilla:profile:{h+593991234511}").Val(); ttl < 99*time.Hour || ttl > 100*time.Hour {
			t.Errorf("moved with TTL %v, want the 100 h it had", ttl)
		}
		if n, _ := client.Exists(ctx, "ventanilla:profile:+593991234511").Result(); n != 0 {
			t.Error("old key left after the move")
		}
		wantRecord(t, s, "notify:x", "other", 1)
		if moved, err := s.Rekey(ctx, retag); err != nil || moved != 0 {
			t.Errorf("Rekey again: %d moved, %v; want nothing left", moved, err)
		}
	}
	t.Run("server", func(t *testing.T) { test(t, redistest.Start(t)) })
	t.Run("cluster", func(t *testing.T) { test(t, redistest.StartCluster(t)) })
}

// BenchmarkRekey moves b.N profiles, as the first start after the upgrade
// does: ns/op is the cost of one record.
func BenchmarkRekey(b *testing.B) { benchmarkRekey(b, "profile:+593") }

// BenchmarkRekeyNothingToMove scans b.N keys that need no move, as every
// later start does: ns/op is the cost of one key.
func BenchmarkRekeyNothingToMove(b *testing.B) { benchmarkRekey(b, "profile:{+593") }

func benchmarkRekey(b *testing.B, prefix string) {
	client := redistest.Start(b)
	s := NewRedis(client, RedisOptions{Tag: func(s string) string { return "h" + s }})
	pipe := client.Pipeline()
	for i := range b.N {
		pipe.Set(b.Context(), "ventanilla:"+prefix+strconv.Itoa(900000000+i), "\x00\x00\x00\x00\x00\x00\x00\x01en", 400*24*time.Hour)
		if pipe.Len() == 1000 {
			if _, err := pipe.Exec(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := pipe.Exec(b.Context()); err != nil {
		b.Fatal(err)
	}
	want := b.N
	if strings.Contains(prefix, "{") {
		want = 0
	}
	b.ResetTimer()
	moved, err := s.Rekey(b.Context(), retag)
	if err != nil || moved != want {
		b.Fatalf("moved %d, want %d: %v", moved, want, err)
	}
}
