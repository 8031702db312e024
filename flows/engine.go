package flows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/quiet"
)

// NavKeys are the inputs that navigate instead of answering. They are the
// same on every channel and every screen that waits for the citizen.
type NavKeys struct {
	Back string // previous page, else previous screen
	Home string // the start of the conversation's first flow
	More string // next page of a screen split into pages
}

// DefaultNav is the navigation most USSD services use.
var DefaultNav = NavKeys{Back: "0", Home: "00", More: "98"}

// Observer hears which steps conversations reach and complete, for the
// per-step funnel of each flow. Calls happen on the hop, so they must be
// cheap and must not block.
type Observer interface {
	StepReached(flow, step string)
	StepCompleted(flow, step string)
	// Call reports one back-end call: its service, outcome and duration.
	Call(service, outcome string, d time.Duration)
}

// Counter hears what the published indicators count: a conversation
// entering a flow (at its start or through a goto), reaching an end step
// and rating the service. It learns the conversation's channel, carrier
// and language, never who the citizen is. Calls happen on the hop, so
// they must be cheap and must not block.
type Counter interface {
	Entered(c Conversation, flow, institution string)
	// Ended reports an end step reached; completed is the step's
	// `completed`.
	Ended(c Conversation, flow, institution, step string, completed bool)
}

// Conversation is what a Counter learns of a conversation.
type Conversation struct {
	Channel, Carrier, Locale string
	Hops                     int           // hops so far
	Duration                 time.Duration // since the conversation started
}

// Engine runs hops. It holds no conversation state: everything a hop needs
// is in the session it is given, so any instance can serve any hop.
type Engine struct {
	Flows    func() *Registry // current flows; called once per hop
	Messages Messages
	Caller   Caller
	Now      func() time.Time
	Nav      NavKeys
	Root     string // flow that starts when nothing else is asked for
	// MaxAutoSteps bounds the steps one hop may run without waiting for the
	// citizen, so a loop in a flow cannot hold a hop forever.
	MaxAutoSteps int
	// MaxHistory bounds the back stack kept in the session.
	MaxHistory int
	// Observer, when set, hears the step funnel.
	Observer Observer
	// Counter, when set, hears flows entered and ended, for the
	// indicators; a Counter that is also a Rater hears ratings.
	Counter Counter
	// Ratings, when set, keeps a number from being asked to rate a flow
	// twice within the rate step's period, across instances.
	Ratings Ratings
	// Sample draws a number in [0, 1) for the rate step's sample
	// (default math/rand).
	Sample func() float64
	// Notifier delivers results of async calls; without one, async calls
	// are waited for like any other.
	Notifier Notifier
	// AsyncMargin is how long before the hop's deadline an async call stops
	// being waited for (default 500 ms): time to say so and save.
	AsyncMargin time.Duration
	// AsyncTimeout bounds an async call and the rest of its flow once the
	// hop has moved on (default 2 minutes).
	AsyncTimeout time.Duration
	// Later runs the rest of a flow once an async call has outlasted its
	// hop (default: on a goroutine of its own). Transcripts run it when
	// the hop is over, to check the late result it sends.
	Later func(func())
	// Log receives one record per back-end call, without personal data.
	Log *slog.Logger
	// Recorder, when set, gets every back-end call for the audit trail.
	Recorder Recorder
	// OTP sends the one-time codes of level 2 flows by SMS; without it a
	// level 2 flow tells the citizen verification is not available.
	OTP Notifier
	// SMS queues the texts of sms steps to the citizen, each under its
	// key; without it (no SMS carrier) an sms step fails.
	SMS SMSSender
	// Codes draws one-time codes (default: 6 random digits).
	Codes func() string
	// PINs, when set, lets citizens prove level 2 with a PIN they set
	// after a one-time code.
	PINs PINs
	// Reminders keeps what remind steps schedule; without it a remind
	// step fails.
	Reminders Reminders
	// Zone is the offices' time zone of remind steps that name none
	// (default America/Guayaquil); Quiet, their quiet hours (default
	// 21:00-07:00; its Zone is the step's).
	Zone  *time.Location
	Quiet *quiet.Hours
}

// Input is what a hop brings to the engine.
type Input struct {
	Text string
	// Start is the flow a new conversation starts with; "" means Root.
	Start string
	// Vars are set when the conversation starts (e.g. language_chosen).
	Vars map[string]any
	// Redisplay shows the current screen again without applying Text: the
	// answer to a carrier retrying a hop it already sent.
	Redisplay bool
	// Pages tells how many pages the channel needs for a screen, so that
	// "more" and "back" can move between them; nil means one page.
	Pages func(*Screen) int
	// Confirm, when set, is called once, before the hop's first effect
	// that a re-run could not take back: a back-end call, a one-time code
	// sent, a PIN checked or set. The gateway sets it when the session
	// came from an instance's own copy, to make sure no other instance
	// has moved the conversation on; its error ends Apply.
	Confirm func(context.Context) error
	// Checkpoint, when set, is called before a back-end call that changes
	// something (see Effects), with the session marked as waiting for that
	// call (CallPending): the gateway stores it, so that whichever hop
	// comes next — the carrier's retry, another instance, the citizen
	// dialling back — finishes the call with the same idempotency key
	// instead of answering the step before it again. Its error ends Apply
	// before the call is made.
	Checkpoint func(context.Context) error
	// Conversation, when set on the first hop, is the conversation's id
	// in the idempotency keys of its back-end calls (drawn at random
	// otherwise): the gateway sets one per question answered, so that
	// every run of the answer's flow — on a carrier's retry, on another
	// instance — makes its calls under the same keys.
	Conversation string
	// Resume: the citizen came back (a new dial or message) to a
	// conversation whose hop stopped during a call; the call is finished
	// and its result shown under a note that it had been made before.
	Resume bool
}

// ErrNoFlow: the session's flow (or version) is not loaded.
var ErrNoFlow = errors.New("flows: flow not loaded")

// MaxNesting is how many flows a conversation may have open at once, the
// first and those gotos opened; the lint refuses gotos that could go deeper.
const MaxNesting = 8

// Apply runs one hop: it applies the input to the session and runs the
// flow until a step waits for the citizen or the conversation ends. The
// session is changed in place; on an error the caller must not save it and
// shows Failure instead.
func (e *Engine) Apply(ctx context.Context, s *conversation.State, in Input) (Screen, error) {
	reg := e.Flows()
	h := hop{e: e, s: s, ctx: ctx, reg: reg, in: &in}
	now := e.now().UnixMilli()
	s.Seq++
	s.Updated = now
	if s.Vars == nil {
		s.Vars = make(map[string]any, 8)
	}
	if len(s.Frames) == 0 {
		start := in.Start
		if start == "" || reg.Latest(start) == nil {
			start = e.Root
		}
		cf := reg.Latest(start)
		if cf == nil {
			return Screen{}, fmt.Errorf("starting %q: %w", start, ErrNoFlow)
		}
		s.Started = now
		for k, v := range in.Vars {
			s.Vars[k] = v
		}
		if in.Conversation != "" {
			s.Vars[convVar] = in.Conversation
		}
		s.Vars["phone"] = s.Phone
		s.Vars["channel"] = s.Channel
		s.Vars["locale"] = s.Locale
		s.Frames = append(s.Frames, conversation.Frame{Flow: cf.ID, Version: cf.Version, Step: cf.Start.ID})
		h.entered(cf)
		if sc, stop, err := h.gate(cf, ""); err != nil || stop {
			return sc, err
		}
		return h.goTo(cf, cf.Start.ID)
	}
	cur := s.Current()
	cf := reg.Version(cur.Flow, cur.Version)
	if cf == nil {
		return Screen{}, fmt.Errorf("session on %s@%d: %w", cur.Flow, cur.Version, ErrNoFlow)
	}
	step := cf.Steps[cur.Step]
	if step == nil {
		return Screen{}, fmt.Errorf("session on %s@%d step %q: %w", cur.Flow, cur.Version, cur.Step, ErrNoFlow)
	}
	if _, isCall := step.body.(*callStep); isCall && CallPending(s) {
		// The hop that stored this session may have made the call: make
		// it again with the same idempotency key, which a back-end answers
		// as it did the first time, and go on from its result.
		if in.Resume {
			h.say(e.messages(cf).Text(s.Locale, i18n.ResumeDone))
		}
		return h.goTo(cf, step.ID)
	}
	if closing, ok := s.Vars[closingVar].(string); ok {
		return h.closing(closing, strings.TrimSpace(in.Text)), nil
	}
	if _, ok := s.Vars[otpVar]; ok && !in.Redisplay {
		return h.verifyOTP(strings.TrimSpace(in.Text))
	}
	if _, ok := s.Vars[pinVar]; ok && !in.Redisplay {
		return h.verifyPIN(strings.TrimSpace(in.Text))
	}
	if _, ok := s.Vars[newPINVar]; ok && !in.Redisplay {
		return h.createPIN(strings.TrimSpace(in.Text))
	}
	if in.Redisplay {
		return h.reshow(cf, step)
	}
	// The navigation keys are never answers: where one does not apply,
	// the screen comes back from its first page, with a note saying why
	// for More and Back (Home there is where the citizen already is).
	text := strings.TrimSpace(in.Text)
	switch text {
	case e.Nav.Home:
		if h.canGoHome() {
			root := reg.Version(s.Frames[0].Flow, s.Frames[0].Version)
			if root != nil {
				s.Frames = s.Frames[:1]
				s.History = s.History[:0]
				s.Page, s.Retries = 0, 0
				return h.goTo(root, root.Start.ID)
			}
		}
		// Already at the start: its screen afresh.
		s.Page = 0
		return h.show(cf, step, "")
	case e.Nav.Back:
		if s.Page > 0 {
			s.Page--
			return h.reshow(cf, step)
		}
		if n := len(s.History); n > 0 {
			m := s.History[n-1]
			s.History = s.History[:n-1]
			if m.Depth >= 1 && m.Depth <= len(s.Frames) {
				s.Frames = s.Frames[:m.Depth]
				s.Frames[m.Depth-1].Step = m.Step
				s.Page, s.Retries = 0, 0
				top := s.Current()
				if back := reg.Version(top.Flow, top.Version); back != nil && back.Steps[m.Step] != nil {
					return h.show(back, back.Steps[m.Step], "")
				}
			}
		}
		return h.navNote(cf, step, i18n.NavNoBack)
	case e.Nav.More:
		sc, err := h.reshow(cf, step)
		if err != nil {
			return Screen{}, err
		}
		if in.Pages != nil && s.Page+1 < in.Pages(&sc) {
			s.Page++
			sc.Page = s.Page
			return sc, nil
		}
		h.pending.Reset()
		return h.navNote(cf, step, i18n.NavNoMore)
	}
	if w, ok := step.body.(waiting); ok {
		return w.answer(&h, cf, step, text)
	}
	return Screen{}, fmt.Errorf("session waits at %s step %q: %w", step.Kind, step.ID, ErrNoFlow)
}

// Title returns the title of the flow the session is in, in its locale:
// what a citizen is reminded of when offered to resume.
func (e *Engine) Title(s *conversation.State) string {
	cur := s.Current()
	if cur == nil {
		return ""
	}
	cf := e.Flows().Version(cur.Flow, cur.Version)
	if cf == nil {
		return cur.Flow
	}
	h := hop{e: e, s: s}
	return h.render(cf, &cf.Title, nil)
}

// Failure is the screen shown when a hop cannot be served: a short,
// localised apology that ends the conversation.
func (e *Engine) Failure(locale, id string) Screen {
	return Screen{Text: e.Messages.Text(locale, id), End: true, Locale: locale}
}

// FailureFor is Failure in the words of the flow s is in (MessagesFor).
func (e *Engine) FailureFor(s *conversation.State, id string) Screen {
	return Screen{Text: e.MessagesFor(s).Text(s.Locale, id), End: true, Locale: s.Locale}
}

// MessagesFor returns the system messages said to the conversation s:
// those of the flow it is in, which are its institution's own texts laid
// over Messages where it has some (Env.MessagesOf), else Messages.
func (e *Engine) MessagesFor(s *conversation.State) Messages {
	cur := s.Current()
	if cur == nil {
		return e.Messages
	}
	return e.messages(e.Flows().Version(cur.Flow, cur.Version))
}

// messages are the system messages said in flow cf, which may be nil.
func (e *Engine) messages(cf *Compiled) Messages {
	if cf != nil && cf.msgs != nil {
		return cf.msgs
	}
	return e.Messages
}

// messages are the system messages of the flow the conversation is in,
// or of the flow a gate asks a code or a PIN for.
func (h *hop) messages() Messages {
	if h.gating != nil {
		return h.e.messages(h.gating)
	}
	cur := h.s.Current()
	if cur == nil || h.reg == nil {
		return h.e.Messages
	}
	return h.e.messages(h.reg.Version(cur.Flow, cur.Version))
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// hop is the work of one Apply.
type hop struct {
	e       *Engine
	s       *conversation.State
	ctx     context.Context
	reg     *Registry
	in      *Input
	pending strings.Builder // texts of message steps and errors, shown above the next screen
	budget  *buildBudget    // what the hop's expressions may still build
	evals   int             // expressions evaluated so far
	// gating: the flow whose level the hop is checking (gate), whose
	// system messages speak until it starts.
	gating *Compiled
	// confirmed: Input.Confirm has been called and passed.
	confirmed bool
	// late: the hop runs the rest of a flow after an async call outlasted
	// the conversation; its text goes out by SMS, and nothing is asked.
	// (The two flags side by side keep a hop within its size class.)
	late bool
}

// confirm calls Input.Confirm before the hop's first irreversible effect.
func (h *hop) confirm() error {
	if h.confirmed || h.in.Confirm == nil {
		return nil
	}
	if err := h.in.Confirm(h.ctx); err != nil {
		return err
	}
	h.confirmed = true
	return nil
}

// canGoHome: Home is offered once the citizen has left the first screen.
func (h *hop) canGoHome() bool {
	return len(h.s.History) > 0 || len(h.s.Frames) > 1
}

func (h *hop) say(text string) {
	if text == "" {
		return
	}
	if h.pending.Len() > 0 {
		h.pending.WriteByte('\n')
	}
	h.pending.WriteString(text)
}

// render returns a text in the session's locale, falling back to the
// flow's first locale.
func (h *hop) render(cf *Compiled, t *Text, item any) string {
	if !t.set {
		return ""
	}
	loc := h.s.Locale
	if t.tmpl == nil && t.MsgID != "" {
		return h.e.messages(cf).Text(loc, t.MsgID)
	}
	tp, ok := t.tmpl[loc]
	if !ok && len(cf.Locales) > 0 {
		// Numbers and dates are written as the words around them are.
		loc = cf.Locales[0]
		tp, ok = t.tmpl[loc]
	}
	if !ok {
		return ""
	}
	if lit, ok := tp.literal(); ok {
		// A text without holes (most labels: every option of the
		// national menu) is its one literal, shared, not copied.
		return lit
	}
	var b strings.Builder
	b.Grow(tp.Len() + 16)
	tp.render(&b, loc, h.s.Vars, item)
	return b.String()
}

// eval runs an expression within the hop's budget: the strings its
// expressions build together, and how many evaluations it makes.
func (h *hop) eval(e *Expr) (any, error) {
	if e.prog == nil {
		return nil, nil
	}
	if h.budget == nil {
		h.budget = newBuildBudget()
	}
	if h.evals++; h.evals > maxHopEvals {
		return nil, fmt.Errorf("%w: more than %d evaluations in one hop", ErrBudget, maxHopEvals)
	}
	if h.s.Vars == nil {
		h.s.Vars = map[string]any{}
	}
	h.s.Vars[budgetVar] = h.budget
	defer delete(h.s.Vars, budgetVar)
	return runBounded(e.prog, h.s.Vars)
}

func (h *hop) holds(e *Expr) bool {
	if e.prog == nil {
		return true
	}
	v, err := h.eval(e)
	b, _ := v.(bool)
	return err == nil && b
}

// next follows an event from a step through the flow's state machine and
// runs what comes after.
func (h *hop) next(cf *Compiled, from *Step, event string) (Screen, error) {
	to, ok := cf.transition(from.ID, event)
	if !ok {
		return Screen{}, fmt.Errorf("%s step %q has no route for %q", cf, from.ID, event)
	}
	return h.goTo(cf, to)
}

// goTo runs steps from id until one waits for the citizen or the
// conversation ends.
func (h *hop) goTo(cf *Compiled, id string) (Screen, error) {
	s := h.s
	limit := h.e.MaxAutoSteps
	if limit <= 0 {
		limit = 64
	}
	for range limit {
		st := cf.Steps[id]
		if st == nil {
			return Screen{}, fmt.Errorf("%s has no step %q: %w", cf, id, ErrNoFlow)
		}
		s.Current().Step = id
		s.Page, s.Retries = 0, 0
		if o := h.e.Observer; o != nil {
			o.StepReached(cf.ID, id)
		}
		sc, on, err := st.body.run(h, cf, st)
		if err != nil {
			return Screen{}, err
		}
		if on.cf == nil { // the step shows sc and the hop ends
			return sc, nil
		}
		cf = on.cf
		if on.event == "" { // into another flow
			id = on.to
			continue
		}
		to, ok := cf.transition(on.from.ID, on.event)
		if !ok {
			return Screen{}, fmt.Errorf("%s step %q has no route for %q", cf, on.from.ID, on.event)
		}
		if o := h.e.Observer; o != nil {
			o.StepCompleted(cf.ID, on.from.ID)
		}
		id = to
	}
	return Screen{}, fmt.Errorf("%s: more than %d steps without waiting for the citizen", cf, limit)
}

func (h *hop) assign(name string, v any) {
	if name == "locale" {
		if loc, ok := v.(string); ok && h.e.Messages.Has(loc, i18n.LanguageName) {
			h.s.Locale = loc
			h.s.Vars["locale"] = loc
			h.s.Vars["language_chosen"] = true
		}
		return
	}
	h.s.Vars[name] = v
}

// advance records the step just answered on the back stack and follows event.
func (h *hop) advance(cf *Compiled, st *Step, event string) (Screen, error) {
	s := h.s
	if o := h.e.Observer; o != nil {
		o.StepCompleted(cf.ID, st.ID)
	}
	s.History = append(s.History, conversation.Mark{Depth: len(s.Frames), Step: st.ID})
	if max := h.e.MaxHistory; max > 0 && len(s.History) > max {
		s.History = append(s.History[:0], s.History[len(s.History)-max:]...)
	}
	return h.next(cf, st, event)
}

// entered tells the Counter that the conversation entered cf.
func (h *hop) entered(cf *Compiled) {
	if c := h.e.Counter; c != nil {
		c.Entered(h.counted(), cf.ID, cf.Institution)
	}
}

// completedVar holds the flow whose trámite the conversation has been
// counted as completed in (at a rate step that says so), so that the end
// step after the question does not count it again.
const completedVar = "$completed"

// complete counts the conversation as a completed trámite of cf at step,
// once.
func (h *hop) complete(cf *Compiled, step string) {
	if h.s.Vars[completedVar] == cf.ID {
		return
	}
	h.s.Vars[completedVar] = cf.ID
	if c := h.e.Counter; c != nil {
		c.Ended(h.counted(), cf.ID, cf.Institution, step, true)
	}
}

// Completed reports whether the conversation s was counted as a
// completed trámite at a question that follows its result (a rate step
// declared `completed`): leaving it at the question is not abandoning the
// trámite, and the result was shown above the question.
func Completed(s *conversation.State) bool {
	f := s.Current()
	return f != nil && s.Vars[completedVar] == f.Flow
}

// Notice is what the current screen of s shows above its step's own
// text: the result of the trámite above a rating question.
func Notice(s *conversation.State) string {
	n, _ := s.Vars[noticeVar].(string)
	return n
}

// counted is the conversation as a Counter learns it.
func (h *hop) counted() Conversation {
	s := h.s
	c := Conversation{Channel: s.Channel, Carrier: s.Carrier, Locale: s.Locale, Hops: s.Seq}
	if s.Started > 0 {
		c.Duration = time.Duration(s.Updated-s.Started) * time.Millisecond
	}
	return c
}
