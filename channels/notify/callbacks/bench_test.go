package callbacks_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/notify/callbacks"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
)

// Push runs on a carrier's delivery report and on a citizen's reply: what
// it costs is a store write.
func BenchmarkPush(b *testing.B) {
	for name, store := range map[string]func(b *testing.B) callbacks.Store{
		"memory": func(*testing.B) callbacks.Store { return callbacks.NewMemory(nil) },
		"redis":  func(b *testing.B) callbacks.Store { return callbacks.NewRedis(redistest.Start(b)) },
	} {
		b.Run(name, func(b *testing.B) {
			cb, err := callbacks.New(callbacks.Options{
				Store: store(b),
				Endpoint: func(string) (callbacks.Endpoint, bool) {
					return callbacks.Endpoint{URL: "https://transito.example/cb", Secret: secret}, true
				},
			})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if err := cb.Push(ctx, "transito", event(fmt.Sprintf("evt_%d", i))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	body := []byte(`{"id":"evt_5b1c0d9e6f2a4b3c8d7e6f5a4b3c2d1e","type":"notification.status","institution":"transito","created":"2026-03-02T14:05:09.12Z","data":{"notification_id":"ntf_3f0c9a61d2b84e7c9b1f0a2d4c6e8f10","status":"delivered","channel":"sms","attempts":1,"updated":"2026-03-02T14:05:09.12Z"}}`)
	now := time.Now()
	header := callbacks.Sign(secret, now, body)
	b.ReportAllocs()
	for b.Loop() {
		if err := callbacks.Verify(header, body, secret, now, 0); err != nil {
			b.Fatal(err)
		}
	}
}
