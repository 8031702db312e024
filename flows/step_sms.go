package flows

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

var smsKind = KindSpec{
	Name:   "sms",
	Doc:    "Sends the citizen a text by SMS — a payment reference, a booking code to keep — in the conversation's language, and goes on without waiting. It goes to the number the conversation came from, through the outbound queue that notifications use, which retries it with the carrier for a day. `sent` means the queue took it; `failed` that it could not be sent: no SMS carrier is configured (the lint warns of it), the conversation has no number (a chat platform before the citizen shares one), or the queue refused it. It is sent once: a hop that runs again from the stored conversation (its instance crashed, or the session could not be written, after the SMS was queued) queues nothing new, while another visit of the step is another SMS. Without `on_fail`, a text that could not be sent is shown above the next screen instead, so the citizen still gets it. The text goes out as one SMS of at most the gateway's segments (`--sms-segments`), cut at a word beyond them.",
	Events: []string{"sent", "failed"},
	Fields: []FieldSpec{
		{Name: "text", Type: TypeText, Required: true, Doc: "The SMS.", bind: bind(func(b *smsStep) any { return &b.Text })},
		{Name: "next", Type: TypeStep, Required: true, Doc: "Where to go once the SMS is queued.", bind: bind(func(b *smsStep) any { return &b.Next })},
		{Name: "on_fail", Type: TypeStep, Doc: "Where to go when the SMS cannot be sent; without it the flow goes on at `next` with the text shown on the screen.", bind: bind(func(b *smsStep) any { return &b.OnFail })},
	},
	Example: `spec_version: 1
id: example-sms
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: code
steps:
  code:
    kind: set
    vars:
      reference: '"PAG-2291"'
    next: send
  send:
    kind: sms
    text: {es: "Su referencia de pago es {{reference}}.", en: "Your payment reference is {{reference}}."}
    next: sent
    on_fail: shown
  sent:
    kind: end
    text: {es: "Le enviamos la referencia por SMS.", en: "We sent you the reference by SMS."}
  shown:
    kind: end
    text: {es: "Su referencia es {{reference}}.", en: "Your reference is {{reference}}."}
`,
	new: func() body { return &smsStep{} },
}

type smsStep struct {
	Text   Text
	Next   Ref
	OnFail Ref
}

func (b *smsStep) compile(c *compiler, s *Step) {
	c.text(&b.Text, true)
	c.ref(b.Next, true)
	c.ref(b.OnFail, false)
	c.edge(s, "sent", b.Next)
	if b.OnFail.ID != "" {
		c.edge(s, "failed", b.OnFail)
	} else {
		c.edge(s, "failed", b.Next)
	}
	if c.env.LateResults == LateAtNextContact {
		c.r.warnf(s.Pos, s.Path, "sms-without-carrier", "no SMS carrier is configured: this SMS cannot be sent, and the flow goes to %s", b.failure())
	}
}

// failure says where a failed SMS leaves the flow.
func (b *smsStep) failure() string {
	if b.OnFail.ID != "" {
		return "on_fail (" + b.OnFail.ID + ")"
	}
	return "next (" + b.Next.ID + ") with the text on the screen"
}

func (b *smsStep) next() []Ref { return []Ref{b.Next, b.OnFail} }

func (b *smsStep) texts() []*Text { return []*Text{&b.Text} }

// SMSSender queues the text of an sms step for phone under key, which
// names this SMS of this conversation (see smsKey): given a key it has
// already queued, it queues nothing and returns nil, so that a hop run
// again after its session was lost sends no second SMS.
type SMSSender interface {
	SendSMS(ctx context.Context, key, phone, locale, text string) error
}

// smsVar counts the sms steps' sends attempted in the conversation; "$"
// keeps flows from it.
const smsVar = "$sms"

// smsKey is the key of st's SMS: the same for every run of the hop that
// reaches it from the same stored session — a re-run after a crash or a
// failed session write, another instance — and different for another
// conversation (the session's key and start), another step, or another
// visit of the same step (the sends attempted are counted, and the count
// is stored with the session).
func (h *hop) smsKey(cf *Compiled, st *Step) string {
	n, _ := h.s.Vars[smsVar].(int64)
	sum := sha256.New()
	fmt.Fprintf(sum, "%s\x00%d\x00%s@%d\x00%s\x00%d", h.s.Key, h.s.Started, cf.ID, cf.Version, st.ID, n)
	return "vt1-" + hex.EncodeToString(sum.Sum(nil)[:16])
}

// Why an sms step could not send, for the log.
var (
	errNoSMS    = errors.New("no SMS carrier is configured")
	errNoNumber = errors.New("the conversation has no number")
	errNoText   = errors.New("the text is empty in the conversation's locale")
)

// run queues the text through the engine's SMS sender, once the hop has
// confirmed that no other instance moved the conversation on: a queued
// SMS cannot be taken back. Its key makes a re-run of the hop queue
// nothing new.
func (b *smsStep) run(h *hop, cf *Compiled, st *Step) (Screen, exit, error) {
	s := h.s
	text := h.render(cf, &b.Text, nil)
	err := errNoSMS
	switch {
	case h.e.SMS == nil:
	case s.Phone == "":
		err = errNoNumber
	case text == "":
		err = errNoText
	default:
		if err = h.confirm(); err != nil {
			return Screen{}, exit{}, err
		}
		key := h.smsKey(cf, st)
		n, _ := s.Vars[smsVar].(int64)
		s.Vars[smsVar] = n + 1
		err = h.e.SMS.SendSMS(h.ctx, key, s.Phone, s.Locale, text)
	}
	if err == nil {
		return Screen{}, along(cf, st, "sent"), nil
	}
	if l := h.e.Log; l != nil {
		l.Warn("sms step not sent", "flow", cf.String(), "step", st.ID, "err", err)
	}
	if b.OnFail.ID == "" {
		h.say(text)
	}
	return Screen{}, along(cf, st, "failed"), nil
}
