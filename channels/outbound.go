package channels

import (
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// The sending contract lives in channels/carrier with the rest of the
// carrier contract; these names keep existing callers compiling.
type (
	Message        = carrier.Message
	Sender         = carrier.Sender
	RetryableError = carrier.RetryableError
)

// Retryable reports whether err is worth retrying, and after how long the
// carrier asked to wait (0 when it did not say). See carrier.Retryable.
func Retryable(err error) (bool, time.Duration) { return carrier.Retryable(err) }
