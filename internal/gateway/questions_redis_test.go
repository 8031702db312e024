package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// nearReplies is replyGateway as serve builds it on Redis: conversations
// in this instance's copy (Near) in front of the Redis store, questions
// in the store.
func nearReplies(t testing.TB, client redis.UniversalClient, back *backend) *replyRig {
	t.Helper()
	store := sessions.NewRedis(client, sessions.RedisOptions{})
	r := replyGateway(t, store, back)
	r.g.Conversations = sessions.NewNear(store, sessions.NearOptions{})
	return r
}

// Every text hop of a conversation this instance served makes one Redis
// round trip, its write, though every text may answer a question: the
// question kept for the number is read with the conversation and kept
// with this instance's copy of it, and the write goes through only while
// the question is still the one read. A question asked since, on another
// instance, makes that write fail: the hop runs again on what Redis
// holds, and the text answers the question.
func TestOneRedisRoundTripPerTextHop(t *testing.T) {
	addr := redistest.Start(t).Options().Addr
	client := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { client.Close() })
	back := &backend{}
	r := nearReplies(t, client, back)
	other := nearReplies(t, client, back)
	count := new(redistest.Commands)
	client.AddHook(count)
	const phone = "+593991000010"
	// The first messages of the run also load the write script, and
	// choose the language (a write of its own).
	hop(t, r.g, textFrom(phone, "hola", 1))
	hop(t, r.g, textFrom(phone, "1", 2))
	for i, text := range []string{"1", "0", "1", "0", "2", "0"} {
		before := count.N()
		got := hop(t, r.g, textFrom(phone, text, 3+i))
		if n := count.N() - before; n != 1 {
			t.Errorf("text %q (%q) made %d Redis round trips, want 1", text, firstLine(got.Text), n)
		}
	}
	other.advance(time.Minute)
	r.advance(2 * time.Minute)
	other.ask(t, phone, "q1", "es")
	if got := hop(t, r.g, textFrom(phone, "1", 20)); got.Text != "Turno T-q1 confirmado." {
		t.Errorf("a text after a question asked on another instance: %+v", got)
	}
	if did := back.did(); len(did) != 1 || did[0] != "turnos.confirmar T-q1" {
		t.Errorf("back-end did %q", did)
	}
}

// A question asked before the last screen of the conversation in
// progress waits while the conversation goes on; when the conversation
// has ended, the next text answers it, on the instance that holds a copy
// of both, and on the other.
func TestAQuestionWaitsForTheConversationToEnd(t *testing.T) {
	for _, where := range []string{"same instance", "other instance"} {
		t.Run(where, func(t *testing.T) {
			client := redistest.Start(t)
			back := &backend{}
			r := nearReplies(t, client, back)
			next := r
			if where == "other instance" {
				next = nearReplies(t, client, back)
			}
			const phone = "+593991000011"
			r.ask(t, phone, "q2", "es")
			r.advance(time.Minute)
			if got := hop(t, r.g, textFrom(phone, "TURNO", 1)); !strings.HasPrefix(got.Text, "Turnos") {
				t.Fatalf("the keyword: %+v", got)
			}
			r.advance(time.Minute)
			if got := hop(t, r.g, textFrom(phone, "2", 2)); strings.Contains(got.Text, "T-q2") {
				t.Fatalf("an answer to the conversation's screen went to the question: %+v", got)
			}
			if got := hop(t, r.g, textFrom(phone, "SALIR", 3)); !got.End {
				t.Fatalf("SALIR: %+v", got)
			}
			next.advance(3 * time.Minute)
			if got := hop(t, next.g, textFrom(phone, "2", 4)); got.Text != "Turno T-q2 anulado." {
				t.Errorf("the text after the conversation: %+v", got)
			}
			if did := back.did(); len(did) != 1 || did[0] != "turnos.anular T-q2" {
				t.Errorf("back-end did %q", did)
			}
		})
	}
}

// Two instances given the same answer at once (a carrier retrying on
// another connection), each with its own copy of the conversation, one
// of them stale, cancel the turno once.
func TestAnAnswerDeliveredTwiceToNearInstancesCancelsOnce(t *testing.T) {
	client := redistest.Start(t)
	back := &backend{}
	const phone = "+593991000012"
	one, two := nearReplies(t, client, back), nearReplies(t, client, back)
	for round := range 20 {
		hop(t, one.g, textFrom(phone, "hola", 3000+2*round))
		hop(t, two.g, textFrom(phone, "1", 3001+2*round))
		id := fmt.Sprint("n", round)
		one.advance(time.Minute)
		two.advance(time.Minute)
		one.ask(t, phone, id, "es")
		one.advance(time.Minute)
		two.advance(time.Minute)
		var wg sync.WaitGroup
		for _, g := range []*gateway.Gateway{one.g, two.g} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := g.Hop(context.Background(), textFrom(phone, "2", 5000+round)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	if got := back.did(); len(got) != 20 {
		t.Errorf("20 answers, each delivered twice at once, did %d things: %q", len(got), got)
	}
}

// A text answers a question on a Cluster and behind Sentinel as on one
// server: the question is read with the conversation and the write
// watches it, keys of one slot.
func TestAnswerOnSharedRedis(t *testing.T) {
	sharedRedis(t, func(t *testing.T, client redis.UniversalClient) {
		back := &backend{}
		r := nearReplies(t, client, back)
		const phone = "+593991000013"
		hop(t, r.g, textFrom(phone, "hola", 1))
		hop(t, r.g, textFrom(phone, "1", 2))
		r.advance(time.Minute)
		r.ask(t, phone, "k1", "es")
		r.advance(time.Minute)
		if got := hop(t, r.g, textFrom(phone, "2", 3)); got.Text != "Turno T-k1 anulado." {
			t.Errorf("the answer: %+v", got)
		}
		if got := hop(t, r.g, textFrom(phone, "2", 4)); strings.Contains(got.Text, "anulado") {
			t.Errorf("a second answer: %+v", got)
		}
		if did := back.did(); len(did) != 1 {
			t.Errorf("back-end did %q", did)
		}
	})
}
