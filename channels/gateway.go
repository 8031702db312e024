package channels

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"ventanilla/channels/chat"
	"ventanilla/channels/sms"
	"ventanilla/channels/ussd"
	"ventanilla/flows"
	"ventanilla/i18n"
	"ventanilla/internal/privacy"
	"ventanilla/sessions"
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
	// SMS shapes SMS replies (segments, transliteration).
	SMS sms.Options
	// Chat shapes chat replies (buttons per page…); zero fields take the
	// defaults, set for Telegram.
	Chat chat.Options
	// Recorder, when set, gets how each conversation ended.
	Recorder Recorder
	// PhoneLimit and CarrierLimit, when set, bound the hops per phone
	// number and per carrier; a citizen over the limit is told, in their
	// language, to try again later.
	PhoneLimit, CarrierLimit Limiter

	storeErrs storeErrors
}

// Keyword is what a keyword does: open a flow, or stop the conversation.
type Keyword struct {
	Flow string // flow to open; "" with Stop
	Stop bool   // end the conversation ("SALIR", "STOP")
}

// Observer hears what hops do, for metrics. Calls happen on the hop, so
// they must be cheap and must not block.
type Observer interface {
	// Hop reports one hop: its carrier, the flow it ended in ("" before
	// any), its outcome and how long it took. Outcomes: "continue",
	// "end", "retry" (an answer not accepted), "resume" (the resume
	// offer), "closed" (the carrier closed the session), "failure" (the
	// flow could not go on), "budget" (the hop outlasted its budget),
	// "unavailable" (the session store failed), "repeat" (the carrier
	// repeated the request that ended a conversation: answered again,
	// nothing run).
	Hop(carrier, flow, outcome string, d time.Duration)
	// Abandoned reports a conversation left mid-flow at a step.
	Abandoned(flow, step string)
}

// Recorder receives one record per conversation outcome (completed,
// failed, out of budget, closed by the carrier, abandoned), for the access
// audit trail. It must not block the hop.
type Recorder interface {
	RecordOutcome(o Outcome)
}

// Outcome is how a conversation ended, with no personal data but the
// number the recorder pseudonymises.
type Outcome struct {
	Phone, Channel, Carrier string
	Flow                    string
	Version                 int
	Step                    string
	Outcome                 string
	Duration                time.Duration // since the conversation started
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

var _ Hopper = (*Gateway)(nil)

// maxAttempts bounds how often a hop re-runs after losing a race for its
// session; more than a couple means something else is writing in a loop.
const maxAttempts = 4

// Variables the gateway keeps in a session; "$" keeps flows from them.
const (
	resumeVar = "$resume"
	// replyVar holds the last reply of a conversation that has ended: what
	// a request the carrier repeats is answered with (see over).
	replyVar = "$reply"
)

// over reports whether s is the record an ended conversation leaves
// behind (see ended), not a conversation that goes on.
func over(s *sessions.Session) bool {
	_, ok := s.Vars[replyVar]
	return s.Ended && ok
}

// repeated reports whether in is the carrier repeating the request that
// ended the conversation s records: the same carrier session and, where
// the protocol numbers requests (Hubtel's Sequence, a message's id, a
// Telegram update), the same number. An ended USSD session cannot be
// answered any more, so any other request of it is a repeat too. A text
// without a message id cannot be told from a new one, and a begin of a
// carrier whose session ids repeat is a new dial.
func repeated(s *sessions.Session, in Inbound) bool {
	if in.Carrier != s.Carrier || in.SessionID != s.Conversation {
		return false
	}
	if in.Seq != 0 {
		return in.Seq == s.CarrierSeq
	}
	if in.Channel != "ussd" || in.SessionID == "" {
		return false
	}
	return !(in.Event == EventBegin && in.BeginIsNew)
}

// Hop runs one hop within the carrier's budget. It never returns a Go
// error for the citizen's or a back-end's faults: those end in a localised
// reply. An error means the gateway itself could not answer (the store is
// down) and comes with a localised reply as well, so a carrier adapter can
// always answer.
func (g *Gateway) Hop(ctx context.Context, in Inbound) (Reply, error) {
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
		r   Reply
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

func (g *Gateway) hop(ctx context.Context, in Inbound, info *hopInfo) (Reply, error) {
	if r, limited := g.limited(ctx, in, info); limited {
		return r, nil
	}
	var err error
	for range maxAttempts {
		var r Reply
		r, err = g.try(ctx, in, info)
		if !errors.Is(err, sessions.ErrConflict) {
			return r, err
		}
	}
	g.logger().Warn("hop lost the race for its session too often", "carrier", in.Carrier, "attempts", maxAttempts)
	locale, _, _ := info.get()
	return g.failure(locale, i18n.TryAgain), err
}

// limited applies the hop limits. A limited hop touches no session.
func (g *Gateway) limited(ctx context.Context, in Inbound, info *hopInfo) (Reply, bool) {
	over := func(l Limiter, key string) bool {
		if l == nil || key == "" {
			return false
		}
		ok, err := l.Allow(ctx, key)
		if err != nil {
			g.logger().Warn("rate limit unavailable; hop allowed", "err", err)
		}
		return !ok
	}
	if !over(g.PhoneLimit, in.Phone) && !over(g.CarrierLimit, in.Carrier) {
		return Reply{}, false
	}
	info.set(func(i *hopInfo) { i.outcome = "limited" })
	locale := g.defaultLocale()
	if in.Phone != "" {
		var s sessions.Session
		s.Phone = in.Phone
		g.loadLocale(ctx, &s)
		locale = s.Locale
	}
	return g.failure(locale, i18n.TooManyAttempts), true
}

// Key returns the store key of the conversation an inbound hop belongs to:
// by number on USSD and SMS; chat platforms keep a conversation each
// (a citizen on WhatsApp and on Telegram holds two).
func Key(in Inbound) string {
	if in.Phone != "" {
		if in.Channel == "chat" {
			return "chat:" + in.Carrier + ":" + Tag(in.Phone)
		}
		return in.Channel + ":" + Tag(in.Phone)
	}
	return in.Channel + ":" + in.Carrier + ":" + in.SessionID
}

// state is one attempt at a hop: the session as read and what the hop did.
type state struct {
	key   string
	rev   uint64
	s     sessions.Session
	found bool // a session was stored under key
	info  *hopInfo
	// confirm, when the session came from this instance's own copy, makes
	// sure with the shared store that it is still current before the hop
	// does what a re-run could not undo.
	confirm func(context.Context) error
}

// conversations is where conversations are kept.
func (g *Gateway) conversations() sessions.Store {
	if g.Conversations != nil {
		return g.Conversations
	}
	return g.Store
}

func (g *Gateway) try(ctx context.Context, in Inbound, info *hopInfo) (Reply, error) {
	st := state{key: Key(in), info: info}
	rec, err := g.conversations().Get(ctx, st.key)
	if v, ok := g.conversations().(sessions.Verifier); ok && rec.Local {
		rev := rec.Rev
		st.confirm = func(ctx context.Context) error {
			err := v.Verify(ctx, st.key, rev)
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
		if in.Event == EventEnd {
			info.set(func(i *hopInfo) { i.outcome = "closed" })
			return Reply{}, nil
		}
		if repeated(&st.s, in) {
			info.set(func(i *hopInfo) { i.outcome = "repeat" })
			text, _ := st.s.Vars[replyVar].(string)
			return Reply{Text: text, End: true}, nil
		}
		st.found = false
	}
	if in.Event == EventEnd {
		return Reply{}, g.closed(ctx, &st, in)
	}
	if st.found && flows.CallPending(&st.s) {
		return g.finishCall(ctx, &st, in)
	}
	if kw, args, ok := g.keyword(in); ok {
		return g.byKeyword(ctx, &st, in, kw, args)
	}
	sameConversation := st.found && st.s.Conversation == in.SessionID && st.s.Carrier == in.Carrier
	if sameConversation && !(in.Event == EventBegin && in.BeginIsNew) {
		if st.s.Vars[resumeVar] == true {
			return g.resumeChoice(ctx, &st, in)
		}
		return g.answer(ctx, &st, in)
	}
	// A new carrier session: the citizen dialled (or texted) anew.
	_, shortcut := ussd.Dialled(in.ServiceCode, g.Routes)
	if st.found && g.resumable(&st.s) && len(shortcut) == 0 && in.Input == "" {
		return g.offerResume(ctx, &st, in)
	}
	if st.found {
		g.abandoned(&st.s)
	}
	return g.start(ctx, &st, in)
}

// keyword recognises a keyword at the start of an SMS or chat message.
func (g *Gateway) keyword(in Inbound) (Keyword, []string, bool) {
	if in.Channel == "ussd" || len(g.Keywords) == 0 {
		return Keyword{}, nil, false
	}
	words := strings.Fields(in.Input)
	if len(words) == 0 {
		return Keyword{}, nil, false
	}
	kw, ok := g.Keywords[NormalizeKeyword(words[0])]
	if !ok {
		return Keyword{}, nil, false
	}
	args := words[1:]
	if len(args) > ussd.MaxShortcut {
		args = args[:ussd.MaxShortcut]
	}
	return kw, args, true
}

// NormalizeKeyword is the form keywords are matched in: upper case, no
// accents, so "Ayúda", "ayuda" and "AYUDA" are one keyword.
func NormalizeKeyword(w string) string {
	w = strings.ToUpper(strings.TrimSpace(w))
	return strings.Map(func(r rune) rune {
		switch r {
		case 'Á', 'À', 'Ä':
			return 'A'
		case 'É', 'È', 'Ë':
			return 'E'
		case 'Í', 'Ì', 'Ï':
			return 'I'
		case 'Ó', 'Ò', 'Ö':
			return 'O'
		case 'Ú', 'Ù', 'Ü':
			return 'U'
		}
		return r
	}, w)
}

// byKeyword starts the keyword's flow with its arguments as answers, or
// ends the conversation for a stop keyword.
func (g *Gateway) byKeyword(ctx context.Context, st *state, in Inbound, kw Keyword, args []string) (Reply, error) {
	if st.found {
		g.abandoned(&st.s)
	}
	if kw.Stop {
		locale := g.defaultLocale()
		if st.found {
			locale = st.s.Locale
			if err := g.conversations().Delete(ctx, st.key); err != nil {
				g.logger().Warn("stopped conversation not deleted; it will expire", "err", err)
			}
		} else {
			var s sessions.Session
			s.Phone = in.Phone
			g.loadLocale(ctx, &s)
			locale = s.Locale
		}
		st.info.set(func(i *hopInfo) { i.outcome = "end" })
		return Reply{Text: g.Engine.Messages.Text(locale, i18n.Goodbye), End: true}, nil
	}
	return g.startWith(ctx, st, in, kw.Flow, args)
}

// record writes the audit record of a hop that ended a conversation.
func (g *Gateway) record(in Inbound, info *hopInfo, r Reply, err error) {
	if g.Recorder == nil {
		return
	}
	info.mu.Lock()
	o, outcome := info.record, info.outcome
	info.mu.Unlock()
	switch {
	case outcome == "closed" || outcome == "repeat":
		return // recorded as abandoned when it was mid-flow, or ended before
	case outcome == "failure" || outcome == "budget":
		o.Outcome = outcome
	case err != nil:
		o.Outcome = "unavailable"
	case r.End:
		o.Outcome = "completed"
	default:
		return
	}
	o.Phone, o.Channel, o.Carrier = in.Phone, in.Channel, in.Carrier
	g.Recorder.RecordOutcome(o)
}

// note keeps where a conversation stands, for the audit record.
func (g *Gateway) note(info *hopInfo, s *sessions.Session) {
	if g.Recorder == nil {
		return
	}
	info.set(func(i *hopInfo) {
		if f := s.Current(); f != nil {
			i.record.Flow, i.record.Version, i.record.Step = f.Flow, f.Version, f.Step
		}
		if s.Started > 0 {
			i.record.Duration = g.now().Sub(time.UnixMilli(s.Started))
		}
	})
}

// abandoned reports a conversation left mid-flow.
func (g *Gateway) abandoned(s *sessions.Session) {
	if s.Ended {
		return
	}
	if g.Recorder != nil {
		o := Outcome{Phone: s.Phone, Channel: s.Channel, Carrier: s.Carrier, Outcome: "abandoned"}
		if f := s.Current(); f != nil {
			o.Flow, o.Version, o.Step = f.Flow, f.Version, f.Step
		}
		if s.Started > 0 {
			o.Duration = g.now().Sub(time.UnixMilli(s.Started))
		}
		g.Recorder.RecordOutcome(o)
	}
	if g.Observer == nil {
		return
	}
	if f := s.Current(); f != nil {
		g.Observer.Abandoned(f.Flow, f.Step)
	}
}

// resumable reports whether a stored conversation is one a citizen can be
// offered to continue: recent enough and mid-trámite — inside a flow the
// root menu led to, or past the first screen of a flow dialled directly.
// A citizen who only reached the root menu just starts again.
func (g *Gateway) resumable(s *sessions.Session) bool {
	if s.Ended || s.Channel != "ussd" || len(s.Frames) == 0 {
		return false
	}
	if len(s.Frames) == 1 && (s.Frames[0].Flow == g.Engine.Root || len(s.History) == 0) {
		return false
	}
	if _, closing := s.Vars["$closing"]; closing {
		return false
	}
	return g.now().Sub(time.UnixMilli(s.Updated)) <= g.resumeWindow()
}

// start begins a new conversation, applying the answers a dialled shortcut
// carries (*384*1*2# answers 1 then 2) until one is not accepted.
func (g *Gateway) start(ctx context.Context, st *state, in Inbound) (Reply, error) {
	flow, answers := ussd.Dialled(in.ServiceCode, g.Routes)
	if in.Cumulative && in.Input != "" {
		// Some operators deliver *384*1*2# as *384# with the text "1*2".
		_, more := ussd.Dialled("*0*"+in.Input+"#", nil)
		answers = append(answers, more...)
	}
	return g.startWith(ctx, st, in, flow, answers)
}

// startWith begins a conversation on flow ("" is the root) and applies
// answers in turn until one is not accepted.
func (g *Gateway) startWith(ctx context.Context, st *state, in Inbound, flow string, answers []string) (Reply, error) {
	// What a first hop writes is the carrier's until the citizen answers:
	// under a flood the memory store drops the oldest of it first.
	ctx = sessions.WithOrigin(ctx, in.Carrier)
	st.s = sessions.Session{Key: st.key, Phone: in.Phone, Channel: in.Channel, Carrier: in.Carrier, Conversation: in.SessionID, CarrierSeq: in.Seq}
	var chosen bool
	var pending []byte
	st.s.Locale, chosen, pending = g.citizen(ctx, in.Phone)
	st.info.set(func(i *hopInfo) { i.locale = st.s.Locale })
	g.savePreference(ctx, in)
	if in.Cumulative {
		st.s.Trail = in.Input
	}
	input := flows.Input{Start: flow, Vars: map[string]any{"language_chosen": chosen}, Pages: g.pager(in), Confirm: st.confirm, Checkpoint: g.checkpoint(st, in)}
	screen, err := g.Engine.Apply(ctx, &st.s, input)
	if err == nil {
		err = g.showPending(ctx, st, pending, &screen)
	}
	for _, a := range answers {
		if err != nil || screen.End || screen.Retry {
			break
		}
		screen, err = g.Engine.Apply(ctx, &st.s, flows.Input{Text: a, Pages: g.pager(in), Confirm: st.confirm, Checkpoint: g.checkpoint(st, in)})
	}
	return g.finish(ctx, st, in, screen, err, chosen)
}

// showPending puts a result kept for the citizen (see Pending) above the
// first screen of a new conversation, once. Its only error is a stale
// session copy (sessions.ErrConflict): the hop must run again.
func (g *Gateway) showPending(ctx context.Context, st *state, pending []byte, screen *flows.Screen) error {
	s := &st.s
	if len(pending) == 0 {
		return nil
	}
	if st.confirm != nil {
		if err := st.confirm(ctx); errors.Is(err, sessions.ErrConflict) {
			return err
		}
	}
	if err := g.Store.Delete(ctx, PendingKey(s.Phone)); err != nil {
		g.storeError("forgetting a result kept for the citizen", err)
		return nil // shown only once it can be forgotten: never twice
	}
	flows.Above(s, screen, g.Engine.Messages.Text(s.Locale, i18n.AsyncResult)+"\n"+string(pending))
	return nil
}

// answer applies the citizen's answer in a running conversation.
func (g *Gateway) answer(ctx context.Context, st *state, in Inbound) (Reply, error) {
	s := &st.s
	input := flows.Input{Text: in.Input, Pages: g.pager(in), Confirm: st.confirm, Checkpoint: g.checkpoint(st, in)}
	if in.Cumulative {
		text, trail, dup := ussd.LatestInput(s.Trail, in.Input)
		s.Trail = trail
		input.Text = text
		input.Redisplay = dup
	}
	if in.Seq != 0 {
		input.Redisplay = input.Redisplay || in.Seq == s.CarrierSeq
		s.CarrierSeq = in.Seq
	}
	// A first hop of the running conversation is the carrier retrying it.
	input.Redisplay = input.Redisplay || in.Event == EventBegin
	chosen := s.Vars["language_chosen"] == true
	screen, err := g.Engine.Apply(ctx, s, input)
	if err == nil && input.Redisplay {
		// A retried hop changed nothing worth a write; skipping it also
		// keeps a burst of retries from fighting over the revision.
		reply, _ := g.render(in, screen)
		return reply, nil
	}
	return g.finish(ctx, st, in, screen, err, chosen)
}

// finishCall serves a hop on a conversation stored during a back-end call
// (flows.CallPending): the hop that made it did not store what came of
// it — it was cut off, its instance died, the store failed. The call is
// made again with the same idempotency key, so the back-end answers as
// it did the first time and does nothing twice, and the conversation goes
// on from its result: for the carrier's retry, the screen it was waiting
// for; for a citizen who came back, that result under a note that the
// request had been sent before. What the hop brings is not an answer to
// anything yet and is not applied.
func (g *Gateway) finishCall(ctx context.Context, st *state, in Inbound) (Reply, error) {
	s := &st.s
	back := s.Conversation != in.SessionID || s.Carrier != in.Carrier || in.Event == EventBegin && in.BeginIsNew ||
		in.Channel != "ussd" && in.Seq != s.CarrierSeq // a new message, not the retry of the last one
	if back {
		s.Conversation, s.Carrier, s.Trail, s.Page = in.SessionID, in.Carrier, "", 0
		delete(s.Vars, resumeVar)
		delete(s.Vars, resumeNoteVar)
	}
	if in.Cumulative {
		s.Trail = in.Input
	}
	s.CarrierSeq = in.Seq
	chosen := s.Vars["language_chosen"] == true
	screen, err := g.Engine.Apply(ctx, s, flows.Input{Resume: back, Pages: g.pager(in), Confirm: st.confirm, Checkpoint: g.checkpoint(st, in)})
	return g.finish(ctx, st, in, screen, err, chosen)
}

// offerResume asks a citizen who dialled again whether to continue the
// conversation that dropped or to start over.
func (g *Gateway) offerResume(ctx context.Context, st *state, in Inbound) (Reply, error) {
	s := &st.s
	s.Conversation, s.Carrier, s.CarrierSeq, s.Trail, s.Page = in.SessionID, in.Carrier, in.Seq, "", 0
	if in.Cumulative {
		s.Trail = in.Input
	}
	s.Vars[resumeVar] = true
	delete(s.Vars, resumeNoteVar)
	s.Updated = g.now().UnixMilli()
	st.info.set(func(i *hopInfo) { i.outcome, i.flow = "resume", flowID(s) })
	return g.save(ctx, st, in, g.resumeScreen(s, ""))
}

func (g *Gateway) resumeScreen(s *sessions.Session, prefix string) flows.Screen {
	m := g.Engine.Messages
	text := m.Format(s.Locale, i18n.ResumePrompt, map[string]any{"Flow": g.Engine.Title(s)})
	if prefix != "" {
		text = prefix + "\n" + text
	}
	return flows.Screen{
		Text:   text,
		Locale: s.Locale,
		Retry:  prefix != "",
		Options: []flows.Option{
			{Key: "1", Label: m.Text(s.Locale, i18n.ResumeContinue)},
			{Key: "2", Label: m.Text(s.Locale, i18n.ResumeRestart)},
		},
		Nav: flows.Nav{
			More: flows.Option{Key: g.Engine.Nav.More, Label: m.Text(s.Locale, i18n.NavMore)},
			Prev: flows.Option{Key: g.Engine.Nav.Back, Label: m.Text(s.Locale, i18n.NavBack)},
		},
	}
}

// resumeChoice applies the answer to the resume offer.
func (g *Gateway) resumeChoice(ctx context.Context, st *state, in Inbound) (Reply, error) {
	s := &st.s
	text := in.Input
	if in.Cumulative {
		var dup bool
		text, s.Trail, dup = ussd.LatestInput(s.Trail, in.Input)
		if dup {
			note, _ := s.Vars[resumeNoteVar].(string)
			sc := g.resumeScreen(s, note)
			sc.Page = s.Page
			reply, _ := g.render(in, sc)
			return reply, nil
		}
	}
	switch text {
	case "1":
		delete(s.Vars, resumeVar)
		delete(s.Vars, resumeNoteVar)
		s.Page = 0
		screen, err := g.Engine.Apply(ctx, s, flows.Input{Redisplay: true, Pages: g.pager(in), Confirm: st.confirm, Checkpoint: g.checkpoint(st, in)})
		return g.finish(ctx, st, in, screen, err, s.Vars["language_chosen"] == true)
	case "2":
		g.abandoned(s)
		// A fresh start that has consumed the history so far ("2"), so
		// the next cumulative hop ("2*1") reads as one new answer.
		return g.startWith(ctx, st, in, "", nil)
	case g.Engine.Nav.More, g.Engine.Nav.Back:
		// The offer pages like a flow's screen, on the layout of the text
		// it was shown with.
		note, _ := s.Vars[resumeNoteVar].(string)
		sc := g.resumeScreen(s, note)
		switch {
		case text == g.Engine.Nav.More && s.Page+1 < g.pager(in)(&sc):
			s.Page++
		case text == g.Engine.Nav.Back && s.Page > 0:
			s.Page--
		case text == g.Engine.Nav.More:
			return g.resumeNote(ctx, st, in, i18n.NavNoMore)
		default:
			return g.resumeNote(ctx, st, in, i18n.NavNoBack)
		}
		sc.Page = s.Page
		return g.save(ctx, st, in, sc)
	}
	return g.resumeNote(ctx, st, in, i18n.InvalidOption)
}

// resumeNoteVar keeps the note the resume offer was last shown under.
const resumeNoteVar = "$resume_note"

// resumeNote shows the offer again from its first page, under a note.
func (g *Gateway) resumeNote(ctx context.Context, st *state, in Inbound, id string) (Reply, error) {
	s := &st.s
	note := g.Engine.Messages.Text(s.Locale, id)
	s.Vars[resumeNoteVar], s.Page = note, 0
	return g.save(ctx, st, in, g.resumeScreen(s, note))
}

// closed records that the carrier closed a session. The conversation is
// kept: a citizen whose session dropped can dial again and continue.
func (g *Gateway) closed(ctx context.Context, st *state, in Inbound) error {
	flow := ""
	if st.found {
		flow = flowOf(&st.s)
	}
	g.logger().Info("carrier closed the session", "carrier", in.Carrier, "status", in.EndStatus, "flow", flow)
	st.info.set(func(i *hopInfo) { i.outcome, i.flow = "closed", flowID(&st.s) })
	g.note(st.info, &st.s)
	if !st.found || st.s.Conversation != in.SessionID || st.s.Carrier != in.Carrier {
		return nil
	}
	g.abandoned(&st.s)
	// Late retries of the closed session now count as a new dial.
	st.s.Conversation = ""
	return g.put(ctx, st, in)
}

// errStore: the session store failed on the way (not a conflict).
var errStore = errors.New("session store")

// errEncoding: the session could not be encoded (a variable of a type the
// codec does not keep); a flow bug, not a store failure.
var errEncoding = errors.New("encoding session")

// encodeBuffers hold encoded sessions between encoding and the store's
// write; stores do not keep what Put is given.
var encodeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// put encodes the session and writes it with compare-and-set.
func (g *Gateway) put(ctx context.Context, st *state, in Inbound) error {
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
	rev, err := g.conversations().Put(ctx, st.key, data, st.rev, g.sessionTTL(in))
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
func (g *Gateway) checkpoint(st *state, in Inbound) func(context.Context) error {
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
func (g *Gateway) finish(ctx context.Context, st *state, in Inbound, screen flows.Screen, err error, chosenBefore bool) (Reply, error) {
	if errors.Is(err, sessions.ErrConflict) {
		return Reply{}, err // the session copy was stale: run the hop again
	}
	s := &st.s
	if errors.Is(err, errStore) {
		// The store could not confirm the session: it is not the flow's
		// fault, and the conversation stays for when the store is back.
		st.info.set(func(i *hopInfo) { i.flow = flowID(s) })
		g.logger().Error("session check failed", "carrier", in.Carrier, "err", err)
		return g.failure(s.Locale, i18n.ServiceUnavail), err
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
		reply, _ := g.render(in, g.Engine.Failure(s.Locale, i18n.TryAgain))
		return g.end(ctx, st, in, reply)
	}
	if !chosenBefore && s.Vars["language_chosen"] == true {
		g.saveLocale(ctx, s)
	}
	return g.save(ctx, st, in, screen)
}

func (g *Gateway) save(ctx context.Context, st *state, in Inbound, screen flows.Screen) (Reply, error) {
	s := &st.s
	reply, lastPage := g.render(in, screen)
	if screen.End && lastPage {
		return g.end(ctx, st, in, reply)
	}
	if err := g.put(ctx, st, in); err != nil {
		if errors.Is(err, sessions.ErrConflict) {
			return Reply{}, err
		}
		if errors.Is(err, errEncoding) {
			return g.failure(s.Locale, i18n.TryAgain), err
		}
		if errors.Is(err, errTooLarge) {
			g.logger().Error("flow outgrew its session; conversation ended", "carrier", in.Carrier, "flow", flowOf(s), "err", err)
			st.info.set(func(i *hopInfo) { i.outcome = "failure" })
			reply, _ := g.render(in, g.Engine.Failure(s.Locale, i18n.FlowTooLarge))
			return g.end(ctx, st, in, reply)
		}
		g.logger().Error("session write failed", "carrier", in.Carrier, "err", err)
		return g.failure(s.Locale, i18n.ServiceUnavail), fmt.Errorf("writing session: %w", err)
	}
	return reply, nil
}

// end replaces an ended conversation with the record of its last reply,
// kept for the conversation's TTL: a carrier that repeats the last
// request (it timed out, it retries) gets the same reply and nothing runs
// twice, on whichever instance it lands. The record keeps no answers, no
// variables and no place in a flow, so an ended conversation can never be
// resumed. A write that fails leaves the conversation to expire; the
// citizen still gets the reply.
func (g *Gateway) end(ctx context.Context, st *state, in Inbound, reply Reply) (Reply, error) {
	was := st.s
	if flows.EffectsMade(&was) {
		st.info.set(func(i *hopInfo) { i.result = reply.Text })
	}
	st.s = sessions.Session{
		Key: st.key, Phone: was.Phone, Channel: in.Channel, Carrier: in.Carrier, Locale: was.Locale,
		Conversation: in.SessionID, CarrierSeq: in.Seq, Started: was.Started, Updated: g.now().UnixMilli(),
		Ended: true, Vars: map[string]any{replyVar: reply.Text},
	}
	if err := g.put(ctx, st, in); err != nil {
		if errors.Is(err, sessions.ErrConflict) {
			return Reply{}, err
		}
		g.logger().Warn("ended conversation not recorded; it will expire", "carrier", in.Carrier, "err", err)
	}
	return reply, nil
}

// keepResult keeps, for the citizen's next contact (see Pending), the
// result of a conversation that made a back-end call with effects and
// ended in a hop whose reply comes too late: the citizen was told to try
// again, and would not otherwise learn that the turno was booked. The
// store may be what made the hop late, so the write is tried again, in
// the background, for as long as a citizen may dial back to resume.
func (g *Gateway) keepResult(in Inbound, info *hopInfo) {
	info.mu.Lock()
	text := info.result
	info.mu.Unlock()
	if text == "" || in.Phone == "" {
		return
	}
	keep := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), g.budget())
		defer cancel()
		// When the writes of the hop were lost, the conversation still
		// waits for the call, and the next contact finishes it and shows
		// the result: keeping it as well would show it twice.
		rec, err := g.Store.Get(ctx, Key(in))
		var s sessions.Session
		if err == nil && s.UnmarshalBinary(rec.Data) == nil && flows.CallPending(&s) {
			return nil
		}
		if err != nil && !errors.Is(err, sessions.ErrNotFound) {
			return err
		}
		return Pending{Store: g.Store}.Notify(ctx, in.Phone, "", text)
	}
	if keep() == nil {
		return
	}
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for give := time.Now().Add(g.resumeWindow()); time.Now().Before(give); {
			<-tick.C
			if keep() == nil {
				return
			}
		}
		g.logger().Warn("result of a late hop not kept for the next contact", "carrier", in.Carrier)
	}()
}

// flowID is the id of the flow a session is in, for metrics labels.
func flowID(s *sessions.Session) string {
	if f := s.Current(); f != nil {
		return f.Flow
	}
	return ""
}

func flowOf(s *sessions.Session) string {
	if f := s.Current(); f != nil {
		return fmt.Sprintf("%s@%d", f.Flow, f.Version)
	}
	return ""
}

// Tag is the hash tag in every key kept about a phone number. The Redis
// store turns it into a keyed digest of the number
// (sessions.RedisOptions.Tag), so that its key space names no one, and on
// a Redis Cluster it keeps a citizen's keys in one slot, where they can be
// read in one command. docs/privacy.md lists every key.
func Tag(phone string) string { return "{" + phone + "}" }

// ProfileKey is the store key of what is remembered about a phone number.
func ProfileKey(phone string) string { return "profile:" + Tag(phone) }

// PreferenceKey is the store key of the text channel a citizen last used
// ("sms", "whatsapp", "telegram"): where notifications reach them.
func PreferenceKey(phone string) string { return "pref:" + Tag(phone) }

// savePreference remembers the text channel a citizen starts a
// conversation on; once per conversation, not per hop.
func (g *Gateway) savePreference(ctx context.Context, in Inbound) {
	if in.Channel == "ussd" || in.Phone == "" {
		return
	}
	pref := "sms"
	switch in.Carrier {
	case "whatsapp", "telegram":
		pref = in.Carrier
	}
	if err := g.Store.Set(ctx, PreferenceKey(in.Phone), []byte(pref), g.profileTTL()); err != nil {
		g.storeError("remembering the citizen's channel", err)
	}
}

// citizen reads what is kept about a number that starts a conversation —
// the language they chose and a result kept for them (see Pending) — in
// one round trip when the store can (sessions.MultiGetter). A store that
// fails leaves the defaults: the conversation can start without them.
func (g *Gateway) citizen(ctx context.Context, phone string) (locale string, chosen bool, pending []byte) {
	locale = g.defaultLocale()
	if phone == "" {
		return locale, false, nil
	}
	var profile, kept sessions.Record
	if mg, ok := g.Store.(sessions.MultiGetter); ok {
		recs, err := mg.GetMulti(ctx, ProfileKey(phone), PendingKey(phone))
		if err != nil {
			g.storeError("reading the citizen's profile", err)
			return locale, false, nil
		}
		profile, kept = recs[0], recs[1]
	} else {
		var err error
		if profile, err = g.Store.Get(ctx, ProfileKey(phone)); err != nil && !errors.Is(err, sessions.ErrNotFound) {
			g.storeError("reading the citizen's profile", err)
		}
		if kept, err = g.Store.Get(ctx, PendingKey(phone)); err != nil && !errors.Is(err, sessions.ErrNotFound) {
			g.storeError("reading a result kept for the citizen", err)
		}
	}
	if l := string(profile.Data); l != "" && g.Engine.Messages.Has(l, i18n.LanguageName) {
		locale, chosen = l, true
	}
	return locale, chosen, kept.Data
}

// loadLocale sets the session's locale from the citizen's remembered
// choice and reports whether there was one.
func (g *Gateway) loadLocale(ctx context.Context, s *sessions.Session) bool {
	s.Locale = g.defaultLocale()
	if s.Phone == "" {
		return false
	}
	rec, err := g.Store.Get(ctx, ProfileKey(s.Phone))
	if err != nil && !errors.Is(err, sessions.ErrNotFound) {
		g.storeError("reading the citizen's profile", err)
	}
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
		g.storeError("remembering the citizen's language", err)
	}
}

func (g *Gateway) limit(in Inbound) int {
	if in.Limit > 0 {
		return in.Limit
	}
	return ussd.DefaultLimit
}

// pager tells the engine how many pages a screen takes on the hop's channel.
func (g *Gateway) pager(in Inbound) func(*flows.Screen) int {
	switch in.Channel {
	case "sms":
		opts := g.SMS
		return func(s *flows.Screen) int { return sms.Pages(s, opts) }
	case "chat":
		opts := g.Chat
		return func(s *flows.Screen) int { return chat.Pages(s, opts) }
	}
	limit := g.limit(in)
	return func(s *flows.Screen) int { return ussd.Pages(s, limit) }
}

// render lays the screen out for the channel and reports whether the page
// shown is its last: a final screen ends the conversation only there.
func (g *Gateway) render(in Inbound, s flows.Screen) (Reply, bool) {
	var text string
	var pages int
	switch in.Channel {
	case "sms":
		text, pages = sms.Render(&s, g.SMS), sms.Pages(&s, g.SMS)
	case "chat":
		m := chat.Render(&s, g.Chat)
		pages = chat.Pages(&s, g.Chat)
		last := s.Page >= pages-1
		r := Reply{Text: m.Text, End: s.End && last}
		for _, row := range m.Buttons {
			out := make([]Button, len(row))
			for i, b := range row {
				out[i] = Button{Label: b.Label, Data: b.Data}
			}
			r.Buttons = append(r.Buttons, out)
		}
		return r, last
	default:
		text, pages = ussd.Render(&s, g.limit(in))
	}
	last := s.Page >= pages-1
	return Reply{Text: text, End: s.End && last}, last
}

func (g *Gateway) failure(locale, id string) Reply {
	return Reply{Text: g.Engine.Messages.Text(locale, id), End: true}
}

// storeError logs a store failure the hop survives, once per kind a minute.
func (g *Gateway) storeError(what string, err error) {
	g.storeErrs.log(g.logger(), time.Now(), what, err)
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

func (g *Gateway) resumeWindow() time.Duration {
	if g.ResumeWindow > 0 {
		return g.ResumeWindow
	}
	return 5 * time.Minute
}

// sessionTTL keeps a USSD conversation at least as long as it can be
// resumed, and a text conversation for TextTTL.
func (g *Gateway) sessionTTL(in Inbound) time.Duration {
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

func (g *Gateway) profileTTL() time.Duration {
	if g.ProfileTTL > 0 {
		return g.ProfileTTL
	}
	return 400 * 24 * time.Hour
}
