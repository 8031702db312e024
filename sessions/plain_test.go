package sessions_test

import (
	"context"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/sessions"
)

func TestPlain(t *testing.T) {
	ctx := context.Background()
	p := sessions.Plain{Store: sessions.NewMemory(sessions.MemoryOptions{})}
	if _, _, found, err := p.Get(ctx, "k"); found || err != nil {
		t.Fatalf("Get of a missing key: found %v, err %v; want neither", found, err)
	}
	rev, conflict, err := p.Put(ctx, "k", []byte("a"), 0, time.Minute)
	if err != nil || conflict || rev == 0 {
		t.Fatalf("first Put: rev %d, conflict %v, err %v", rev, conflict, err)
	}
	if _, conflict, err := p.Put(ctx, "k", []byte("b"), 0, time.Minute); !conflict || err != nil {
		t.Fatalf("Put on a stale revision: conflict %v, err %v; want a conflict and no error", conflict, err)
	}
	data, got, found, err := p.Get(ctx, "k")
	if err != nil || !found || got != rev || string(data) != "a" {
		t.Fatalf("Get: %q rev %d found %v err %v; want %q rev %d", data, got, found, err, "a", rev)
	}
}
