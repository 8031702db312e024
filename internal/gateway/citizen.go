package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/keys"

	"github.com/ventanilla-gob/ventanilla/conversation"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// savePreference remembers the text channel a citizen starts a
// conversation on; once per conversation, not per hop. Every SMS carrier
// is the channel "sms"; a chat carrier is a channel of its own
// ("whatsapp", "telegram"), named as the carrier.
func (g *Gateway) savePreference(ctx context.Context, in carrier.Inbound) {
	if in.Channel == "ussd" || in.Phone == "" {
		return
	}
	pref := "sms"
	if in.Channel == "chat" {
		pref = in.Carrier
	}
	if err := g.Store.Set(ctx, keys.Preference(in.Phone), []byte(pref), g.profileTTL()); err != nil {
		g.storeError("remembering the citizen's channel", err)
	}
}

// citizen reads what is kept about a number that starts a conversation —
// the language they chose and a result kept for them (see Pending) — in
// one round trip when the store can (sessions.MultiGetter). A store that
// refuses the read for good (NOPERM, CROSSSLOT) leaves the defaults: the
// conversation can start without them. A store failing for a while
// (transient) is returned: a returning citizen taken for a first contact
// would be asked their language again.
//
// who is whom a result is kept for (keptFor): the number, or a chat that
// shared none, which has no profile.
func (g *Gateway) citizen(ctx context.Context, phone, who string) (locale string, chosen bool, pending []byte, err error) {
	locale = g.defaultLocale()
	if phone == "" {
		if who == "" {
			return locale, false, nil, nil
		}
		kept, err := g.Store.Get(ctx, keys.Pending(who))
		if err != nil && !errors.Is(err, sessions.ErrNotFound) {
			if transient(err) {
				return locale, false, nil, fmt.Errorf("reading a result kept for the citizen: %w", err)
			}
			g.storeError("reading a result kept for the citizen", err)
		}
		return locale, false, kept.Data, nil
	}
	var profile, kept sessions.Record
	if mg, ok := g.Store.(sessions.MultiGetter); ok {
		recs, err := mg.GetMulti(ctx, keys.Profile(phone), keys.Pending(phone))
		if err != nil {
			if transient(err) {
				return locale, false, nil, fmt.Errorf("reading the citizen's profile: %w", err)
			}
			g.storeError("reading the citizen's profile", err)
			return locale, false, nil, nil
		}
		profile, kept = recs[0], recs[1]
	} else {
		var err error
		if profile, err = g.Store.Get(ctx, keys.Profile(phone)); err != nil && !errors.Is(err, sessions.ErrNotFound) {
			if transient(err) {
				return locale, false, nil, fmt.Errorf("reading the citizen's profile: %w", err)
			}
			g.storeError("reading the citizen's profile", err)
		}
		if kept, err = g.Store.Get(ctx, keys.Pending(phone)); err != nil && !errors.Is(err, sessions.ErrNotFound) {
			if transient(err) {
				return locale, false, nil, fmt.Errorf("reading a result kept for the citizen: %w", err)
			}
			g.storeError("reading a result kept for the citizen", err)
		}
	}
	if l := string(profile.Data); l != "" && g.Engine.Messages.Has(l, i18n.LanguageName) {
		locale, chosen = l, true
	}
	return locale, chosen, kept.Data, nil
}

// loadLocale sets the session's locale from the citizen's remembered
// choice and reports whether there was one.
func (g *Gateway) loadLocale(ctx context.Context, s *conversation.State) bool {
	s.Locale = g.defaultLocale()
	if s.Phone == "" {
		return false
	}
	rec, err := g.Store.Get(ctx, keys.Profile(s.Phone))
	if err != nil && !errors.Is(err, sessions.ErrNotFound) {
		g.storeError("reading the citizen's profile", err)
	}
	if err != nil || len(rec.Data) == 0 || !g.Engine.Messages.Has(string(rec.Data), i18n.LanguageName) {
		return false
	}
	s.Locale = string(rec.Data)
	return true
}

func (g *Gateway) saveLocale(ctx context.Context, s *conversation.State) {
	if s.Phone == "" {
		return
	}
	if err := g.Store.Set(ctx, keys.Profile(s.Phone), []byte(s.Locale), g.profileTTL()); err != nil {
		g.storeError("remembering the citizen's language", err)
	}
}

// profileTTL is how long a citizen's language choice is remembered.
func (g *Gateway) profileTTL() time.Duration {
	if g.ProfileTTL > 0 {
		return g.ProfileTTL
	}
	return 400 * 24 * time.Hour
}
