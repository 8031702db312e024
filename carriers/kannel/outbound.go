package kannel

import (
	"context"
	"errors"

	"ventanilla/channels"
)

// Outbound makes a Sender one of the outbound queue's senders, under the
// carrier name "kannel-sms": Kannel's temporary failures become
// *channels.RetryableError, everything else is final.
type Outbound struct{ *Sender }

var _ channels.Sender = Outbound{}

// Name implements channels.Sender.
func (Outbound) Name() string { return "kannel-sms" }

// Send implements channels.Sender.
func (o Outbound) Send(ctx context.Context, m channels.Message) error {
	err := o.Sender.Send(ctx, m.To, m.Text)
	if err != nil && errors.Is(err, ErrRetryable) {
		return &channels.RetryableError{Err: err}
	}
	return err
}
