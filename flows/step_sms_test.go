package flows_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/flows"
)

// A booking flow that sends its code by SMS, with and without a route for
// an SMS that cannot be sent.
const smsFlow = `spec_version: 1
id: codigo
version: 1
institution: X
title: {es: Código, en: Code}
locales: [es, en]
start: code
steps:
  code:
    kind: set
    vars:
      code: '"T-7Q2"'
    next: ask
  ask:
    kind: menu
    text: {es: "Su código es {{code}}. ¿Se lo enviamos por SMS?", en: "Your code is {{code}}. Send it by SMS?"}
    options:
      - label: {es: Sí, en: "Yes"}
        next: send
      - label: {es: "Sí, sin plan B", en: "Yes, no plan B"}
        next: bare
  send:
    kind: sms
    text: {es: "Ventanilla: su código es {{code}}.", en: "Ventanilla: your code is {{code}}."}
    next: sent
    on_fail: unsent
  bare:
    kind: sms
    text: {es: "Ventanilla: su código es {{code}}.", en: "Ventanilla: your code is {{code}}."}
    next: sent
  sent:
    kind: end
    text: {es: "Enviado.", en: "Sent."}
  unsent:
    kind: end
    text: {es: "No pudimos enviarlo; anótelo: {{code}}.", en: "We could not send it; write it down: {{code}}."}
`

// outbox is the engine's SMS sender in these tests: it keeps what it is
// asked to send and under which key, or fails with err.
type outbox struct {
	sent []string // "phone locale text"
	keys []string
	err  error
}

func (o *outbox) SendSMS(_ context.Context, key, phone, locale, text string) error {
	if o.err != nil {
		return o.err
	}
	o.sent = append(o.sent, phone+" "+locale+" "+text)
	o.keys = append(o.keys, key)
	return nil
}

func TestSMSStep(t *testing.T) {
	reg := load(t, flows.Source{Name: "codigo.yaml", Data: []byte(smsFlow)})
	refused := errors.New("queue full")
	cases := []struct {
		name, phone, locale, option string
		box                         *outbox // nil: no SMS carrier configured
		wantSent                    string
		wantScreen                  string
	}{
		{"queued in the citizen's language", "+593991234567", "en", "1", &outbox{}, "+593991234567 en Ventanilla: your code is T-7Q2.", "Sent."},
		{"queued in Spanish", "+593991234567", "es", "1", &outbox{}, "+593991234567 es Ventanilla: su código es T-7Q2.", "Enviado."},
		{"queue refuses: on_fail", "+593991234567", "es", "1", &outbox{err: refused}, "", "No pudimos enviarlo; anótelo: T-7Q2."},
		{"no SMS carrier: on_fail", "+593991234567", "es", "1", nil, "", "No pudimos enviarlo; anótelo: T-7Q2."},
		{"no number: on_fail", "", "es", "1", &outbox{}, "", "No pudimos enviarlo; anótelo: T-7Q2."},
		{"no on_fail: the text on the screen, then next", "+593991234567", "es", "2", nil, "", "Ventanilla: su código es T-7Q2.\nEnviado."},
		{"no on_fail, sent: only next", "+593991234567", "es", "2", &outbox{}, "+593991234567 es Ventanilla: su código es T-7Q2.", "Enviado."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t, &reg)
			e.Root = "codigo"
			if c.box != nil {
				e.SMS = c.box
			}
			s := &conversation.State{Phone: c.phone, Locale: c.locale}
			if _, err := e.Apply(t.Context(), s, flows.Input{}); err != nil {
				t.Fatal(err)
			}
			sc, err := e.Apply(t.Context(), s, flows.Input{Text: c.option})
			if err != nil {
				t.Fatal(err)
			}
			if sc.Text != c.wantScreen || !sc.End {
				t.Errorf("screen %q (end %v), want %q", sc.Text, sc.End, c.wantScreen)
			}
			var sent string
			if c.box != nil && len(c.box.sent) > 0 {
				sent = strings.Join(c.box.sent, "|")
			}
			if sent != c.wantSent {
				t.Errorf("sent %q, want %q", sent, c.wantSent)
			}
		})
	}
}

// A queued SMS cannot be taken back: the hop confirms the conversation
// first, and a stale copy sends nothing.
func TestSMSStepConfirmsBeforeSending(t *testing.T) {
	reg := load(t, flows.Source{Name: "codigo.yaml", Data: []byte(smsFlow)})
	e := newEngine(t, &reg)
	e.Root = "codigo"
	box := &outbox{}
	e.SMS = box
	s := &conversation.State{Phone: "+593991234567", Locale: "es"}
	if _, err := e.Apply(t.Context(), s, flows.Input{}); err != nil {
		t.Fatal(err)
	}
	stale := errors.New("stale copy")
	_, err := e.Apply(t.Context(), s, flows.Input{Text: "1", Confirm: func(context.Context) error { return stale }})
	if !errors.Is(err, stale) || len(box.sent) != 0 {
		t.Errorf("err %v, sent %q; want the confirmation's error and nothing sent", err, box.sent)
	}
}

// An SMS's key is the same when the hop that reaches the step runs again
// from the same stored session (the first run's session was lost), and
// differs for another visit of the step and for another conversation.
func TestSMSStepKey(t *testing.T) {
	reg := load(t, flows.Source{Name: "codigo.yaml", Data: []byte(smsLoop)})
	e := newEngine(t, &reg)
	e.Root = "otra"
	box := &outbox{}
	e.SMS = box
	start := func(started int64) []byte {
		s := &conversation.State{Key: "ussd:ATUid_1", Phone: "+593991234567", Locale: "es"}
		if _, err := e.Apply(t.Context(), s, flows.Input{}); err != nil {
			t.Fatal(err)
		}
		s.Started = started
		data, err := s.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	hop := func(data []byte) *conversation.State {
		var s conversation.State
		if err := s.UnmarshalBinary(data); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Apply(t.Context(), &s, flows.Input{Text: "1"}); err != nil {
			t.Fatal(err)
		}
		return &s
	}
	stored := start(1000)
	hop(stored)
	again := hop(stored) // the first run's session was never written
	hop(start(2000))     // another conversation on the same key
	data, err := again.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	hop(data) // the citizen asks for it again
	k := box.keys
	if len(k) != 4 || k[0] != k[1] || k[2] == k[0] || k[3] == k[0] || k[3] == k[2] || !strings.HasPrefix(k[0], "vt1-") {
		t.Errorf("keys %q; want the first two equal, the others each different", k)
	}
}

// smsLoop sends a code each time the citizen asks for it.
const smsLoop = `spec_version: 1
id: otra
version: 1
institution: X
title: {es: Otra vez}
locales: [es]
start: ask
steps:
  ask:
    kind: menu
    text: {es: "¿Le enviamos el código?"}
    options:
      - label: {es: Sí}
        next: send
  send:
    kind: sms
    text: {es: "Su código es T-7Q2."}
    next: ask
`

// The lint says what the engine will do where no SMS carrier is
// configured, at the step, and nothing where one is.
func TestSMSStepLintWithoutCarrier(t *testing.T) {
	for _, late := range []string{flows.LateAtNextContact, flows.LateBySMS} {
		en := env(t)
		en.LateResults = late
		_, ps := flows.Load([]flows.Source{{Name: "codigo.yaml", Data: []byte(smsFlow)}}, en)
		var got []string
		for _, p := range ps {
			got = append(got, p.String())
		}
		want := []string{
			"codigo.yaml:22:3: steps.send: warning: no SMS carrier is configured: this SMS cannot be sent, and the flow goes to on_fail (unsent) [sms-without-carrier]",
			"codigo.yaml:27:3: steps.bare: warning: no SMS carrier is configured: this SMS cannot be sent, and the flow goes to next (sent) with the text on the screen [sms-without-carrier]",
		}
		if late == flows.LateBySMS {
			want = nil
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: problems\n%s\nwant\n%s", late, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}
