package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// errStore: the session store failed on the way (not a conflict).
var errStore = errors.New("session store")

// errEncoding: the session could not be encoded (a variable of a type the
// codec does not keep); a flow bug, not a store failure.
var errEncoding = errors.New("encoding session")

// encodeBuffers hold encoded sessions between encoding and the store's
// write; stores do not keep what Put is given.
var encodeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// put encodes the session and writes it with compare-and-set.
func (g *Gateway) put(ctx context.Context, st *state, in carrier.Inbound) error {
	buf := encodeBuffers.Get().(*[]byte)
	defer encodeBuffers.Put(buf)
	data, err := st.s.AppendBinary((*buf)[:0])
	if err != nil {
		return fmt.Errorf("%w: %w", errEncoding, err)
	}
	*buf = data[:0]
	if len(data) > flows.MaxSessionSize {
		return fmt.Errorf("%w: %d bytes, over the %d a conversation may keep", errTooLarge, len(data), flows.MaxSessionSize)
	}
	var rev uint64
	if w, ok := g.conversations().(sessions.Watcher); ok && st.watch != "" {
		rev, err = w.PutWatched(ctx, st.key, data, st.rev, g.sessionTTL(in), st.watch, st.question)
	} else {
		rev, err = g.conversations().Put(ctx, st.key, data, st.rev, g.sessionTTL(in))
	}
	if err == nil {
		st.rev = rev
	}
	return err
}

// checkpoint is the engine's Input.Checkpoint: it stores the session,
// marked as waiting for a back-end call that changes something, before
// the call is made. Whatever happens to this hop afterwards, the next one
// finds the call under way and finishes it (flows.CallPending) instead of
// asking again what led to it.
func (g *Gateway) checkpoint(st *state, in carrier.Inbound) func(context.Context) error {
	return func(ctx context.Context) error {
		err := g.put(ctx, st, in)
		if err != nil && !errors.Is(err, sessions.ErrConflict) && !errors.Is(err, errEncoding) {
			return fmt.Errorf("%w: %w", errStore, err)
		}
		return err
	}
}

// errTooLarge: the flow made a session larger than flows.MaxSessionSize;
// it is not written, so no flow can fill the shared store.
var errTooLarge = errors.New("session too large")

// finish renders the engine's screen and writes the session: deleted when
// the conversation is over, kept otherwise.
func (g *Gateway) finish(ctx context.Context, st *state, in carrier.Inbound, screen flows.Screen, err error, chosenBefore bool) (carrier.Reply, error) {
	if errors.Is(err, sessions.ErrConflict) {
		return carrier.Reply{}, err // the session copy was stale: run the hop again
	}
	s := &st.s
	if errors.Is(err, errStore) {
		// The store could not confirm the session: it is not the flow's
		// fault, and the conversation stays for when the store is back.
		st.info.set(func(i *hopInfo) { i.flow = flowID(s) })
		g.logger().Error("session check failed", "carrier", in.Carrier, "err", err)
		return g.failureIn(s, i18n.ServiceUnavail), err
	}
	g.note(st.info, s)
	st.info.set(func(i *hopInfo) {
		i.flow = flowID(s)
		switch {
		case err != nil:
			i.outcome = "failure"
		case screen.Retry:
			i.outcome = "retry"
		}
	})
	if err != nil {
		g.logger().Error("hop failed", "carrier", in.Carrier, "flow", flowOf(s), "err", err)
		// The conversation cannot go on; the citizen starts over cleanly.
		reply, _ := g.render(in, g.Engine.FailureFor(s, i18n.TryAgain))
		return g.end(ctx, st, in, reply)
	}
	if !chosenBefore && s.Vars["language_chosen"] == true {
		g.saveLocale(ctx, s)
	}
	return g.save(ctx, st, in, screen)
}

func (g *Gateway) save(ctx context.Context, st *state, in carrier.Inbound, screen flows.Screen) (carrier.Reply, error) {
	s := &st.s
	reply, lastPage := g.render(in, screen)
	if screen.End && lastPage {
		return g.end(ctx, st, in, reply)
	}
	if !screen.End && flows.Completed(s) && flows.EffectsMade(s) {
		// The trámite is done and its result stands above a question (a
		// rating): should this reply come too late, the result is kept
		// for the next contact as an ended conversation's would be.
		if notice := flows.Notice(s); notice != "" {
			st.info.set(func(i *hopInfo) { i.result = notice })
		}
	}
	if err := g.put(ctx, st, in); err != nil {
		if errors.Is(err, sessions.ErrConflict) {
			return carrier.Reply{}, err
		}
		if errors.Is(err, errEncoding) {
			return g.failureIn(s, i18n.TryAgain), err
		}
		if errors.Is(err, errTooLarge) {
			g.logger().Error("flow outgrew its session; conversation ended", "carrier", in.Carrier, "flow", flowOf(s), "err", err)
			st.info.set(func(i *hopInfo) { i.outcome = "failure" })
			reply, _ := g.render(in, g.Engine.FailureFor(s, i18n.FlowTooLarge))
			return g.end(ctx, st, in, reply)
		}
		g.logger().Error("session write failed", "carrier", in.Carrier, "err", err)
		return g.failureIn(s, i18n.ServiceUnavail), fmt.Errorf("writing session: %w", err)
	}
	return reply, nil
}

// sessionTTL keeps a USSD conversation at least as long as it can be
// resumed, and a text conversation for TextTTL.
func (g *Gateway) sessionTTL(in carrier.Inbound) time.Duration {
	if in.Channel != "ussd" {
		if g.TextTTL > 0 {
			return g.TextTTL
		}
		return 30 * time.Minute
	}
	ttl := g.SessionTTL
	if ttl <= 0 {
		ttl = 3 * time.Minute
	}
	if in.Channel == "ussd" {
		ttl = max(ttl, g.resumeWindow())
	}
	return ttl
}
