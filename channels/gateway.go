package channels

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"ventanilla/channels/ussd"
	"ventanilla/flows"
	"ventanilla/i18n"
	"ventanilla/sessions"
)

// Gateway runs hops: it reads the session, lets the engine apply the input,
// renders the screen for the channel and writes the session back: one read
// and one write per hop. Two hops on one session at once are serialised by
// the store's compare-and-set: the loser runs again on the winner's result.
type Gateway struct {
	Engine *flows.Engine
	Store  sessions.Store
	Log    *slog.Logger
	// Routes maps service codes ("*384*2#") to the flow they open; a code
	// without a route opens the engine's root flow.
	Routes map[string]string
	// SessionTTL is how long an idle USSD session lives (default 3 minutes).
	SessionTTL time.Duration
	// ProfileTTL is how long a citizen's language choice is remembered
	// (default 400 days).
	ProfileTTL time.Duration
	// DefaultLocale is used until a citizen chooses (default "es").
	DefaultLocale string
}

var _ Hopper = (*Gateway)(nil)

// maxAttempts bounds how often a hop re-runs after losing a race for its
// session; more than a couple means something else is writing in a loop.
const maxAttempts = 4

// Hop runs one hop. It never returns a Go error for the citizen's or a
// back-end's faults: those end in a localised reply. An error means the
// gateway itself could not answer (the store is down) and comes with a
// localised reply as well, so a carrier adapter can always answer.
func (g *Gateway) Hop(ctx context.Context, in Inbound) (Reply, error) {
	key := in.Channel + ":" + in.Carrier + ":" + in.SessionID
	var err error
	for range maxAttempts {
		var r Reply
		r, err = g.try(ctx, key, in)
		if !errors.Is(err, sessions.ErrConflict) {
			return r, err
		}
	}
	g.logger().Warn("hop lost the race for its session too often", "carrier", in.Carrier, "attempts", maxAttempts)
	return g.failure(g.defaultLocale(), i18n.TryAgain), err
}

func (g *Gateway) try(ctx context.Context, key string, in Inbound) (Reply, error) {
	rec, err := g.Store.Get(ctx, key)
	var s sessions.Session
	fresh := false
	switch {
	case errors.Is(err, sessions.ErrNotFound):
		fresh = true
		s = sessions.Session{Key: key, Phone: in.Phone, Channel: in.Channel, Carrier: in.Carrier}
	case err != nil:
		g.logger().Error("session read failed", "carrier", in.Carrier, "err", err)
		return g.failure(g.defaultLocale(), i18n.ServiceUnavail), fmt.Errorf("reading session: %w", err)
	default:
		if err := s.UnmarshalBinary(rec.Data); err != nil {
			// A record we cannot read is lost either way; start over
			// rather than fail every hop until it expires.
			g.logger().Error("session record unreadable; starting over", "carrier", in.Carrier, "err", err)
			fresh = true
			s = sessions.Session{Key: key, Phone: in.Phone, Channel: in.Channel, Carrier: in.Carrier}
		}
	}

	input := flows.Input{Text: in.Input, Pages: g.pager(in)}
	if fresh {
		chosen := g.loadLocale(ctx, &s)
		input.Start = g.Routes[in.ServiceCode]
		input.Vars = map[string]any{"language_chosen": chosen}
	}
	if in.Cumulative {
		text, trail, dup := ussd.LatestInput(s.Trail, in.Input)
		s.Trail = trail
		input.Text = text
		input.Redisplay = dup && !fresh
	}
	localeBefore := s.Locale
	chosenBefore := s.Vars["language_chosen"] == true || input.Vars["language_chosen"] == true

	screen, err := g.Engine.Apply(ctx, &s, input)
	if err != nil {
		g.logger().Error("hop failed", "carrier", in.Carrier, "flow", flowOf(&s), "err", err)
		// The session is not saved: the citizen starts over cleanly.
		_ = g.Store.Delete(ctx, key)
		reply, _ := g.render(in, g.Engine.Failure(s.Locale, i18n.TryAgain))
		return reply, nil
	}
	if s.Locale != localeBefore || (!chosenBefore && s.Vars["language_chosen"] == true) {
		g.saveLocale(ctx, &s)
	}
	reply, lastPage := g.render(in, screen)
	if screen.End && lastPage {
		if !fresh {
			if err := g.Store.Delete(ctx, key); err != nil {
				g.logger().Warn("ended session not deleted; it will expire", "err", err)
			}
		}
		return reply, nil
	}
	if input.Redisplay {
		// A retried hop changed nothing worth a write; skipping it also
		// keeps a burst of retries from fighting over the revision.
		return reply, nil
	}
	data, err := s.MarshalBinary()
	if err != nil {
		return g.failure(s.Locale, i18n.TryAgain), fmt.Errorf("encoding session: %w", err)
	}
	if _, err := g.Store.Put(ctx, key, data, rec.Rev, g.sessionTTL()); err != nil {
		if errors.Is(err, sessions.ErrConflict) {
			return Reply{}, err
		}
		g.logger().Error("session write failed", "carrier", in.Carrier, "err", err)
		return g.failure(s.Locale, i18n.ServiceUnavail), fmt.Errorf("writing session: %w", err)
	}
	return reply, nil
}

func flowOf(s *sessions.Session) string {
	if f := s.Current(); f != nil {
		return fmt.Sprintf("%s@%d", f.Flow, f.Version)
	}
	return ""
}

// ProfileKey is the store key of what is remembered about a phone number.
func ProfileKey(phone string) string { return "profile:" + phone }

// loadLocale sets the session's locale from the citizen's remembered
// choice and reports whether there was one.
func (g *Gateway) loadLocale(ctx context.Context, s *sessions.Session) bool {
	s.Locale = g.defaultLocale()
	if s.Phone == "" {
		return false
	}
	rec, err := g.Store.Get(ctx, ProfileKey(s.Phone))
	if err != nil || len(rec.Data) == 0 || !g.Engine.Messages.Has(string(rec.Data), i18n.LanguageName) {
		return false
	}
	s.Locale = string(rec.Data)
	return true
}

func (g *Gateway) saveLocale(ctx context.Context, s *sessions.Session) {
	if s.Phone == "" {
		return
	}
	if err := g.Store.Set(ctx, ProfileKey(s.Phone), []byte(s.Locale), g.profileTTL()); err != nil {
		g.logger().Warn("language choice not remembered", "err", err)
	}
}

func (g *Gateway) limit(in Inbound) int {
	if in.Limit > 0 {
		return in.Limit
	}
	return ussd.DefaultLimit
}

func (g *Gateway) pager(in Inbound) func(*flows.Screen) int {
	limit := g.limit(in)
	return func(s *flows.Screen) int { return ussd.Pages(s, limit) }
}

// render lays the screen out for the channel and reports whether the page
// shown is its last: a final screen ends the conversation only there.
func (g *Gateway) render(in Inbound, s flows.Screen) (Reply, bool) {
	text, pages := ussd.Render(&s, g.limit(in))
	last := s.Page >= pages-1
	return Reply{Text: text, End: s.End && last}, last
}

func (g *Gateway) failure(locale, id string) Reply {
	return Reply{Text: g.Engine.Messages.Text(locale, id), End: true}
}

func (g *Gateway) logger() *slog.Logger {
	if g.Log != nil {
		return g.Log
	}
	return slog.Default()
}

func (g *Gateway) defaultLocale() string {
	if g.DefaultLocale != "" {
		return g.DefaultLocale
	}
	return "es"
}

func (g *Gateway) sessionTTL() time.Duration {
	if g.SessionTTL > 0 {
		return g.SessionTTL
	}
	return 3 * time.Minute
}

func (g *Gateway) profileTTL() time.Duration {
	if g.ProfileTTL > 0 {
		return g.ProfileTTL
	}
	return 400 * 24 * time.Hour
}
