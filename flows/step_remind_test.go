package flows_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/internal/quiet"
)

// A booking that reminds 24 and 2 hours before its slot, and a menu to
// cancel the reminders.
const remindFlow = `spec_version: 1
id: cita
version: 1
institution: Registro
title: {es: Cita, en: Appointment}
locales: [es, en]
start: pick
steps:
  pick:
    kind: menu
    text: {es: "¿Qué hora?", en: "What time?"}
    options:
      - label: {es: "Mañana 10:30", en: "Tomorrow 10:30"}
        next: tomorrow
      - label: {es: "Mañana 07:30", en: "Tomorrow 07:30"}
        next: early
      - label: {es: "Hoy 12:00", en: "Today 12:00"}
        next: soon
      - label: {es: "Anular", en: "Cancel"}
        next: cancel
      - label: {es: "Sin hora", en: "No time"}
        next: garbled
  tomorrow:
    kind: set
    vars: {code: '"T-7Q2"', day: '"2026-11-24"', hour: '"10:30"'}
    next: remind
  early:
    kind: set
    vars: {code: '"T-7Q2"', day: '"2026-11-24"', hour: '"07:30"'}
    next: remind
  soon:
    kind: set
    vars: {code: '"T-7Q2"', day: '"2026-11-23"', hour: '"12:00"'}
    next: remind
  garbled:
    kind: set
    vars: {code: '"T-7Q2"', day: '"mañana"', hour: '"10"'}
    next: remind
  remind:
    kind: remind
    key: code
    at: 'day + " " + hour'
    before: [24h, 2h]
    text: {es: "Su turno {{code}} es el {{day}} a las {{hour}}.", en: "Your appointment {{code}} is on {{day}} at {{hour}}."}
    reply: cita
    vars: {code: code}
    next: done
    on_fail: failed
  cancel:
    kind: set
    vars: {code: '"T-7Q2"'}
    next: forget
  forget:
    kind: remind
    cancel: true
    key: code
    next: forgotten
  done:
    kind: end
    text: {es: "Listo.", en: "Done."}
  failed:
    kind: end
    text: {es: "Sin recordatorio.", en: "No reminder."}
  forgotten:
    kind: end
    text: {es: "Anulado.", en: "Cancelled."}
`

// diary is the engine's reminder store in these tests.
type diary struct {
	set       map[flows.Booking][]flows.Reminder
	calls     int
	cancelled int
	err       error
}

func (d *diary) Remind(_ context.Context, b flows.Booking, rs []flows.Reminder) error {
	if d.err != nil {
		return d.err
	}
	d.calls++
	if d.set == nil {
		d.set = map[flows.Booking][]flows.Reminder{}
	}
	d.set[b] = rs
	return nil
}

func (d *diary) CancelReminders(_ context.Context, b flows.Booking) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n := len(d.set[b])
	delete(d.set, b)
	d.cancelled += n
	return n, nil
}

func dues(rs []flows.Reminder) string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%v→%s", r.Before, r.Due.Format("01-02 15:04 MST")))
	}
	return strings.Join(out, " ")
}

func TestRemindStep(t *testing.T) {
	reg := load(t, flows.Source{Name: "cita.yaml", Data: []byte(remindFlow)})
	booking := flows.Booking{Key: "T-7Q2", Flow: "cita", Institution: "Registro"}
	// The engine's clock: 09:00 on 23 November in Quito (14:00 UTC).
	for _, c := range []struct {
		name, option string
		d            *diary // nil: no reminder store
		quiet        *quiet.Hours
		wantScreen   string
		wantDues     string
	}{
		{"both reminders, in the office's zone", "1", &diary{}, nil, "Listo.", "24h0m0s→11-23 10:30 -05 2h0m0s→11-24 08:30 -05"},
		{"the 24-hour one has passed, the 2-hour one out of the quiet hours", "2", &diary{}, nil, "Listo.", "2h0m0s→11-24 07:00 -05"},
		{"today: only the 2-hour one", "3", &diary{}, nil, "Listo.", "2h0m0s→11-23 10:00 -05"},
		{"no quiet hours", "2", &diary{}, &quiet.Hours{}, "Listo.", "2h0m0s→11-24 05:30 -05"},
		{"not a time: failed", "5", &diary{}, nil, "Sin recordatorio.", ""},
		{"no store: failed", "1", nil, nil, "Sin recordatorio.", ""},
		{"the store refuses: failed", "1", &diary{err: errors.New("down")}, nil, "Sin recordatorio.", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t, &reg)
			e.Root = "cita"
			e.Now = func() time.Time { return time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC) }
			e.Quiet = c.quiet
			if c.d != nil {
				e.Reminders = c.d
			}
			s := &conversation.State{Phone: "+593991234567", Channel: "ussd", Carrier: "africastalking", Locale: "en"}
			if _, err := e.Apply(t.Context(), s, flows.Input{}); err != nil {
				t.Fatal(err)
			}
			sc, err := e.Apply(t.Context(), s, flows.Input{Text: c.option})
			if err != nil {
				t.Fatal(err)
			}
			if sc.Text != strings.ReplaceAll(strings.ReplaceAll(c.wantScreen, "Listo.", "Done."), "Sin recordatorio.", "No reminder.") {
				t.Errorf("screen %q, want %q", sc.Text, c.wantScreen)
			}
			if c.d == nil {
				return
			}
			rs := c.d.set[booking]
			if got := dues(rs); got != c.wantDues {
				t.Errorf("dues %q, want %q", got, c.wantDues)
			}
			if len(rs) > 0 {
				r := rs[0]
				if r.Phone != "+593991234567" || r.Channel != "ussd" || r.Carrier != "africastalking" || r.Locale != "en" ||
					!strings.HasPrefix(r.Text, "Your appointment T-7Q2 is on 2026-11-2") || r.Reply != "cita" || r.Vars["code"] != "T-7Q2" ||
					r.Zone != "America/Guayaquil" {
					t.Errorf("reminder %+v", r)
				}
			}
		})
	}
}

// Running the hop again sets the same reminders; cancel removes them.
func TestRemindStepAgainAndCancel(t *testing.T) {
	reg := load(t, flows.Source{Name: "cita.yaml", Data: []byte(remindFlow)})
	e := newEngine(t, &reg)
	e.Root = "cita"
	d := &diary{}
	e.Reminders = d
	hop := func(option string) flows.Screen {
		s := &conversation.State{Phone: "+593991234567", Channel: "sms", Locale: "es"}
		if _, err := e.Apply(t.Context(), s, flows.Input{}); err != nil {
			t.Fatal(err)
		}
		sc, err := e.Apply(t.Context(), s, flows.Input{Text: option})
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	hop("1")
	first := dues(d.set[flows.Booking{Key: "T-7Q2", Flow: "cita", Institution: "Registro"}])
	hop("1")
	if again := dues(d.set[flows.Booking{Key: "T-7Q2", Flow: "cita", Institution: "Registro"}]); again != first || d.calls != 2 {
		t.Errorf("again: %q after %q (%d calls)", again, first, d.calls)
	}
	if sc := hop("4"); sc.Text != "Anulado." || d.cancelled != 2 || len(d.set) != 0 {
		t.Errorf("cancel: screen %q, %d cancelled, left %v", sc.Text, d.cancelled, d.set)
	}
}

// A stale copy of the conversation schedules nothing.
func TestRemindStepConfirmsFirst(t *testing.T) {
	reg := load(t, flows.Source{Name: "cita.yaml", Data: []byte(remindFlow)})
	e := newEngine(t, &reg)
	e.Root = "cita"
	d := &diary{}
	e.Reminders = d
	s := &conversation.State{Phone: "+593991234567", Locale: "es"}
	if _, err := e.Apply(t.Context(), s, flows.Input{}); err != nil {
		t.Fatal(err)
	}
	stale := errors.New("stale copy")
	_, err := e.Apply(t.Context(), s, flows.Input{Text: "1", Confirm: func(context.Context) error { return stale }})
	if !errors.Is(err, stale) || d.calls != 0 {
		t.Errorf("err %v, %d calls; want the confirmation's error and nothing kept", err, d.calls)
	}
}

func TestRemindStepLint(t *testing.T) {
	step := func(body string) string {
		return `spec_version: 1
id: r
version: 1
institution: X
title: {es: R}
locales: [es]
start: code
steps:
  code:
    kind: set
    vars: {code: '"T-1"'}
    next: remind
  remind:
    kind: remind
` + body + `  done:
    kind: end
    text: {es: "Listo."}
`
	}
	for _, c := range []struct {
		name, body string
		late       string
		want       []string
	}{
		{"clean", "    key: code\n    at: '\"2026-11-24 10:30\"'\n    before: [24h, 2h]\n    text: {es: \"Turno {{code}}\"}\n    next: done\n", "", nil},
		{"a zone misspelt", "    key: code\n    at: '\"2026-11-24 10:30\"'\n    before: [24h]\n    zone: America/Guayaqil\n    text: {es: \"T\"}\n    next: done\n", "",
			[]string{`r.yaml:18:11: steps.remind.zone: error: unknown time zone "America/Guayaqil" (did you mean "America/Guayaquil"?); write an IANA zone such as America/Guayaquil [unknown-zone]`}},
		{"durations", "    key: code\n    at: '\"2026-11-24 10:30\"'\n    before: [24, 0s, 2h, 2h]\n    text: {es: \"T\"}\n    next: done\n", "",
			[]string{
				`r.yaml:17:14: steps.remind.before[0]: error: "24" is not a duration: write it like 24h, 2h or 90m [wrong-type]`,
				`r.yaml:17:18: steps.remind.before[1]: error: 0s: a reminder goes from 1m to 2160h (90 days) before [wrong-type]`,
				`r.yaml:17:26: steps.remind.before[3]: error: 2h: this reminder is listed twice [duplicate]`,
			}},
		{"quiet hours", "    key: code\n    at: '\"2026-11-24 10:30\"'\n    before: 2h\n    quiet_hours: 22-6\n    text: {es: \"T\"}\n    next: done\n", "",
			[]string{`r.yaml:18:18: steps.remind.quiet_hours: error: quiet hours "22-6": want HH:MM-HH:MM, such as 21:00-07:00, or none [wrong-type]`}},
		{"what it needs", "    key: code\n    next: done\n", "",
			[]string{
				`r.yaml:13:3: steps.remind: error: a remind step needs "at": When the thing reminded of happens, in the office's zone: an expression giving ` + "`YYYY-MM-DD HH:MM`, such as `slot.date + \" \" + slot.time`. Required unless `cancel`." + ` [missing-field]`,
				`r.yaml:13:3: steps.remind: error: a remind step needs "before": How long before ` + "`at` each reminder goes: `[24h, 2h]`, at most 5, each from 1m to 2160h (90 days). Required unless `cancel`." + ` [missing-field]`,
				`r.yaml:13:3: steps.remind: error: a remind step needs "text": The reminder, one SMS or chat message; say how to answer when there is a ` + "`reply`. Required unless `cancel`." + ` [missing-field]`,
			}},
		{"cancel takes no schedule", "    key: code\n    cancel: true\n    before: [2h]\n    next: done\n", "",
			[]string{`r.yaml:17:5: steps.remind.before: error: a remind step that cancels takes only key, next and on_fail; before belongs to one that schedules [unknown-field]`}},
		{"a reply flow that does not exist, a variable never set", "    key: code\n    at: 'slot_day'\n    before: [2h]\n    text: {es: \"T\"}\n    reply: nada\n    next: done\n", "",
			[]string{
				`r.yaml:16:10: steps.remind.at: error: slot_day is never set before step "remind" [undefined-variable]`,
				`r.yaml:19:12: steps.remind.reply: error: unknown flow "nada" [unknown-flow]`,
			}},
		{"no SMS carrier", "    key: code\n    at: '\"2026-11-24 10:30\"'\n    before: [2h]\n    text: {es: \"T\"}\n    next: done\n", flows.LateAtNextContact,
			[]string{`r.yaml:13:3: steps.remind: warning: no SMS carrier is configured: citizens on USSD cannot be reminded, and the flow goes to next (done) [remind-without-carrier]`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			en := env(t)
			en.LateResults = c.late
			en.Flow = func(id string) bool { return id == "r" }
			_, ps := flows.Load([]flows.Source{{Name: "r.yaml", Data: []byte(step(c.body))}}, en)
			var got []string
			for _, p := range ps {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}
