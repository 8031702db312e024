package flows

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/i18n"
)

// Caller reaches the back-end services that call steps name. The engine
// knows nothing of protocols, URLs or response formats: the gateway plugs
// in a Caller made from the back-end client (interop/flowcall), and tests
// plug in their own.
type Caller interface {
	// Call makes one call and says how it ended. It never fails with a Go
	// error: every failure is an Outcome a flow can route on.
	Call(ctx context.Context, req Request) Response
}

// Effects is what a Caller that knows its services adds: whether a call
// of service changes something at the back-end (a booking), so that the
// engine stores the conversation before making it. A Caller without it
// is taken to change something with every call.
type Effects interface {
	Effects(service string) bool
}

// Request is one call a call step makes.
type Request struct {
	Service string
	Params  map[string]any // the step's params, evaluated
	// IdempotencyKey is the same for every attempt at this call of this
	// conversation — a retry, another instance, a resumed conversation —
	// and different for any other call, so that a back-end that keeps
	// each key's first answer does nothing twice.
	IdempotencyKey string
	// UserID is the citizen on whose behalf the call is made, with a
	// country prefix ("EC1714307103"), or "" when the flow does not know.
	UserID string
}

// Outcome is how a call ended. Call steps route on it, so the set is
// closed and its values are part of the flow language.
type Outcome string

// The outcomes of a call, in the order authors meet them in the docs:
// success first, then what the back-end said, then what went wrong on
// the way.
const (
	OK          Outcome = "ok"          // the back-end answered yes
	NotFound    Outcome = "not_found"   // it knows nothing of what was asked
	Rejected    Outcome = "rejected"    // it refused this request
	Failed      Outcome = "error"       // it failed, or its answer was unreadable
	Timeout     Outcome = "timeout"     // no answer in time
	Unavailable Outcome = "unavailable" // not reachable now (disabled, circuit open, rate limited)
)

// Outcomes returns every Outcome, in the order of the docs.
func Outcomes() []Outcome {
	return []Outcome{OK, NotFound, Rejected, Failed, Timeout, Unavailable}
}

// Response is how a call ended, as the engine needs it.
type Response struct {
	Outcome Outcome
	Elapsed time.Duration
	// Get reads the value at a path of the step's save field from the
	// back-end's answer, as variables hold values (string, bool, nil,
	// int64, float64, []any, map[string]any); nil when the path matches
	// nothing. A nil Get reads nothing.
	Get func(path string) any
	// CorrelationID is the back-end's own id of the call, the key to its
	// logs (X-Road's X-Road-Id), for the audit trail; "" when it has none.
	CorrelationID string
	// Err says why the Outcome is not OK, for logs; it never holds the
	// request's params, which may carry a citizen's data.
	Err error
	// Detail, when set, is what logs say of the call instead of the
	// outcome, elapsed time and error alone: the back-end client's own
	// account (status, attempts, cache), without the body.
	Detail slog.LogValuer
}

// LogValue leaves the answer out: it may hold a citizen's data.
func (r Response) LogValue() slog.Value {
	if r.Detail != nil {
		return r.Detail.LogValue()
	}
	attrs := []slog.Attr{slog.String("outcome", string(r.Outcome)), slog.Duration("elapsed", r.Elapsed)}
	if r.Err != nil {
		attrs = append(attrs, slog.String("err", r.Err.Error()))
	}
	return slog.GroupValue(attrs...)
}

var _ slog.LogValuer = Response{}

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

// asyncOutcome is what call returns when an async call outlasted the hop
// and goes on in the background.
const asyncOutcome = "async"

// call invokes the step's service and returns the outcome and the event to
// follow, or "" when the flow has no route for it.
func (h *hop) call(cf *Compiled, st *Step, b *callStep) (string, string) {
	params := make(map[string]any, len(b.Params))
	for _, p := range b.Params {
		v, err := h.eval(&p.Expr)
		if err != nil {
			return string(Failed), b.route(string(Failed))
		}
		params[p.Name] = v
	}
	req := Request{Service: b.Service, Params: params, IdempotencyKey: h.idempotencyKey(cf, st, params), UserID: citizenID(h.s.Vars)}
	var resp Response
	if b.Async == "sms" && h.e.Notifier != nil {
		var later bool
		if resp, later = h.callAsync(cf, st, b, req); later {
			return asyncOutcome, ""
		}
	} else {
		resp = h.e.Caller.Call(h.ctx, req)
	}
	return h.called(st, b, resp)
}

// checkpoint has the session stored, marked as waiting for st's call,
// before a call that changes something.
func (h *hop) checkpoint(st *Step, b *callStep) error {
	if h.in.Checkpoint == nil || !h.e.effects(b.Service) {
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
func (h *hop) called(st *Step, b *callStep, resp Response) (string, string) {
	outcome := string(resp.Outcome)
	if o := h.e.Observer; o != nil {
		o.Call(b.Service, outcome, resp.Elapsed)
	}
	if l := h.e.Log; l != nil {
		l.Info("back-end call", "service", b.Service, "call", resp)
	}
	if r := h.e.Recorder; r != nil {
		if f := h.s.Current(); f != nil {
			r.RecordCall(h.s, f.Flow, f.Version, st.ID, b.Service, resp)
		}
	}
	if resp.Outcome == OK && resp.Get != nil {
		for _, m := range b.Map {
			h.s.Vars[m.Name] = resp.Get(m.Expr.Src)
		}
	}
	return outcome, b.route(outcome)
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
func (h *hop) callAsync(cf *Compiled, st *Step, b *callStep, req Request) (resp Response, later bool) {
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
	patience := time.Until(deadline) - margin
	wait := time.NewTimer(patience)
	defer wait.Stop()
	select {
	case resp := <-done:
		if resp.Elapsed <= patience {
			cancel()
			return resp, false
		}
		// The Caller says the answer took longer than the hop could
		// wait: one that keeps its own clock (a transcript's slow mock)
		// answers at once what a back-end would answer late.
		done <- resp
	case <-wait.C:
	}
	snapshot, err := h.s.MarshalBinary()
	if err != nil {
		cancel()
		return Response{Outcome: Failed, Err: err}, false
	}
	run := h.e.Later
	if run == nil {
		run = func(f func()) { go f() }
	}
	run(func() { h.e.finishLater(bg, cancel, snapshot, cf, st, b, done) })
	return Response{}, true
}

// finishLater runs the rest of a flow after an async call answered, on a
// copy of the session that is never saved, and sends what it says.
func (e *Engine) finishLater(ctx context.Context, cancel context.CancelFunc, snapshot []byte, cf *Compiled, st *Step, b *callStep, done <-chan Response) {
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
	h := hop{e: e, s: &s, ctx: ctx, reg: e.Flows(), in: &Input{}, late: true}
	var sc Screen
	_, event := h.called(st, b, resp)
	if event == "" {
		h.say(e.messages(cf).Text(s.Locale, "call."+string(resp.Outcome)))
		sc = h.finish()
	} else if to, ok := cf.transition(st.ID, event); ok {
		var err error
		if sc, err = h.goTo(cf, to); err != nil {
			sc = e.FailureFor(&s, i18n.TryAgain)
		}
	}
	// A late result is a final text: nobody can answer a question sent
	// after the conversation (the lint refuses flows that would ask one;
	// a rate step is passed by without a word).
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
		e.Log.Warn("async result not delivered", "service", b.Service, "err", err)
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
