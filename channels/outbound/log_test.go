package outbound_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
	"github.com/ventanilla-gob/ventanilla/internal/privacy"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// The ids the notifications API answers with are what operators look for
// in the logs: the privacy handler keeps them, and still hides the number
// and the text.
func TestFailedMessageLogKeepsItsID(t *testing.T) {
	const id = "ntf_3f0c9a61d2b84e7c9b1f0a2d4c6e8f10"
	var out testutil.Buffer
	log := slog.New(privacy.NewHandler(slog.NewTextHandler(&out, nil), nil))
	s := newSender(func(ctx context.Context, m carrier.Message, n int) error {
		if n == 1 {
			return &carrier.RetryableError{Err: errors.New("twilio: 503 for " + m.To)}
		}
		return errors.New("twilio: 400 invalid number " + m.To)
	})
	clock := newClock()
	q, err := outbound.NewMemory(outbound.Options{
		Senders: map[string]carrier.Sender{"twilio": s},
		Now:     clock.Now, Sleep: testutil.Sleep(clock), Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, q, msg(id))
	run(t, q)
	drive(t, clock, "failed", stateIs(t, q, id, outbound.StateFailed))
	logged := out.String()
	for _, line := range []string{"send failed; retrying", "message failed"} {
		i := strings.Index(logged, line)
		if i < 0 {
			t.Fatalf("no %q line in\n%s", line, logged)
		}
		l := logged[i:]
		l = l[:strings.IndexByte(l, '\n')]
		if !strings.Contains(l, id) {
			t.Errorf("the %q line lost the message id:\n%s", line, l)
		}
	}
	for _, secret := range []string{"593991234567", "trámite"} {
		if strings.Contains(logged, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logged)
		}
	}
}
