package kannel

import (
	"context"
	"errors"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// Outbound makes a Sender one of the outbound queue's senders, under the
// carrier name "kannel-sms": Kannel's temporary failures become
// *carrier.RetryableError, everything else is final.
type Outbound struct{ *Sender }

var _ carrier.Sender = Outbound{}

// Name implements carrier.Sender.
func (Outbound) Name() string { return "kannel-sms" }

// Send implements carrier.Sender.
func (o Outbound) Send(ctx context.Context, m carrier.Message) error {
	err := o.Sender.Send(ctx, m.To, m.Text)
	if err != nil && errors.Is(err, ErrRetryable) {
		return &carrier.RetryableError{Err: err}
	}
	return err
}
