package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/notify/callbacks"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// pushing keeps each answer, and what it came to, as a callback event in
// Redis, as serve does for an institution with a callback: on the hop,
// or (offHop) in a goroutine the hop does not wait for, as it once did.
type pushing struct {
	cb     *callbacks.Callbacks
	offHop bool
	wg     sync.WaitGroup
}

func (p *pushing) push(ctx context.Context, typ string, q gateway.Question, data any) {
	body, _ := json.Marshal(data)
	ev := callbacks.Event{ID: fmt.Sprintf("evt_%s_%s_%d", typ, q.ID, q.Asked), Type: typ, Data: body}
	do := func(ctx context.Context) {
		if err := p.cb.Push(ctx, "registro_civil", ev); err != nil {
			panic(err)
		}
	}
	if p.offHop {
		p.wg.Go(func() { do(context.Background()) })
		return
	}
	do(ctx)
}

func (p *pushing) Answered(ctx context.Context, q gateway.Question, a gateway.Answer) {
	p.push(ctx, callbacks.TypeReply, q, callbacks.Reply{Kind: q.Kind, QuestionID: q.ID, Text: a.Text, Channel: a.Channel, Received: a.At})
}

func (p *pushing) Settled(ctx context.Context, q gateway.Question, outcome string) {
	p.push(ctx, callbacks.TypeReplyOutcome, q, callbacks.ReplyOutcome{Kind: q.Kind, QuestionID: q.ID, Outcome: outcome})
}

// BenchmarkAnswerHop is the hop of a citizen's SMS that answers a
// reminder (1: confirmed), on Redis, with the two callback events it
// makes (the reply, what it came to) kept on the hop, as serve does, or
// in goroutines the hop does not wait for, as it did before: what
// storing the events durably before the citizen is answered costs.
func BenchmarkAnswerHop(b *testing.B) {
	for _, offHop := range []bool{true, false} {
		name := "push=on-hop"
		if offHop {
			name = "push=off-hop"
		}
		b.Run(name, func(b *testing.B) {
			client := redistest.Start(b)
			r := replyGateway(b, sessions.NewRedis(client, sessions.RedisOptions{}), &backend{})
			cb, err := callbacks.New(callbacks.Options{Store: callbacks.NewRedis(client), Endpoint: func(string) (callbacks.Endpoint, bool) {
				return callbacks.Endpoint{URL: "http://127.0.0.1:1"}, true
			}})
			if err != nil {
				b.Fatal(err)
			}
			p := &pushing{cb: cb, offHop: offHop}
			r.g.Answers = []gateway.Answers{p}
			ctx := context.Background()
			b.ReportAllocs()
			for i := range b.N {
				phone := "+5939" + fmt.Sprint(10_000_000+i)
				b.StopTimer()
				r.ask(b, phone, fmt.Sprint("q", i), "es")
				b.StartTimer()
				if _, err := r.g.Hop(ctx, textFrom(phone, "1", i+1)); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			p.wg.Wait()
			if _, err := cb.Status(ctx, fmt.Sprintf("evt_%s_q%d_%d", callbacks.TypeReplyOutcome, b.N-1, r.clock().UnixMilli())); err != nil {
				b.Fatalf("the last answer's outcome not kept: %v", err)
			}
		})
	}
}
