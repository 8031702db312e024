package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ventanilla-gob/ventanilla/conversation"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/chat"
	"github.com/ventanilla-gob/ventanilla/channels/sms"
	"github.com/ventanilla-gob/ventanilla/channels/ussd"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/keys"
	"github.com/ventanilla-gob/ventanilla/internal/privacy"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// Gateway runs hops: it reads the session, lets the engine apply the input,
// renders the screen for the channel and writes the session back: one read
// and one write per hop. Two hops on one session at once are serialised by
// the store's compare-and-set: the loser runs again on the winner's result.
//
// USSD conversations are kept by phone number, not by the carrier's
// session id: a handset runs one USSD session at a time, and keying by
// number is what lets a citizen whose session dropped dial again and be
// offered to continue where they left off.
type Gateway struct {
	Engine *flows.Engine
	// Store keeps conversations, profiles (the language a citizen chose),
	// channel preferences and results kept for a citizen.
	Store sessions.Store
	// Conversations, when set, keeps the conversations instead of Store:
	// a sessions.Near in front of Redis, so that a hop of a conversation
	// this instance served makes one Redis round trip. The rest stays in
	// Store.
	Conversations sessions.Store
	Log           *slog.Logger
	// Routes maps service codes ("*384*2#") to the flow they open; a code
	// without a route opens the engine's root flow.
	Routes map[string]string
	// SessionTTL is how long an idle conversation lives (default 3 minutes).
	SessionTTL time.Duration
	// ResumeWindow is how long after a USSD session dropped a citizen who
	// dials again is offered to continue (default 5 minutes).
	ResumeWindow time.Duration
	// Budget is how long a hop may take when the carrier does not say
	// (default 4 seconds); past it the citizen gets a localised "try again".
	Budget time.Duration
	// ProfileTTL is how long a citizen's language choice is remembered
	// (default 400 days).
	ProfileTTL time.Duration
	// DefaultLocale is used until a citizen chooses (default "es").
	DefaultLocale string
	// Now is the clock for the resume window (default time.Now).
	Now func() time.Time
	// Observer, when set, hears every hop's outcome and every conversation
	// abandoned mid-flow.
	Observer Observer
	// TextTTL is how long an idle SMS or chat conversation lives (default
	// 30 minutes): people answer a text later than a USSD menu.
	TextTTL time.Duration
	// Keywords start flows on SMS and chat: the first word of a message,
	// in any case and with or without accents ("turno", "TURNO"); the
	// words after it are the flow's first answers ("ESTADO 123").
	Keywords map[string]Keyword
	// Entrances, when set, gives the routes and keywords of each hop in
	// place of Routes and Keywords, so that a reload can change them
	// under running hops (institution packages bring their own).
	Entrances func() (routes map[string]string, keywords map[string]Keyword)
	// Hidden, when set, reports whether the flow a keyword or a service
	// code opens is hidden from this citizen (a draft's, to anyone but its
	// testers). A hidden one is a word or code nobody claimed: the words
	// or numbers after it are not answers to whatever opens instead.
	Hidden func(flow string, in carrier.Inbound) bool
	// SMS shapes SMS replies (segments, transliteration).
	SMS sms.Options
	// Chat shapes chat replies (buttons per page…); zero fields take the
	// defaults, set for Telegram.
	Chat chat.Options
	// Recorder, when set, gets how each conversation ended.
	Recorder Recorder
	// Shown, when set, hears every screen before the channel's renderer
	// lays it out: a simulator shows the same screen on several media.
	// It runs on the hop and must not block.
	Shown func(in carrier.Inbound, s flows.Screen)
	// Counter, when set, hears conversations left mid-flow.
	Counter Counter
	// PhoneLimit and CarrierLimit, when set, bound the hops per phone
	// number and per carrier; a citizen over the limit is told, in their
	// language, to try again later.
	PhoneLimit, CarrierLimit Limiter
	// Questions, when set, keeps the questions the gateway asked on its
	// own (a reminder's "1 confirmar, 2 anular"): a text message that
	// answers one runs the question's flow (see docs/notifications.md).
	// Its store is the one the conversations are kept in (or, with
	// Conversations, the one they front): a text hop reads the question
	// with its conversation.
	Questions *Questions
	// Answers hear those answers and what they came to.
	Answers []Answers

	storeErrs storeErrors
}

// hopInfo is what a hop learns on its way, shared with Hop, which may
// answer before the hop's goroutine is done.
type hopInfo struct {
	mu                    sync.Mutex
	locale, flow, outcome string
	record                Outcome // where the conversation stands, for the recorder
	// result is the final reply of a conversation in which a back-end
	// call that changes something was made: what the citizen must learn,
	// at the next contact if this hop's reply comes too late.
	result string
	// question is the question this hop's message answers, once taken:
	// a run again after a lost race keeps it.
	question *Question
}

func (i *hopInfo) set(f func(*hopInfo)) {
	i.mu.Lock()
	f(i)
	i.mu.Unlock()
}

func (i *hopInfo) get() (locale, flow, outcome string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.locale, i.flow, i.outcome
}

var _ carrier.Hopper = (*Gateway)(nil)

// maxAttempts bounds how often a hop re-runs after losing a race for its
// session to another hop; more than a couple means something else is
// writing in a loop. A run that read this instance's own copy of the
// session and found it stale does not count: the next run reads the
// shared store. maxRuns bounds both together.
const (
	maxAttempts = 4
	maxRuns     = 2 * maxAttempts
)

// Variables the gateway keeps in a session; "$" keeps flows from them.
const (
	resumeVar = "$resume"
	// replyVar holds the last reply of a conversation that has ended: what
	// a request the carrier repeats is answered with (see over).
	replyVar = "$reply"
	// abandonedVar marks a conversation already counted as abandoned (the
	// carrier closed it mid-flow): leaving it again when the citizen
	// starts over is the same abandonment, not a second one.
	abandonedVar = "$abandoned"
)

// Hop runs one hop within the carrier's budget. It never returns a Go
// error for the citizen's or a back-end's faults: those end in a localised
// reply. An error means the gateway itself could not answer (the store is
// down) and comes with a localised reply as well, so a carrier adapter can
// always answer.
func (g *Gateway) Hop(ctx context.Context, in carrier.Inbound) (carrier.Reply, error) {
	budget := in.Budget
	if budget <= 0 {
		budget = g.budget()
	}
	start := time.Now()
	// The budget bounds the hop, not the carrier's connection: a hop whose
	// carrier hangs up still finishes and saves what it did (a turno
	// booked must not be booked again when the citizen dials back).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), budget)
	defer cancel()
	// The hop runs in this goroutine: everything it waits on (the store,
	// back-end calls) honours ctx, so the budget bounds it. A hop that
	// still comes back late answers a localised "try again" — the carrier
	// may have given up on it — and keeps whatever it saved, so dialling
	// again offers to resume.
	info := &hopInfo{locale: g.defaultLocale()}
	type result struct {
		r   carrier.Reply
		err error
	}
	var res result
	res.r, res.err = g.hop(ctx, in, info)
	if time.Since(start) > budget || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		g.logger().Warn("hop exceeded its budget", "carrier", in.Carrier, "budget", budget)
		info.set(func(i *hopInfo) { i.outcome = "budget" })
		locale, _, _ := info.get()
		res = result{r: g.failure(locale, i18n.TryAgain)}
		g.keepResult(in, info)
	}
	if g.Observer != nil {
		_, flow, outcome := info.get()
		switch {
		case outcome != "":
		case res.err != nil:
			outcome = "unavailable"
		case res.r.End:
			outcome = "end"
		default:
			outcome = "continue"
		}
		g.Observer.Hop(in.Carrier, flow, outcome, time.Since(start))
	}
	g.record(in, info, res.r, res.err)
	if l := g.logger(); l.Enabled(ctx, slog.LevelDebug) {
		_, flow, outcome := info.get()
		l.Debug("hop", "carrier", in.Carrier, "channel", in.Channel, "citizen", privacy.Phone(in.Phone),
			"flow", flow, "outcome", outcome, "input", privacy.Text(in.Input), "duration", time.Since(start))
	}
	return res.r, res.err
}

func (g *Gateway) hop(ctx context.Context, in carrier.Inbound, info *hopInfo) (carrier.Reply, error) {
	if r, limited := g.limited(ctx, in, info); limited {
		return r, nil
	}
	var err error
	for races, runs := 0, 0; races < maxAttempts && runs < maxRuns; runs++ {
		var r carrier.Reply
		var stale bool
		r, err = g.try(ctx, in, info, &stale)
		if !errors.Is(err, sessions.ErrConflict) {
			return r, err
		}
		if !stale {
			races++
		}
	}
	g.logger().Warn("hop lost the race for its session too often", "carrier", in.Carrier, "attempts", maxAttempts)
	locale, _, _ := info.get()
	return g.failure(locale, i18n.TryAgain), err
}

// state is one attempt at a hop: the session as read and what the hop did.
type state struct {
	key   string
	rev   uint64
	s     conversation.State
	found bool // a session was stored under key
	info  *hopInfo
	// confirm, when the session came from this instance's own copy, makes
	// sure with the shared store that it is still current before the hop
	// does what a re-run could not undo.
	confirm func(context.Context) error
	// question is the record of the question kept for the number
	// (keys.Question), when read with the session (read): questionRead.
	// watch is its key when the conversations' store keeps it with the
	// session (sessions.Watcher): the session is written only while the
	// question is still that record.
	question     sessions.Record
	questionRead bool
	watch        string
}

// conversations is where conversations are kept.
func (g *Gateway) conversations() sessions.Store {
	if g.Conversations != nil {
		return g.Conversations
	}
	return g.Store
}

func (g *Gateway) try(ctx context.Context, in carrier.Inbound, info *hopInfo, stale *bool) (carrier.Reply, error) {
	st := state{key: Key(in), info: info}
	rec, err := g.read(ctx, &st, in)
	*stale = rec.Local
	if v, ok := g.conversations().(sessions.Verifier); ok && rec.Local {
		rev := rec.Rev
		w, watched := g.conversations().(sessions.Watcher)
		st.confirm = func(ctx context.Context) error {
			var err error
			if watched && st.watch != "" {
				err = w.VerifyWatched(ctx, st.key, rev, st.watch, st.question.Rev)
			} else {
				err = v.Verify(ctx, st.key, rev)
			}
			if err != nil && !errors.Is(err, sessions.ErrConflict) {
				return fmt.Errorf("%w: %w", errStore, err)
			}
			return err
		}
	}
	switch {
	case errors.Is(err, sessions.ErrNotFound):
	case err != nil:
		g.logger().Error("session read failed", "carrier", in.Carrier, "err", err)
		return g.failure(g.defaultLocale(), i18n.ServiceUnavail), fmt.Errorf("reading session: %w", err)
	default:
		st.rev = rec.Rev
		if err := st.s.UnmarshalBinary(rec.Data); err != nil {
			// A record we cannot read is lost either way; start over
			// rather than fail every hop until it expires.
			g.logger().Error("session record unreadable; starting over", "carrier", in.Carrier, "err", err)
		} else {
			st.found = true
			info.set(func(i *hopInfo) { i.locale = st.s.Locale })
		}
	}

	if st.found && over(&st.s) {
		// The conversation under key has ended. A request the carrier
		// repeats gets the reply it had, and nothing runs again; anything
		// else is a new conversation in its place.
		if in.Event == carrier.EventEnd {
			info.set(func(i *hopInfo) { i.outcome = "closed" })
			return carrier.Reply{}, nil
		}
		if repeated(&st.s, in) {
			info.set(func(i *hopInfo) { i.outcome = "repeat" })
			text, _ := st.s.Vars[replyVar].(string)
			return carrier.Reply{Text: text, End: true}, nil
		}
		st.found = false
	}
	if in.Event == carrier.EventEnd {
		return carrier.Reply{}, g.closed(ctx, &st, in)
	}
	if st.found && flows.CallPending(&st.s) {
		return g.finishCall(ctx, &st, in)
	}
	if kw, args, ok := g.keyword(in); ok {
		return g.byKeyword(ctx, &st, in, kw, args)
	}
	if q, ok, err := g.question(ctx, &st, in); err != nil {
		return carrier.Reply{}, err
	} else if ok {
		return g.answerQuestion(ctx, &st, in, q)
	}
	if st.found && in.Channel != "ussd" {
		// The reply that showed a result above a question came too late:
		// the citizen's text answers nothing they saw. They get the
		// result, then the question; the text is not taken as an answer.
		if r, ok, err := g.askAfterLate(ctx, &st, in); ok {
			return r, err
		}
	}
	sameConversation := st.found && st.s.Conversation == in.SessionID && st.s.Carrier == in.Carrier
	if sameConversation && !(in.Event == carrier.EventBegin && in.BeginIsNew) {
		if st.s.Vars[resumeVar] == true {
			return g.resumeChoice(ctx, &st, in)
		}
		return g.answer(ctx, &st, in)
	}
	// A new carrier session: the citizen dialled (or texted) anew.
	_, shortcut := g.dialled(in)
	if st.found && g.resumable(&st.s) && len(shortcut) == 0 && in.Input == "" {
		return g.offerResume(ctx, &st, in)
	}
	if st.found && len(shortcut) == 0 && in.Input == "" {
		if r, ok, err := g.askAfterLate(ctx, &st, in); ok {
			return r, err
		}
	}
	if st.found {
		g.abandoned(&st.s)
	}
	return g.start(ctx, &st, in)
}

// read reads the session of a hop and, for a text that may answer a
// question (asks), the question kept for the number with it: in the one
// round trip the session's read makes where the store can (a
// sessions.Watcher, a sessions.MultiGetter), and in none when this
// instance's copy holds both (Near). A store that can do neither leaves
// the question to be read on its own (question).
func (g *Gateway) read(ctx context.Context, st *state, in carrier.Inbound) (sessions.Record, error) {
	store := g.conversations()
	if !g.asks(in) {
		return store.Get(ctx, st.key)
	}
	watch := keys.Question(in.Phone)
	var rec sessions.Record
	switch s := store.(type) {
	case sessions.Watcher:
		var err error
		if rec, st.question, err = s.GetWatched(ctx, st.key, watch); err != nil {
			return sessions.Record{}, err
		}
		st.watch = watch
	case sessions.MultiGetter:
		recs, err := s.GetMulti(ctx, st.key, watch)
		if err != nil {
			return sessions.Record{}, err
		}
		rec, st.question = recs[0], recs[1]
	default:
		return store.Get(ctx, st.key)
	}
	st.questionRead = true
	if rec.Rev == 0 {
		return rec, sessions.ErrNotFound
	}
	return rec, nil
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

func (g *Gateway) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func (g *Gateway) budget() time.Duration {
	if g.Budget > 0 {
		return g.Budget
	}
	return 4 * time.Second
}

// routes are the service codes that open a flow, as this hop sees them.
func (g *Gateway) routes() map[string]string {
	if g.Entrances != nil {
		r, _ := g.Entrances()
		return r
	}
	return g.Routes
}

// dialled is the flow a service code opens and the answers it carries,
// with the codes of flows hidden from this citizen left out.
func (g *Gateway) dialled(in carrier.Inbound) (string, []string) {
	routes := g.routes()
	flow, answers := ussd.Dialled(in.ServiceCode, routes)
	if flow == "" || g.Hidden == nil || !g.Hidden(flow, in) {
		return flow, answers
	}
	visible := make(map[string]string, len(routes))
	for code, f := range routes {
		if f != flow {
			visible[code] = f
		}
	}
	return ussd.Dialled(in.ServiceCode, visible)
}

// keywords are the words that open a flow, as this hop sees them.
func (g *Gateway) keywords() map[string]Keyword {
	if g.Entrances != nil {
		_, k := g.Entrances()
		return k
	}
	return g.Keywords
}
