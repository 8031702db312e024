package sessions

import (
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
)

// countingClient is a client of the test server that counts its commands.
// Scripts are loaded first, so that EVALSHA never falls back to EVAL and a
// count is the steady state's.
func countingClient(t *testing.T) (*redis.Client, *redistest.Commands) {
	t.Helper()
	addr := redistest.Start(t).Options().Addr
	client := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { client.Close() })
	for _, s := range []*redis.Script{putScript, swapScript, setScript} {
		if err := s.Load(t.Context(), client).Err(); err != nil {
			t.Fatal(err)
		}
	}
	c := new(redistest.Commands)
	client.AddHook(c)
	return client, c
}

func TestNearOneRoundTripPerHop(t *testing.T) {
	client, count := countingClient(t)
	n := NewNear(NewRedis(client, RedisOptions{Prefix: t.Name() + ":"}), NearOptions{})
	ctx := t.Context()

	// A conversation served by this instance: the first read goes to
	// Redis, then every hop is a local read and one compare-and-set.
	rec, err := n.Get(ctx, "ussd:+593991234567")
	if !errors.Is(err, ErrNotFound) || rec.Local {
		t.Fatalf("first Get: %+v, %v; want ErrNotFound from Redis", rec, err)
	}
	rev := uint64(0)
	for hop := range 5 {
		before := count.N()
		if hop > 0 {
			rec, err := n.Get(ctx, "ussd:+593991234567")
			if err != nil || !rec.Local || rec.Rev != rev || string(rec.Data) != fmt.Sprint("hop ", hop-1) {
				t.Fatalf("hop %d: Get %+v, %v; want local rev %d", hop, rec, err, rev)
			}
		}
		if rev, err = n.Put(ctx, "ussd:+593991234567", []byte(fmt.Sprint("hop ", hop)), rev, 0); err != nil {
			t.Fatal(err)
		}
		if got := count.N() - before; got != 1 {
			t.Fatalf("hop %d took %d Redis round trips, want 1", hop, got)
		}
	}
	// The conversation ends: a delete, after which the number's next dial
	// reads nothing either.
	if err := n.Delete(ctx, "ussd:+593991234567"); err != nil {
		t.Fatal(err)
	}
	before := count.N()
	if rec, err := n.Get(ctx, "ussd:+593991234567"); !errors.Is(err, ErrNotFound) || !rec.Local {
		t.Fatalf("Get after Delete: %+v, %v; want a local ErrNotFound", rec, err)
	}
	if got := count.N() - before; got != 0 {
		t.Fatalf("a Get after Delete took %d round trips, want 0", got)
	}
}

func TestNearTwoInstances(t *testing.T) {
	client := redistest.Start(t)
	prefix := t.Name() + ":"
	a := NewNear(NewRedis(client, RedisOptions{Prefix: prefix}), NearOptions{})
	b := NewNear(NewRedis(client, RedisOptions{Prefix: prefix}), NearOptions{})
	ctx := t.Context()
	const key = "ussd:+593991234567"

	mustPut(t, a, key, "on a", 0)
	// The next hop reaches b, which has no copy: it reads Redis.
	rec, err := b.Get(ctx, key)
	if err != nil || rec.Local || string(rec.Data) != "on a" {
		t.Fatalf("b.Get: %+v, %v", rec, err)
	}
	mustPut(t, b, key, "on b", rec.Rev)

	// Back on a: its copy is stale, and says so only by being Local.
	rec, err = a.Get(ctx, key)
	if err != nil || !rec.Local || rec.Rev != 1 {
		t.Fatalf("a.Get: %+v, %v; want its stale local copy at rev 1", rec, err)
	}
	if err := a.Verify(ctx, key, rec.Rev); !errors.Is(err, ErrConflict) {
		t.Fatalf("Verify of a stale copy: %v, want ErrConflict", err)
	}
	// Verify forgot the copy: a reads Redis again and sees b's write
	// (a read is not kept: only writes are).
	rec, err = a.Get(ctx, key)
	if err != nil || rec.Local || string(rec.Data) != "on b" || rec.Rev != 2 {
		t.Fatalf("a.Get after Verify: %+v, %v", rec, err)
	}
	if err := a.Verify(ctx, key, rec.Rev); err != nil {
		t.Fatalf("Verify of a fresh copy: %v", err)
	}

	// b writes again; a's write on its copy conflicts, and the conflict
	// brings b's record along, so a's re-run reads it locally.
	mustPut(t, b, key, "on b again", 2)
	if _, err := a.Put(ctx, key, []byte("lost"), 2, 0); !errors.Is(err, ErrConflict) {
		t.Fatalf("a.Put on a stale copy: %v, want ErrConflict", err)
	}
	rec, err = a.Get(ctx, key)
	if err != nil || !rec.Local || string(rec.Data) != "on b again" || rec.Rev != 3 {
		t.Fatalf("a.Get after the conflict: %+v, %v; want b's record, local", rec, err)
	}
	mustPut(t, a, key, "on a again", 3)
	wantRecord(t, NewRedis(client, RedisOptions{Prefix: prefix}), key, "on a again", 4)

	// a ends the conversation; b creates a new one under the same key
	// before a hears of it: a's "nothing there" is stale, and its create
	// conflicts with b's record.
	if err := a.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	// b's copy (rev 3) is stale too: its write conflicts with nothing.
	if _, err := b.Put(ctx, key, []byte("lost"), 3, 0); !errors.Is(err, ErrConflict) {
		t.Fatalf("b.Put on a deleted record: %v, want ErrConflict", err)
	}
	if rec, err := b.Get(ctx, key); !errors.Is(err, ErrNotFound) || !rec.Local {
		t.Fatalf("b.Get after the conflict: %+v, %v; want a local ErrNotFound", rec, err)
	}
	mustPut(t, b, key, "new on b", 0)
	if _, err := a.Put(ctx, key, []byte("new on a"), 0, 0); !errors.Is(err, ErrConflict) {
		t.Fatalf("a.Put(rev 0) over b's record: %v, want ErrConflict", err)
	}
	wantRecord(t, a, key, "new on b", 1)
}

func TestNearStaysBounded(t *testing.T) {
	client := redistest.Start(t)
	n := NewNear(NewRedis(client, RedisOptions{Prefix: t.Name() + ":"}), NearOptions{Records: 128})
	for i := range 2000 {
		mustPut(t, n, fmt.Sprint("k", i), "v", 0)
	}
	if got := n.Len(); got > 128 {
		t.Fatalf("Near keeps %d records, want at most 128", got)
	}
	// A forgotten record is still in Redis.
	wantRecord(t, n, "k0", "v", 1)
}

func TestNearForgetsOnFailure(t *testing.T) {
	addr, stop := redistest.StartServer(t)
	client := redistest.Client(t, addr)
	n := NewNear(NewRedis(client, RedisOptions{}), NearOptions{})
	mustPut(t, n, "k", "v", 0)
	stop()
	if _, err := n.Put(t.Context(), "k", []byte("w"), 1, 0); err == nil || errors.Is(err, ErrConflict) {
		t.Fatalf("Put with Redis down: %v, want a connection error", err)
	}
	if n.Len() != 0 {
		t.Fatal("the copy of a record whose write failed is still kept")
	}
	var op *net.OpError
	if err := n.Verify(t.Context(), "k", 1); !errors.As(err, &op) && err == nil {
		t.Fatalf("Verify with Redis down: %v, want an error", err)
	}
}

// A record read and written with one it watches (a citizen's
// conversation and the question kept for them): from this instance's
// copy, the read costs nothing and the write is one round trip; a change
// of the watched record on another instance makes the write, and
// VerifyWatched, conflict — and forget the copy, so that the next read
// is Redis's, both records in one MGET.
func TestNearWatched(t *testing.T) {
	client, count := countingClient(t)
	if err := swapWatchedScript.Load(t.Context(), client).Err(); err != nil {
		t.Fatal(err)
	}
	prefix := t.Name() + ":"
	n := NewNear(NewRedis(client, RedisOptions{Prefix: prefix}), NearOptions{})
	other := NewRedis(client, RedisOptions{Prefix: prefix})
	ctx := t.Context()
	const key, watch = "sms:{+593991234567}", "question:{+593991234567}"

	before := count.N()
	rec, watched, err := n.GetWatched(ctx, key, watch)
	if err != nil || rec.Rev != 0 || rec.Local || watched.Rev != 0 || watched.Local {
		t.Fatalf("first GetWatched: %+v %+v %v; want nothing, from Redis", rec, watched, err)
	}
	if got := count.N() - before; got != 1 {
		t.Fatalf("GetWatched from Redis took %d round trips, want 1", got)
	}
	rev := uint64(0)
	for hop := range 3 {
		before := count.N()
		if hop > 0 {
			rec, watched, err := n.GetWatched(ctx, key, watch)
			if err != nil || !rec.Local || rec.Rev != rev || !watched.Local || watched.Rev != 0 {
				t.Fatalf("hop %d: %+v %+v %v; want both local", hop, rec, watched, err)
			}
		}
		if rev, err = n.PutWatched(ctx, key, []byte(fmt.Sprint("hop ", hop)), rev, 0, watch, Record{}); err != nil {
			t.Fatal(err)
		}
		if got := count.N() - before; got != 1 {
			t.Fatalf("hop %d took %d Redis round trips, want 1", hop, got)
		}
	}
	// Another instance records a question: the copy says none.
	if err := other.Set(ctx, watch, []byte("asked"), 0); err != nil {
		t.Fatal(err)
	}
	if err := n.VerifyWatched(ctx, key, rev, watch, 0); !errors.Is(err, ErrConflict) {
		t.Fatalf("VerifyWatched with the watched record changed: %v, want ErrConflict", err)
	}
	rec, watched, err = n.GetWatched(ctx, key, watch)
	if err != nil || rec.Local || rec.Rev != rev || string(watched.Data) != "asked" || watched.Rev != 1 {
		t.Fatalf("GetWatched after the conflict: %+v %+v %v; want both from Redis", rec, watched, err)
	}
	if err := n.VerifyWatched(ctx, key, rec.Rev, watch, watched.Rev); err != nil {
		t.Fatalf("VerifyWatched of what Redis holds: %v", err)
	}
	rev, err = n.PutWatched(ctx, key, []byte("after the question"), rev, 0, watch, watched)
	if err != nil {
		t.Fatal(err)
	}
	// The question changes again (answered elsewhere): the write on the
	// copy conflicts, and writes nothing.
	if err := other.Set(ctx, watch, []byte("answered"), 0); err != nil {
		t.Fatal(err)
	}
	if _, w, _ := n.GetWatched(ctx, key, watch); !w.Local || string(w.Data) != "asked" {
		t.Fatalf("the copy's watched record: %+v", w)
	}
	if _, err := n.PutWatched(ctx, key, []byte("lost"), rev, 0, watch, Record{Data: []byte("asked"), Rev: 1}); !errors.Is(err, ErrConflict) {
		t.Fatalf("PutWatched with the watched record changed: %v, want ErrConflict", err)
	}
	wantRecord(t, other, key, "after the question", rev)
	if rec, _, _ := n.GetWatched(ctx, key, watch); rec.Local {
		t.Fatal("the copy is kept after a conflict")
	}
	// A plain Put keeps no watched record: GetWatched reads Redis.
	if rev, err = n.Put(ctx, key, []byte("plain"), rev, 0); err != nil {
		t.Fatal(err)
	}
	if rec, w, _ := n.GetWatched(ctx, key, watch); rec.Local || string(w.Data) != "answered" {
		t.Fatalf("GetWatched after a plain Put: %+v %+v", rec, w)
	}
}
