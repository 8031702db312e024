package flows

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/i18n"
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

// Recorder receives one record per back-end call, for the access audit
// trail: who (the session), which flow, version and step, what service,
// how it ended. It must not block the hop.
type Recorder interface {
	RecordCall(s *conversation.State, flow string, version int, step, service string, resp Response)
}

// Notifier delivers a text to a citizen outside the conversation: the
// result of a call marked `async: sms` that outlasted its hop.
type Notifier interface {
	Notify(ctx context.Context, phone, locale, text string) error
}

// Promiser is a Notifier that says what the citizen is promised when an
// async call outlasts its hop: the id of a system message. A Notifier
// without it sends by SMS (i18n.AsyncSMS); one that keeps the result for
// the citizen's next contact says so (i18n.AsyncNextContact).
type Promiser interface {
	Promise() string
}

// Ways a late result (see Notifier) reaches the citizen, for Env.LateResults.
const (
	LateBySMS         = "sms"          // an SMS carrier sends it
	LateAtNextContact = "next-contact" // shown at the top of the citizen's next conversation
)

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
	// Notifier delivers results of async calls; without one, async calls
	// are waited for like any other.
	Notifier Notifier
	// AsyncMargin is how long before the hop's deadline an async call stops
	// being waited for (default 500 ms): time to say so and save.
	AsyncMargin time.Duration
	// AsyncTimeout bounds an async call and the rest of its flow once the
	// hop has moved on (default 2 minutes).
	AsyncTimeout time.Duration
	// Log receives one record per back-end call, without personal data.
	Log *slog.Logger
	// Recorder, when set, gets every back-end call for the audit trail.
	Recorder Recorder
	// OTP sends the one-time codes of level 2 flows by SMS; without it a
	// level 2 flow tells the citizen verification is not available.
	OTP Notifier
	// Codes draws one-time codes (default: 6 random digits).
	Codes func() string
	// PINs, when set, lets citizens prove level 2 with a PIN they set
	// after a one-time code.
	PINs PINs
}

// PINs keeps citizens' PINs for level 2 flows; Check returns ErrPINLocked
// after repeated failures.
type PINs interface {
	Has(ctx context.Context, phone string) (bool, error)
	Check(ctx context.Context, phone, pin string) (bool, error)
	Set(ctx context.Context, phone, pin string) error
}

// ErrPINLocked: too many wrong PINs; the PIN is locked for a while.
var ErrPINLocked = errors.New("flows: PIN locked after repeated failures")

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
	// Resume: the citizen came back (a new dial or message) to a
	// conversation whose hop stopped during a call; the call is finished
	// and its result shown under a note that it had been made before.
	Resume bool
}

// Variables of back-end calls; "$" keeps flows from them.
const (
	callVar  = "$call"  // the call step a stored session is waiting for
	callsVar = "$calls" // calls with effects completed so far
	convVar  = "$conv"  // the conversation's id, for idempotency keys
)

// EffectsMade reports whether a back-end call that changes something was
// made in the conversation s.
func EffectsMade(s *conversation.State) bool {
	n, _ := s.Vars[callsVar].(int64)
	return n > 0
}

// CallPending reports whether s was stored just before a back-end call
// that changes something, and no hop has stored its result since: the
// call may have been made, and the next hop must finish it (Apply does)
// rather than offer the step before it again.
func CallPending(s *conversation.State) bool {
	_, ok := s.Vars[callVar]
	return ok
}

// ErrNoFlow: the session's flow (or version) is not loaded.
var ErrNoFlow = errors.New("flows: flow not loaded")

// MaxNesting is how many flows a conversation may have open at once, the
// first and those gotos opened; the lint refuses gotos that could go deeper.
const MaxNesting = 8

const (
	defaultRetries = 3
	defaultListMax = 9
)

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
		s.Vars["phone"] = s.Phone
		s.Vars["channel"] = s.Channel
		s.Vars["locale"] = s.Locale
		s.Frames = append(s.Frames, conversation.Frame{Flow: cf.ID, Version: cf.Version, Step: cf.Start.ID})
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
	if CallPending(s) && step.Kind == "call" {
		// The hop that stored this session may have made the call: make
		// it again with the same idempotency key, which a back-end answers
		// as it did the first time, and go on from its result.
		if in.Resume {
			h.say(e.Messages.Text(s.Locale, i18n.ResumeDone))
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
	switch step.Kind {
	case "menu":
		return h.answerMenu(cf, step, text)
	case "list":
		return h.answerList(cf, step, text)
	case "input":
		return h.answerInput(cf, step, text)
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
	// confirmed: Input.Confirm has been called and passed.
	confirmed bool
	budget    *buildBudget // what the hop's expressions may still build
	evals     int          // expressions evaluated so far
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
		return h.e.Messages.Text(loc, t.MsgID)
	}
	tp, ok := t.tmpl[loc]
	if !ok && len(cf.Locales) > 0 {
		tp, ok = t.tmpl[cf.Locales[0]]
	}
	if !ok {
		return ""
	}
	var b strings.Builder
	b.Grow(tp.Len() + 16)
	tp.render(&b, h.s.Vars, item)
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
		var event string
		switch st.Kind {
		case "menu", "input":
			return h.show(cf, st, "")
		case "list":
			if items, _ := h.items(st); len(items) > 0 {
				return h.show(cf, st, "")
			}
			if st.Empty.ID == "" {
				h.say(h.render(cf, &st.Text, nil))
				return h.finish(), nil
			}
			event = "empty"
		case "message":
			h.say(h.render(cf, &st.Text, nil))
			event = "next"
		case "set":
			for _, a := range st.Assign {
				v, err := h.eval(&a.Expr)
				if err != nil {
					return Screen{}, fmt.Errorf("%s step %q: %s: %w", cf, id, a.Name, err)
				}
				h.assign(a.Name, v)
			}
			event = "next"
		case "branch":
			event = "default"
			for i, c := range st.Cases {
				if h.holds(&c.When) {
					event = "case:" + strconv.Itoa(i+1)
					break
				}
			}
		case "call":
			if err := h.confirm(); err != nil {
				return Screen{}, err
			}
			if err := h.checkpoint(st); err != nil {
				return Screen{}, err
			}
			var outcome string
			outcome, event = h.call(cf, st)
			if h.e.effects(st.Service) {
				delete(s.Vars, callVar)
				n, _ := s.Vars[callsVar].(int64)
				s.Vars[callsVar] = n + 1
			}
			if outcome == asyncOutcome {
				h.say(h.e.Messages.Text(s.Locale, h.e.promise()))
				return h.finish(), nil
			}
			if event == "" {
				h.say(h.e.Messages.Text(s.Locale, "call."+outcome))
				return h.finish(), nil
			}
		case "goto":
			child := h.reg.Latest(st.Flow.ID)
			if child == nil {
				return Screen{}, fmt.Errorf("%s step %q: goto %q: %w", cf, id, st.Flow.ID, ErrNoFlow)
			}
			if len(s.Frames) >= MaxNesting {
				return Screen{}, fmt.Errorf("%s step %q: gotos nested deeper than %d", cf, id, MaxNesting)
			}
			if sc, stop, err := h.gate(child, st.ID); err != nil || stop {
				return sc, err
			}
			s.Frames = append(s.Frames, conversation.Frame{Flow: child.ID, Version: child.Version, Step: child.Start.ID, Return: st.ID})
			cf, id = child, child.Start.ID
			continue
		case "end":
			h.say(h.render(cf, &st.Text, nil))
			if o := h.e.Observer; o != nil {
				o.StepCompleted(cf.ID, id)
			}
			if len(s.Frames) == 1 {
				return h.finish(), nil
			}
			ret := s.Current().Return
			s.Frames = s.Frames[:len(s.Frames)-1]
			depth := len(s.Frames)
			for len(s.History) > 0 && s.History[len(s.History)-1].Depth > depth {
				s.History = s.History[:len(s.History)-1]
			}
			parent := s.Current()
			cf = h.reg.Version(parent.Flow, parent.Version)
			if cf == nil {
				return Screen{}, fmt.Errorf("returning to %s@%d: %w", parent.Flow, parent.Version, ErrNoFlow)
			}
			gotoStep := cf.Steps[ret]
			if gotoStep == nil || gotoStep.Next.ID == "" {
				return h.finish(), nil
			}
			st, event = gotoStep, "return"
		}
		to, ok := cf.transition(st.ID, event)
		if !ok {
			return Screen{}, fmt.Errorf("%s step %q has no route for %q", cf, st.ID, event)
		}
		if o := h.e.Observer; o != nil {
			o.StepCompleted(cf.ID, st.ID)
		}
		id = to
	}
	return Screen{}, fmt.Errorf("%s: more than %d steps without waiting for the citizen", cf, limit)
}

// Variables of a pending one-time code; "$" keeps flows from them.
const (
	otpVar      = "$otp"       // hash of the code sent
	otpAtVar    = "$otp_at"    // when it was sent, unix ms
	otpFlowVar  = "$otp_flow"  // the level 2 flow waiting for it
	otpGotoVar  = "$otp_goto"  // the goto step that leads there ("" at the start)
	otpTriesVar = "$otp_tries" // wrong codes so far
	levelVar    = "$level"     // the level the citizen has proved
	pinVar      = "$pin"       // waiting for the citizen's PIN
	newPINVar   = "$pin_new"   // offering to create a PIN
)

const (
	otpTTL   = 5 * time.Minute
	otpTries = 3
)

// gate checks a flow's authentication level before it starts. Level 1
// needs a number the carrier verified, which USSD and SMS always give and
// chat platforms give once the citizen shares it. Level 2 also needs a
// one-time code sent to that number by SMS: gate sends it and asks for it,
// and the flow starts once it is typed (verifyOTP). stop is true when the
// flow must not start now; sc is then what the citizen sees.
func (h *hop) gate(cf *Compiled, gotoStep string) (sc Screen, stop bool, err error) {
	s := h.s
	if cf.Level >= 1 && s.Phone == "" {
		h.say(h.e.Messages.Text(s.Locale, i18n.AuthNeedsNumber))
		return h.finish(), true, nil
	}
	if cf.Level < 2 || s.Vars[levelVar] == int64(2) {
		return Screen{}, false, nil
	}
	s.Vars[otpFlowVar] = cf.ID + "@" + strconv.Itoa(cf.Version)
	s.Vars[otpGotoVar] = gotoStep
	if p := h.e.PINs; p != nil {
		if has, err := p.Has(h.ctx, s.Phone); err == nil && has {
			s.Vars[pinVar] = true
			return h.prompt(i18n.AuthPINPrompt, ""), true, nil
		}
	}
	if err := h.confirm(); err != nil {
		return Screen{}, true, err
	}
	code := h.e.code()
	if h.e.OTP == nil || h.e.OTP.Notify(h.ctx, s.Phone, s.Locale, h.e.Messages.Format(s.Locale, i18n.AuthCodeSMS, map[string]any{"Code": code})) != nil {
		h.say(h.e.Messages.Text(s.Locale, i18n.AuthUnavailable))
		return h.finish(), true, nil
	}
	s.Vars[otpVar] = otpHash(s.Phone, code)
	s.Vars[otpAtVar] = h.e.now().UnixMilli()
	s.Vars[otpTriesVar] = int64(0)
	return h.otpScreen(""), true, nil
}

func (h *hop) otpScreen(prefix string) Screen { return h.prompt(i18n.AuthCodePrompt, prefix) }

// prompt is a screen asking for a typed answer outside any flow step.
func (h *hop) prompt(id, prefix string) Screen {
	h.say(prefix)
	h.say(h.e.Messages.Text(h.s.Locale, id))
	return Screen{Text: h.pending.String(), Locale: h.s.Locale, Retry: prefix != "",
		Nav: Nav{More: Option{Key: h.e.Nav.More, Label: h.e.Messages.Text(h.s.Locale, i18n.NavMore)},
			Prev: Option{Key: h.e.Nav.Back, Label: h.e.Messages.Text(h.s.Locale, i18n.NavBack)}}}
}

// verifyOTP checks the code the citizen typed and, when it is the one
// sent, starts the level 2 flow that waited for it.
func (h *hop) verifyOTP(text string) (Screen, error) {
	s := h.s
	sent, _ := s.Vars[otpVar].(string)
	at, _ := s.Vars[otpAtVar].(int64)
	flowRef, _ := s.Vars[otpFlowVar].(string)
	gotoStep, _ := s.Vars[otpGotoVar].(string)
	tries, _ := s.Vars[otpTriesVar].(int64)
	if h.e.now().Sub(time.UnixMilli(at)) > otpTTL {
		h.clearOTP()
		h.say(h.e.Messages.Text(s.Locale, i18n.AuthCodeExpired))
		return h.finish(), nil
	}
	if subtle.ConstantTimeCompare([]byte(otpHash(s.Phone, text)), []byte(sent)) != 1 {
		tries++
		if tries >= otpTries {
			h.clearOTP()
			h.say(h.e.Messages.Text(s.Locale, i18n.TooManyAttempts))
			return h.finish(), nil
		}
		s.Vars[otpTriesVar] = tries
		return h.otpScreen(h.e.Messages.Text(s.Locale, i18n.AuthCodeWrong)), nil
	}
	h.clearOTP()
	s.Vars[levelVar] = int64(2)
	if p := h.e.PINs; p != nil {
		if has, err := p.Has(h.ctx, s.Phone); err == nil && !has {
			s.Vars[newPINVar] = true
			s.Vars[otpFlowVar], s.Vars[otpGotoVar] = flowRef, gotoStep
			return h.prompt(i18n.AuthPINCreate, ""), nil
		}
	}
	return h.enterGuarded(flowRef, gotoStep)
}

// verifyPIN checks the PIN the citizen typed.
func (h *hop) verifyPIN(text string) (Screen, error) {
	s := h.s
	flowRef, _ := s.Vars[otpFlowVar].(string)
	gotoStep, _ := s.Vars[otpGotoVar].(string)
	if err := h.confirm(); err != nil {
		return Screen{}, err
	}
	ok, err := h.e.PINs.Check(h.ctx, s.Phone, text)
	switch {
	case errors.Is(err, ErrPINLocked):
		h.clearOTP()
		h.say(h.e.Messages.Text(s.Locale, i18n.AuthPINLocked))
		return h.finish(), nil
	case err != nil:
		return Screen{}, fmt.Errorf("checking a PIN: %w", err)
	case !ok:
		return h.prompt(i18n.AuthPINPrompt, h.e.Messages.Text(s.Locale, i18n.AuthPINWrong)), nil
	}
	h.clearOTP()
	s.Vars[levelVar] = int64(2)
	return h.enterGuarded(flowRef, gotoStep)
}

// createPIN takes the PIN a citizen chose after a one-time code, or "0"
// to go on without one.
func (h *hop) createPIN(text string) (Screen, error) {
	s := h.s
	flowRef, _ := s.Vars[otpFlowVar].(string)
	gotoStep, _ := s.Vars[otpGotoVar].(string)
	if text != "0" {
		if len(text) != 4 || strings.Trim(text, "0123456789") != "" {
			return h.prompt(i18n.AuthPINCreate, h.e.Messages.Text(s.Locale, i18n.InvalidInput)), nil
		}
		if err := h.confirm(); err != nil {
			return Screen{}, err
		}
		if err := h.e.PINs.Set(h.ctx, s.Phone, text); err != nil {
			return Screen{}, fmt.Errorf("setting a PIN: %w", err)
		}
		h.say(h.e.Messages.Text(s.Locale, i18n.AuthPINSet))
	}
	h.clearOTP()
	return h.enterGuarded(flowRef, gotoStep)
}

// enterGuarded starts the level 2 flow the citizen has just proved
// themselves for: at the start of the conversation, or through a goto.
func (h *hop) enterGuarded(flowRef, gotoStep string) (Screen, error) {
	s := h.s
	id, version, _ := strings.Cut(flowRef, "@")
	v, _ := strconv.Atoi(version)
	cf := h.reg.Version(id, v)
	if cf == nil {
		return Screen{}, fmt.Errorf("level 2 flow %s: %w", flowRef, ErrNoFlow)
	}
	if gotoStep != "" {
		s.Frames = append(s.Frames, conversation.Frame{Flow: cf.ID, Version: cf.Version, Step: cf.Start.ID, Return: gotoStep})
	}
	return h.goTo(cf, cf.Start.ID)
}

func (h *hop) clearOTP() {
	for _, k := range []string{otpVar, otpAtVar, otpFlowVar, otpGotoVar, otpTriesVar, pinVar, newPINVar} {
		delete(h.s.Vars, k)
	}
}

// otpHash keeps a code out of the session as it was sent: a session read
// from the store does not reveal it.
func otpHash(phone, code string) string {
	sum := sha256.Sum256([]byte(phone + "\x00" + code))
	return hex.EncodeToString(sum[:])
}

func (e *Engine) code() string {
	if e.Codes != nil {
		return e.Codes()
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return fmt.Sprintf("%06d", binary.BigEndian.Uint32(b[:])%1_000_000)
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

// call invokes the step's service and returns the outcome and the event to
// follow, or "" when the flow has no route for it.
// asyncOutcome is what call returns when an async call outlasted the hop
// and goes on in the background.
const asyncOutcome = "async"

func (h *hop) call(cf *Compiled, st *Step) (string, string) {
	params := make(map[string]any, len(st.Params))
	for _, p := range st.Params {
		v, err := h.eval(&p.Expr)
		if err != nil {
			return string(Failed), h.route(st, string(Failed))
		}
		params[p.Name] = v
	}
	req := Request{Service: st.Service, Params: params, IdempotencyKey: h.idempotencyKey(cf, st, params), UserID: citizenID(h.s.Vars)}
	var resp Response
	if st.Async == "sms" && h.e.Notifier != nil {
		var later bool
		if resp, later = h.callAsync(cf, st, req); later {
			return asyncOutcome, ""
		}
	} else {
		resp = h.e.Caller.Call(h.ctx, req)
	}
	return h.called(st, resp)
}

// checkpoint has the session stored, marked as waiting for st's call,
// before a call that changes something.
func (h *hop) checkpoint(st *Step) error {
	if h.in.Checkpoint == nil || !h.e.effects(st.Service) {
		return nil
	}
	h.conversation()
	h.s.Vars[callVar] = st.ID
	return h.in.Checkpoint(h.ctx)
}

func (e *Engine) effects(service string) bool {
	if fx, ok := e.Caller.(Effects); ok {
		return fx.Effects(service)
	}
	return true
}

// conversation returns the conversation's id, drawn on first use.
func (h *hop) conversation() string {
	if id, ok := h.s.Vars[convVar].(string); ok {
		return id
	}
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	id := hex.EncodeToString(b[:])
	h.s.Vars[convVar] = id
	return id
}

// idempotencyKey is the key of st's call: the same for every attempt at
// this call of this conversation — a retry, another instance, a resumed
// conversation — and different for another conversation, another step,
// another call of the same step (the completed calls are counted) or
// other params.
func (h *hop) idempotencyKey(cf *Compiled, st *Step, params map[string]any) string {
	n, _ := h.s.Vars[callsVar].(int64)
	p, err := json.Marshal(params)
	if err != nil {
		p = fmt.Appendf(nil, "%v", params)
	}
	sum := sha256.New()
	fmt.Fprintf(sum, "%s\x00%s@%d\x00%s\x00%d\x00", h.conversation(), cf.ID, cf.Version, st.ID, n)
	sum.Write(p)
	return "vt1-" + hex.EncodeToString(sum.Sum(nil)[:16])
}

// called records a call's response and returns its outcome and route.
func (h *hop) called(st *Step, resp Response) (string, string) {
	outcome := string(resp.Outcome)
	if o := h.e.Observer; o != nil {
		o.Call(st.Service, outcome, resp.Elapsed)
	}
	if l := h.e.Log; l != nil {
		l.Info("back-end call", "service", st.Service, "call", resp)
	}
	if r := h.e.Recorder; r != nil {
		if f := h.s.Current(); f != nil {
			r.RecordCall(h.s, f.Flow, f.Version, st.ID, st.Service, resp)
		}
	}
	if resp.Outcome == OK && resp.Get != nil {
		for _, m := range st.Map {
			h.s.Vars[m.Name] = resp.Get(m.Expr.Src)
		}
	}
	return outcome, h.route(st, outcome)
}

// citizenID is the citizen's identity for X-Road-UserId: the variable
// citizen_id when a flow sets it, else a validated cedula, with Ecuador's
// country prefix.
func citizenID(vars map[string]any) string {
	if id, ok := vars["citizen_id"].(string); ok && id != "" {
		return id
	}
	if c, ok := vars["cedula"].(string); ok && len(c) == 10 {
		return "EC" + c
	}
	return ""
}

// callAsync waits for the call until shortly before the hop's deadline. If
// it is not done by then, the rest of the flow runs in the background on a
// copy of the session once the call answers, and its text goes to the
// citizen through the Notifier; later is true and the hop ends.
func (h *hop) callAsync(cf *Compiled, st *Step, req Request) (resp Response, later bool) {
	deadline, ok := h.ctx.Deadline()
	if !ok {
		return h.e.Caller.Call(h.ctx, req), false
	}
	margin := h.e.AsyncMargin
	if margin <= 0 {
		margin = 500 * time.Millisecond
	}
	timeout := h.e.AsyncTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	// The call must outlive the hop: its context keeps the hop's values
	// but not its deadline.
	bg, cancel := context.WithTimeout(context.WithoutCancel(h.ctx), timeout)
	done := make(chan Response, 1)
	go func() { done <- h.e.Caller.Call(bg, req) }()
	wait := time.NewTimer(time.Until(deadline) - margin)
	defer wait.Stop()
	select {
	case resp := <-done:
		cancel()
		return resp, false
	case <-wait.C:
	}
	snapshot, err := h.s.MarshalBinary()
	if err != nil {
		cancel()
		return Response{Outcome: Failed, Err: err}, false
	}
	go h.e.finishLater(bg, cancel, snapshot, cf, st, done)
	return Response{}, true
}

// finishLater runs the rest of a flow after an async call answered, on a
// copy of the session that is never saved, and sends what it says.
func (e *Engine) finishLater(ctx context.Context, cancel context.CancelFunc, snapshot []byte, cf *Compiled, st *Step, done <-chan Response) {
	defer cancel()
	var resp Response
	select {
	case resp = <-done:
	case <-ctx.Done():
		resp = Response{Outcome: Timeout, Err: ctx.Err()}
	}
	var s conversation.State
	if err := s.UnmarshalBinary(snapshot); err != nil {
		return
	}
	h := hop{e: e, s: &s, ctx: ctx, reg: e.Flows(), in: &Input{}}
	var sc Screen
	_, event := h.called(st, resp)
	if event == "" {
		h.say(e.Messages.Text(s.Locale, "call."+string(resp.Outcome)))
		sc = h.finish()
	} else if to, ok := cf.transition(st.ID, event); ok {
		var err error
		if sc, err = h.goTo(cf, to); err != nil {
			sc = e.Failure(s.Locale, i18n.TryAgain)
		}
	}
	// A late result is a final text: nobody can answer a question sent
	// after the conversation (the lint refuses flows that would ask one).
	if !sc.End || len(sc.Options) > 0 {
		if e.Log != nil {
			e.Log.Error("async result is not a final text; an apology is sent instead", "flow", cf.String(), "step", s.Current().Step)
		}
		sc = e.Failure(s.Locale, i18n.TryAgain)
	}
	if sc.Text == "" || s.Phone == "" {
		return
	}
	if err := e.Notifier.Notify(ctx, s.Phone, s.Locale, sc.Text); err != nil && e.Log != nil {
		e.Log.Warn("async result not delivered", "service", st.Service, "err", err)
	}
}

// promise is the message id the citizen is told when an async call goes
// on without them: what the Notifier will do with the result.
func (e *Engine) promise() string {
	if p, ok := e.Notifier.(Promiser); ok {
		return p.Promise()
	}
	return i18n.AsyncSMS
}

func (h *hop) route(st *Step, outcome string) string {
	if _, ok := st.On[outcome]; ok {
		return outcome
	}
	if _, ok := st.On["error"]; ok && outcome != string(OK) {
		return "error"
	}
	return ""
}

// closingVar keeps a final screen that needs several pages; "$" keeps
// flows from reading or writing it.
const closingVar = "$closing"

// finish ends the conversation with what is pending. A final text longer
// than one page stays readable: the session lives on while the citizen
// pages through it, and the channel ends it on the last page.
func (h *hop) finish() Screen {
	h.s.Ended = true
	sc := Screen{Text: h.pending.String(), End: true, Locale: h.s.Locale, Nav: h.pagingNav()}
	if h.in.Pages != nil && h.in.Pages(&sc) > 1 {
		h.s.Vars[closingVar] = sc.Text
		h.s.Page = 0
	}
	return sc
}

// pagingNav is the navigation of a final screen: only paging keys.
func (h *hop) pagingNav() Nav {
	m, loc := h.e.Messages, h.s.Locale
	return Nav{
		More: Option{Key: h.e.Nav.More, Label: m.Text(loc, i18n.NavMore)},
		Prev: Option{Key: h.e.Nav.Back, Label: m.Text(loc, i18n.NavBack)},
	}
}

// closing pages through a final text kept by finish.
func (h *hop) closing(text, input string) Screen {
	s := h.s
	sc := Screen{Text: text, End: true, Locale: s.Locale, Nav: h.pagingNav()}
	switch input {
	case h.e.Nav.More:
		if h.in.Pages != nil && s.Page+1 < h.in.Pages(&sc) {
			s.Page++
		}
	case h.e.Nav.Back:
		if s.Page > 0 {
			s.Page--
		}
	}
	sc.Page = s.Page
	return sc
}

func (h *hop) items(st *Step) ([]any, error) {
	v, err := h.eval(&st.Items)
	if err != nil {
		return nil, err
	}
	items, _ := v.([]any)
	max := st.Max
	if max <= 0 {
		max = defaultListMax
	}
	if len(items) > max {
		items = items[:max]
	}
	return items, nil
}

// noticeVar keeps what the current screen shows above its step's own
// text (texts of the steps just run, an error, a note), so that paging
// through the screen and a carrier's retry lay out the very same text:
// pages laid out from another text would overlap or skip options. "$"
// keeps flows from it.
const noticeVar = "$notice"

// show builds the screen of a step that waits, with prefix (an error)
// above it and above the texts already pending.
func (h *hop) show(cf *Compiled, st *Step, prefix string) (Screen, error) {
	s := h.s
	h.say(prefix)
	if notice := h.pending.String(); notice != "" {
		s.Vars[noticeVar] = notice
	} else {
		delete(s.Vars, noticeVar)
	}
	h.say(h.render(cf, &st.Text, nil))
	sc := Screen{Text: h.pending.String(), Locale: s.Locale, Page: s.Page}
	switch st.Kind {
	case "menu":
		n := 0
		sc.Options = make([]Option, 0, len(st.Options))
		for _, o := range st.Options {
			if !h.holds(&o.When) {
				continue
			}
			n++
			sc.Options = append(sc.Options, Option{Key: strconv.Itoa(n), Label: h.render(cf, &o.Label, nil)})
		}
	case "list":
		items, err := h.items(st)
		if err != nil {
			return Screen{}, fmt.Errorf("%s step %q: items: %w", cf, st.ID, err)
		}
		sc.Options = make([]Option, len(items))
		for i, it := range items {
			sc.Options[i] = Option{Key: strconv.Itoa(i + 1), Label: h.render(cf, &st.Label, it)}
		}
	}
	m := h.e.Messages
	sc.Nav.More = Option{Key: h.e.Nav.More, Label: m.Text(s.Locale, i18n.NavMore)}
	sc.Nav.Prev = Option{Key: h.e.Nav.Back, Label: m.Text(s.Locale, i18n.NavBack)}
	// Back must not depend on the page: the pages of a screen are laid
	// out once for all of them (later pages show Prev).
	if len(s.History) > 0 {
		sc.Nav.Back = Option{Key: h.e.Nav.Back, Label: m.Text(s.Locale, i18n.NavBack)}
	}
	if h.canGoHome() {
		sc.Nav.Home = Option{Key: h.e.Nav.Home, Label: m.Text(s.Locale, i18n.NavHome)}
	}
	return sc, nil
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

// Above puts text above sc, the screen Apply has just returned for s, and
// keeps it there while the citizen pages through that screen: the gateway
// shows a result kept for the citizen this way.
func Above(s *conversation.State, sc *Screen, text string) {
	if text == "" {
		return
	}
	sc.Text = text + "\n" + sc.Text
	if sc.End || s.Vars == nil {
		return
	}
	if notice, _ := s.Vars[noticeVar].(string); notice != "" {
		text += "\n" + notice
	}
	s.Vars[noticeVar] = text
}

// reshow builds the current screen again, as it was first shown, on the
// session's page.
func (h *hop) reshow(cf *Compiled, st *Step) (Screen, error) {
	notice, _ := h.s.Vars[noticeVar].(string)
	h.pending.Reset()
	return h.show(cf, st, notice)
}

// navNote shows the current screen again from its first page, with a
// note saying why a navigation key did nothing.
func (h *hop) navNote(cf *Compiled, st *Step, id string) (Screen, error) {
	h.s.Page = 0
	sc, err := h.show(cf, st, h.e.Messages.Text(h.s.Locale, id))
	sc.Retry = true
	return sc, err
}

// invalidOption shows the screen again under the error, from its first
// page: the error is at its top.
func (h *hop) invalidOption(cf *Compiled, st *Step) (Screen, error) {
	h.s.Page = 0
	sc, err := h.show(cf, st, h.e.Messages.Text(h.s.Locale, i18n.InvalidOption))
	sc.Retry = true
	return sc, err
}

func (h *hop) answerMenu(cf *Compiled, st *Step, text string) (Screen, error) {
	k, err := strconv.Atoi(text)
	if err != nil || k < 1 {
		return h.invalidOption(cf, st)
	}
	n := 0
	for i, o := range st.Options {
		if !h.holds(&o.When) {
			continue
		}
		n++
		if n == k {
			return h.advance(cf, st, "option:"+strconv.Itoa(i+1))
		}
	}
	return h.invalidOption(cf, st)
}

func (h *hop) answerList(cf *Compiled, st *Step, text string) (Screen, error) {
	items, err := h.items(st)
	if err != nil {
		return Screen{}, fmt.Errorf("%s step %q: items: %w", cf, st.ID, err)
	}
	k, err := strconv.Atoi(text)
	if err != nil || k < 1 || k > len(items) {
		return h.invalidOption(cf, st)
	}
	h.s.Vars[st.Save.ID] = items[k-1]
	return h.advance(cf, st, "selected")
}

func (h *hop) answerInput(cf *Compiled, st *Step, text string) (Screen, error) {
	s := h.s
	var value any = text
	var fail string
	if text == "" {
		fail = h.e.Messages.Text(s.Locale, i18n.ValidateRequired)
	}
	for _, chk := range st.checks {
		if fail != "" {
			break
		}
		v, f := chk.Check(text)
		if f != nil {
			fail = h.e.Messages.Format(s.Locale, f.MessageID, f.Data)
			break
		}
		value = v
	}
	if fail == "" {
		s.Vars[st.Save.ID] = value
		return h.advance(cf, st, "valid")
	}
	if !st.Error.IsZero() {
		fail = h.render(cf, &st.Error, nil)
	}
	retries := s.Retries + 1
	limit := st.Retries
	if limit <= 0 {
		limit = defaultRetries
	}
	if retries >= limit {
		if st.OnFail.ID == "" {
			h.say(h.e.Messages.Text(s.Locale, i18n.TooManyAttempts))
			return h.finish(), nil
		}
		return h.next(cf, st, "exhausted")
	}
	s.Page = 0 // the error is at the top of the first page
	sc, err := h.show(cf, st, fail)
	s.Retries = retries
	sc.Retry = true
	return sc, err
}
