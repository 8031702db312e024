package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/internal/keys"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// Ratings keeps, in the store, which numbers were asked to rate which
// flow: one record that must not exist yet, for the period.
type Ratings struct{ Store sessions.Store }

var _ flows.Ratings = Ratings{}

// Ask implements flows.Ratings: the first to write the record asks.
func (r Ratings) Ask(ctx context.Context, phone, flow string, period time.Duration) (bool, error) {
	_, err := r.Store.Put(ctx, keys.Rated(phone, flow), []byte{1}, 0, period)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, sessions.ErrConflict):
		return false, nil
	}
	return false, err
}
