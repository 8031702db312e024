package main

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
)

type namedSender string

func (s namedSender) Name() string                                      { return string(s) }
func (s namedSender) Send(ctx context.Context, m carrier.Message) error { return nil }

func TestSMSFailoverCyclesThroughTheConfiguredCarriers(t *testing.T) {
	senders := func(names ...string) map[string]carrier.Sender {
		out := map[string]carrier.Sender{}
		for _, n := range names {
			out[n] = namedSender(n)
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		senders map[string]carrier.Sender
		want    map[string]string
	}{
		{"one SMS carrier: nothing to fail over to", senders("twilio", "whatsapp"), nil},
		{"two", senders("twilio", "africastalking-sms", "whatsapp"), map[string]string{"twilio": "africastalking-sms", "africastalking-sms": "twilio"}},
		{"three", senders("kannel-sms", "twilio", "africastalking-sms"), map[string]string{"kannel-sms": "twilio", "twilio": "africastalking-sms", "africastalking-sms": "kannel-sms"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := smsFailover(smsOrder(registry), tc.senders); !maps.Equal(got, tc.want) {
				t.Errorf("failover %v, want %v", got, tc.want)
			}
		})
	}
}

// A one-time code is accepted for minutes: the queue must not deliver it
// hours later, after a provider's outage.
func TestOneTimeCodesExpireWithTheCode(t *testing.T) {
	q, err := outbound.NewMemory(outbound.Options{Senders: map[string]carrier.Sender{"twilio": namedSender("twilio")}})
	if err != nil {
		t.Fatal(err)
	}
	var got []carrier.Message
	spy := spyQueue{Queue: q, got: &got}
	before := time.Now()
	otp := smsNotifier{queue: spy, carrier: "twilio", validFor: otpValidFor}
	if err := otp.Notify(t.Context(), "+593991234567", "es", "Su código es 123456"); err != nil {
		t.Fatal(err)
	}
	result := smsNotifier{queue: spy, carrier: "twilio"}
	if err := result.Notify(t.Context(), "+593991234567", "es", "Su trámite está listo"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("queued %d messages, want 2", len(got))
	}
	if d := got[0].Deadline.Sub(before); d < otpValidFor || d > otpValidFor+time.Minute {
		t.Errorf("a code is tried for %v, want %v", d, otpValidFor)
	}
	if !got[1].Deadline.IsZero() {
		t.Errorf("a result has deadline %v, want the queue's default", got[1].Deadline)
	}
	for _, m := range got {
		if st, err := q.Status(t.Context(), m.ID); err != nil || st.Deadline.IsZero() {
			t.Errorf("status of %s: %+v, %v; want a deadline", m.ID, st, err)
		}
	}
}

type spyQueue struct {
	outbound.Queue
	got *[]carrier.Message
}

func (s spyQueue) Enqueue(ctx context.Context, m carrier.Message) (string, error) {
	*s.got = append(*s.got, m)
	return s.Queue.Enqueue(ctx, m)
}
