package kannel_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ventanilla-gob/ventanilla/carriers/kannel"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// Kannel's sendsms answers, as its source has them, classified for the
// outbound queue: 503 "Temporal failure" is retried, 403 is final.
func TestOutboundClassifiesFailures(t *testing.T) {
	for _, c := range []struct {
		status    int
		body      string
		retryable bool
		ok        bool
	}{
		{http.StatusAccepted, "0: Accepted for delivery", false, true},
		{http.StatusServiceUnavailable, "Temporal failure, try again later.", true, false},
		{http.StatusForbidden, "Authorization failed for sendsms", false, false},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(c.status)
			w.Write([]byte(c.body))
		}))
		o := kannel.Outbound{Sender: &kannel.Sender{BaseURL: srv.URL, Username: "u", Password: "p"}}
		err := o.Send(context.Background(), carrier.Message{ID: "1", Channel: "sms", Carrier: "kannel-sms", To: "+593991234567", Text: "hola"})
		srv.Close()
		if (err == nil) != c.ok {
			t.Errorf("%d: err %v", c.status, err)
		}
		var re *carrier.RetryableError
		if errors.As(err, &re) != c.retryable {
			t.Errorf("%d: retryable %v, want %v (%v)", c.status, errors.As(err, &re), c.retryable, err)
		}
	}
}
