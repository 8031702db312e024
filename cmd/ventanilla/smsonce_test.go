package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// codigoOnce asks before it sends a booking code by SMS, and asks again
// after, so that a citizen may have it sent a second time.
const codigoOnce = `spec_version: 1
id: codigo
version: 1
institution: Example
title: {es: Código, en: Code}
locales: [es, en]
start: ask
steps:
  ask:
    kind: menu
    text: {es: "¿Le enviamos el código por SMS?", en: "Send you the code by SMS?"}
    options:
      - label: {es: Sí, en: "Yes"}
        next: send
  send:
    kind: sms
    text: {es: "Ventanilla: su código es T-7Q2.", en: "Ventanilla: your code is T-7Q2."}
    next: ask
`

// countingSender counts the messages the queue hands it.
type countingSender struct {
	mu   sync.Mutex
	sent []carrier.Message
}

func (s *countingSender) Name() string { return "fake-sms" }

func (s *countingSender) Send(_ context.Context, m carrier.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m)
	return nil
}

func (s *countingSender) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

// A hop that queued an SMS and then lost its session write (the instance
// crashed, Redis failed) runs again from the stored session: the citizen
// still gets one SMS, from the memory queue as from the Redis one. A
// second visit of the step is a second SMS.
func TestSMSStepRerunQueuesOnce(t *testing.T) {
	queues := map[string]func(t *testing.T, opts outbound.Options) outbound.Queue{
		"memory": func(t *testing.T, opts outbound.Options) outbound.Queue {
			q, err := outbound.NewMemory(opts)
			if err != nil {
				t.Fatal(err)
			}
			return q
		},
		"redis": func(t *testing.T, opts outbound.Options) outbound.Queue {
			q, err := outbound.NewRedis(redistest.Start(t), opts, outbound.RedisOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return q
		},
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "codigo.yaml"), []byte(codigoOnce), 0o644); err != nil {
		t.Fatal(err)
	}
	getenv := func(string) (string, bool) { return "", false }
	for name, newQueue := range queues {
		t.Run(name, func(t *testing.T) {
			a, err := newApp(&config{Root: "codigo", FlowsDir: dir}, slog.New(slog.NewTextHandler(io.Discard, nil)), getenv, registry)
			if err != nil {
				t.Fatal(err)
			}
			defer a.store.Close()
			sender := &countingSender{}
			q := newQueue(t, outbound.Options{Senders: map[string]carrier.Sender{"fake-sms": sender}})
			e := a.gateway.Engine
			e.SMS = gateway.StepSMS{Send: smsNotifier{queue: q, carrier: "fake-sms"}, SMS: a.gateway.SMS}

			s := &conversation.State{Key: "ussd:ATUid_once", Phone: "+593991000901", Channel: "ussd", Locale: "es"}
			if _, err := e.Apply(t.Context(), s, flows.Input{}); err != nil {
				t.Fatal(err)
			}
			stored, err := s.AppendBinary(nil)
			if err != nil {
				t.Fatal(err)
			}
			// The hop runs, queues the SMS, and its session is lost; it
			// runs again from the stored session.
			var after conversation.State
			for range 2 {
				var again conversation.State
				if err := again.UnmarshalBinary(stored); err != nil {
					t.Fatal(err)
				}
				if _, err := e.Apply(t.Context(), &again, flows.Input{Text: "1"}); err != nil {
					t.Fatal(err)
				}
				after = again
			}
			if n, err := q.Depth(t.Context()); err != nil || n != 1 {
				t.Fatalf("queued %d (err %v) after a hop and its re-run; want 1", n, err)
			}
			// The citizen asks for it again: a second SMS.
			if _, err := e.Apply(t.Context(), &after, flows.Input{Text: "1"}); err != nil {
				t.Fatal(err)
			}
			if n, err := q.Depth(t.Context()); err != nil || n != 2 {
				t.Fatalf("queued %d (err %v) after a second visit of the step; want 2", n, err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			go func() { _ = q.Run(ctx) }()
			testutil.WaitFor(t, "the queue to send both SMS", func() bool {
				n, err := q.Depth(t.Context())
				return err == nil && n == 0
			})
			if n := sender.count(); n != 2 {
				t.Errorf("the carrier got %d SMS; want 2, one per visit of the step", n)
			}
		})
	}
}
