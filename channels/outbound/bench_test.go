package outbound_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
)

type nopSender struct{}

func (nopSender) Name() string                                      { return "twilio" }
func (nopSender) Send(ctx context.Context, m carrier.Message) error { return nil }

// BenchmarkMemoryEnqueueAndSend measures Enqueue while the workers send
// what it queues, through a sender that costs nothing.
func BenchmarkMemoryEnqueueAndSend(b *testing.B) {
	q, err := outbound.NewMemory(outbound.Options{Senders: map[string]carrier.Sender{"twilio": nopSender{}}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go q.Run(ctx)
	m := msg("")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.ID = strconv.Itoa(i)
		i++
		if _, err := q.Enqueue(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	if err := q.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkScrub(b *testing.B) {
	m := msg("x")
	e := "twilio: 400: The 'To' number +593991234567 is not a valid phone number (code 21211)"
	b.ReportAllocs()
	for b.Loop() {
		_ = outbound.Scrub(e, m)
	}
}
