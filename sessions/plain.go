package sessions

import (
	"context"
	"errors"
	"time"
)

// Plain is a Store seen through plain types, for a package that keeps a
// few records of its own in the gateway's store without importing this
// one (the Telegram adapter's chat links, so that a carrier adapter
// compiles without the stores): found stands for the absence of
// ErrNotFound, conflict for ErrConflict.
type Plain struct{ Store Store }

// Get returns the record under key and its revision; found is false when
// there is none.
func (p Plain) Get(ctx context.Context, key string) (data []byte, rev uint64, found bool, err error) {
	rec, err := p.Store.Get(ctx, key)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, 0, false, nil
	case err != nil:
		return nil, 0, false, err
	}
	return rec.Data, rec.Rev, true, nil
}

// Put writes data under key if the stored revision is still rev (0: none)
// and returns the new revision; conflict is true when another write came
// first.
func (p Plain) Put(ctx context.Context, key string, data []byte, rev uint64, ttl time.Duration) (newRev uint64, conflict bool, err error) {
	newRev, err = p.Store.Put(ctx, key, data, rev, ttl)
	if errors.Is(err, ErrConflict) {
		return 0, true, nil
	}
	return newRev, false, err
}
