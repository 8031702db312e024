package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	_ "time/tzdata" // zones are checked the same on every machine

	"github.com/ventanilla-gob/ventanilla/internal/quiet"
)

var remindKind = KindSpec{
	Name: "remind",
	Doc: "Schedules messages to the citizen before a time the flow knows — a turno 24 and 2 hours ahead, say — or, with `cancel: true`, cancels them. " +
		"`at` is read as a local time (`2026-11-24 10:30`, or `2026-11-24T10:30`) in the office's `zone`; each of `before` gives one reminder that long before it. " +
		"No reminder goes out in the quiet hours (default the gateway's `--quiet-hours`, 21:00–07:00): one due then goes when they end if that is still before `at`, else the minute before they begin. " +
		"A reminder whose time has already passed is left out, without failing: a turno booked for the same afternoon gets only its 2-hour reminder, or none. " +
		"The text is written in the citizen's language when the step runs, and goes on the channel the conversation came from — by SMS to USSD users, through the gateway's SMS carrier (the lint warns when there is none). " +
		"The reminders are kept under `key`, the booking's key within the institution: a remind step sets them, so running it again (a hop run twice, or a turno moved to a new `at`) replaces them — none is sent twice — and those of the key it does not schedule again are cancelled. The institution can cancel or move them too, by the same key (docs/notifications.md). " +
		"With `reply`, the citizen's answer to a reminder runs that flow, which names the `vars`, and `reply` (the answer), in its `params`. " +
		"`scheduled` (or `cancelled`) means the reminders are kept (or gone); `failed` that they could not be: no reminder store, no way to reach the citizen, an empty key, an `at` that is not a time. Without `on_fail`, the flow goes on at `next` either way.",
	Events: []string{"scheduled", "cancelled", "failed"},
	Fields: []FieldSpec{
		{Name: "key", Type: TypeExpr, Required: true, Doc: "The booking's key, such as `code`: what the reminders are kept, replaced and cancelled by, here and through the API. At most 100 characters.", bind: bind(func(b *remindStep) any { return &b.Key })},
		{Name: "at", Type: TypeExpr, Doc: "When the thing reminded of happens, in the office's zone: an expression giving `YYYY-MM-DD HH:MM`, such as `slot.date + \" \" + slot.time`. Required unless `cancel`.", bind: bind(func(b *remindStep) any { return &b.At })},
		{Name: "before", Type: TypeDurations, Doc: "How long before `at` each reminder goes: `[24h, 2h]`, at most 5, each from 1m to 2160h (90 days). Required unless `cancel`.", bind: bind(func(b *remindStep) any { return &b.Before })},
		{Name: "text", Type: TypeText, Doc: "The reminder, one SMS or chat message; say how to answer when there is a `reply`. Required unless `cancel`.", bind: bind(func(b *remindStep) any { return &b.Text })},
		{Name: "zone", Type: TypeString, Doc: "The office's time zone, such as `America/Guayaquil` (default: the gateway's `--zone`, America/Guayaquil unless set).", bind: bind(func(b *remindStep) any { return &b.Zone })},
		{Name: "quiet_hours", Type: TypeString, Doc: "`HH:MM-HH:MM` in the office's zone when no reminder goes out, or `none` (default: the gateway's `--quiet-hours`, 21:00-07:00). For services that must reach citizens at night, such as a hospital's early shift.", bind: bind(func(b *remindStep) any { return &b.Quiet })},
		{Name: "reply", Type: TypeFlow, Doc: "The flow the citizen's answer to a reminder runs, such as one that confirms or cancels the turno.", bind: bind(func(b *remindStep) any { return &b.Reply })},
		{Name: "vars", Type: TypeAssigns, Doc: "Variables the `reply` flow starts with, from expressions evaluated when the reminders are scheduled: `code: code`.", bind: bind(func(b *remindStep) any { return &b.Vars })},
		{Name: "cancel", Type: TypeBool, Doc: "`true`: cancel the reminders kept under `key` instead (a turno cancelled); only `key`, `next` and `on_fail` go with it.", bind: bind(func(b *remindStep) any { return &b.Cancel })},
		{Name: "next", Type: TypeStep, Required: true, Doc: "Where to go once the reminders are scheduled (or cancelled).", bind: bind(func(b *remindStep) any { return &b.Next })},
		{Name: "on_fail", Type: TypeStep, Doc: "Where to go when they cannot be; without it, to `next`.", bind: bind(func(b *remindStep) any { return &b.OnFail })},
	},
	Example: `spec_version: 1
id: example-remind
version: 1
institution: Example
title: {es: Ejemplo, en: Example}
locales: [es, en]
start: booked
steps:
  booked:
    kind: set
    vars:
      code: '"T-4F7K2"'
      day: '"2026-11-24"'
      hour: '"10:30"'
    next: remind
  remind:
    kind: remind
    key: code
    at: 'day + " " + hour'
    before: [24h, 2h]
    zone: America/Guayaquil
    text:
      es: "Recuerde su turno {{code}}: {{day}} {{hour}}. Responda 1 para confirmar, 2 para anular."
      en: "Reminder of appointment {{code}}: {{day}} {{hour}}. Reply 1 to confirm, 2 to cancel."
    reply: example-end
    vars: {code: code}
    next: done
    on_fail: done
  done:
    kind: end
    text: {es: "Le recordaremos su turno {{code}}.", en: "We will remind you of appointment {{code}}."}
`,
	new: func() body { return &remindStep{} },
}

// Booking names the reminders a remind step keeps: its key within the
// institution of the flow.
type Booking struct {
	Key, Flow, Institution string
}

// Reminder is one message a remind step schedules.
type Reminder struct {
	// Event is the time reminded of; Before, how long ahead this one
	// goes; Due, when it goes: Event - Before, out of the quiet hours.
	Event  time.Time
	Before time.Duration
	Due    time.Time
	// Zone and Quiet are the office's zone and quiet hours, for moving
	// the reminder to another Event later.
	Zone, Quiet string
	// Phone, Channel and Carrier are the conversation's: where the
	// citizen was.
	Phone, Channel, Carrier string
	Locale, Text            string
	// Reply is the flow the citizen's answer runs, with Vars.
	Reply string
	Vars  map[string]string
}

// Reminders keeps the reminders of bookings until they are due.
type Reminders interface {
	// Remind sets the reminders of b to rs: those kept for b before are
	// replaced, and those not in rs forgotten. Setting the same
	// reminders again changes nothing, so that a hop run twice sends
	// each once.
	Remind(ctx context.Context, b Booking, rs []Reminder) error
	// CancelReminders forgets the reminders of b not sent yet, and says
	// how many there were.
	CancelReminders(ctx context.Context, b Booking) (int, error)
}

// DefaultZone is the offices' time zone unless the engine is given one.
const DefaultZone = "America/Guayaquil"

// Limits of a remind step.
const (
	maxReminders   = 5
	maxBefore      = 90 * 24 * time.Hour
	MaxReminderKey = 100
)

type remindStep struct {
	Key    Expr
	At     Expr
	Before []Ref
	Text   Text
	Zone   Ref
	Quiet  Ref
	Reply  Ref
	Vars   []*Assign
	Cancel bool
	Next   Ref
	OnFail Ref

	zone    *time.Location // nil: the engine's
	quiet   *quiet.Hours   // nil: the engine's
	befores []time.Duration
}

func (b *remindStep) compile(c *compiler, s *Step) {
	c.expression(&b.Key, false)
	c.ref(b.Next, true)
	c.ref(b.OnFail, false)
	done := "scheduled"
	if b.Cancel {
		done = "cancelled"
	}
	c.edge(s, done, b.Next)
	if b.OnFail.ID != "" {
		c.edge(s, "failed", b.OnFail)
	} else {
		c.edge(s, "failed", b.Next)
	}
	if b.Cancel {
		for _, f := range []string{"at", "before", "text", "zone", "quiet_hours", "reply", "vars"} {
			if _, ok := s.fieldPos[f]; ok {
				c.r.errorf(s.fieldPos[f], s.Path+"."+f, "unknown-field", "a remind step that cancels takes only key, next and on_fail; %s belongs to one that schedules", f)
			}
		}
		return
	}
	for _, f := range []string{"at", "before", "text"} {
		if _, ok := s.fieldPos[f]; !ok {
			spec, _ := kindByName("remind")
			doc := ""
			for _, fs := range spec.Fields {
				if fs.Name == f {
					doc = fs.Doc
				}
			}
			c.r.errorf(s.Pos, s.Path, "missing-field", "a remind step needs %q: %s", f, doc)
		}
	}
	c.expression(&b.At, false)
	c.text(&b.Text, true)
	b.durations(c)
	if b.Zone.ID != "" {
		z, err := time.LoadLocation(b.Zone.ID)
		if err != nil || b.Zone.ID == "Local" {
			c.r.errorf(b.Zone.Pos, b.Zone.Path, "unknown-zone", "unknown time zone %q%s; write an IANA zone such as America/Guayaquil", b.Zone.ID, suggest(b.Zone.ID, zoneNames))
		} else {
			b.zone = z
		}
	}
	if b.Quiet.ID != "" {
		q, err := quiet.Parse(b.Quiet.ID, nil)
		if err != nil {
			c.r.errorf(b.Quiet.Pos, b.Quiet.Path, "wrong-type", "%v", err)
		} else {
			b.quiet = &q
		}
	}
	if b.Reply.ID != "" && c.env.Flow != nil && !c.env.Flow(b.Reply.ID) {
		c.r.errorf(b.Reply.Pos, b.Reply.Path, "unknown-flow", "unknown flow %q", b.Reply.ID)
	}
	for _, a := range b.Vars {
		c.expression(&a.Expr, false)
		c.variable(Ref{ID: a.Name, Pos: a.Pos, Path: a.Path})
	}
	if len(b.Vars) > 0 && b.Reply.ID == "" {
		c.r.warnf(s.fieldPos["vars"], s.Path+".vars", "vars-without-reply", "vars are given to the reply flow, and this step names none in reply")
	}
	if c.env.LateResults == LateAtNextContact {
		c.r.warnf(s.Pos, s.Path, "remind-without-carrier", "no SMS carrier is configured: citizens on USSD cannot be reminded, and the flow goes to %s", b.failure())
	}
}

// durations reads before: positive, distinct, at most maxReminders.
func (b *remindStep) durations(c *compiler) {
	if len(b.Before) > maxReminders {
		c.r.errorf(b.Before[maxReminders].Pos, b.Before[maxReminders].Path, "too-large", "%d reminders; at most %d", len(b.Before), maxReminders)
		return
	}
	for _, r := range b.Before {
		d, err := time.ParseDuration(r.ID)
		switch {
		case err != nil:
			c.r.errorf(r.Pos, r.Path, "wrong-type", "%q is not a duration: write it like 24h, 2h or 90m", r.ID)
			continue
		case d < time.Minute || d > maxBefore:
			c.r.errorf(r.Pos, r.Path, "wrong-type", "%s: a reminder goes from 1m to 2160h (90 days) before", r.ID)
			continue
		case slices.Contains(b.befores, d):
			c.r.errorf(r.Pos, r.Path, "duplicate", "%s: this reminder is listed twice", r.ID)
			continue
		}
		b.befores = append(b.befores, d)
	}
}

func (b *remindStep) failure() string {
	if b.OnFail.ID != "" {
		return "on_fail (" + b.OnFail.ID + ")"
	}
	return "next (" + b.Next.ID + ")"
}

func (b *remindStep) next() []Ref { return []Ref{b.Next, b.OnFail} }

func (b *remindStep) texts() []*Text { return []*Text{&b.Text} }

// Why a remind step did not schedule or cancel, for the log.
var (
	errNoReminders = errors.New("no reminder store is configured")
	errBadKey      = errors.New("the key is empty, too long or not printable")
	errBadAt       = errors.New("at is not a time YYYY-MM-DD HH:MM")
)

// run schedules (or cancels) the booking's reminders once the hop has
// confirmed that no other instance moved the conversation on. A run
// again sets the same reminders, which sends none twice.
func (b *remindStep) run(h *hop, cf *Compiled, st *Step) (Screen, exit, error) {
	ok := "scheduled"
	if b.Cancel {
		ok = "cancelled"
	}
	err := b.do(h, cf)
	if err == nil {
		return Screen{}, along(cf, st, ok), nil
	}
	var he hopError
	if errors.As(err, &he) {
		return Screen{}, exit{}, fmt.Errorf("%s step %q: %w", cf, st.ID, he.error)
	}
	if l := h.e.Log; l != nil {
		l.Warn("remind step failed", "flow", cf.String(), "step", st.ID, "cancel", b.Cancel, "err", err)
	}
	return Screen{}, along(cf, st, "failed"), nil
}

// hopError is an error that ends the hop rather than failing the step:
// an expression over budget, a stale copy of the conversation.
type hopError struct{ error }

func (b *remindStep) do(h *hop, cf *Compiled) error {
	if h.e.Reminders == nil {
		return errNoReminders
	}
	key, err := h.eval(&b.Key)
	if err != nil {
		return hopError{err}
	}
	bk := Booking{Key: str(key), Flow: cf.ID, Institution: cf.Institution}
	if !validKey(bk.Key) {
		return errBadKey
	}
	if b.Cancel {
		if err := h.confirm(); err != nil {
			return hopError{err}
		}
		_, err := h.e.Reminders.CancelReminders(h.ctx, bk)
		return err
	}
	zone := b.zone
	if zone == nil {
		zone = h.e.zone()
	}
	q := h.e.quiet()
	if b.quiet != nil {
		q = *b.quiet
	}
	q.Zone = zone
	atv, err := h.eval(&b.At)
	if err != nil {
		return hopError{err}
	}
	event, ok := parseLocal(str(atv), zone)
	if !ok {
		return fmt.Errorf("%w: %q", errBadAt, str(atv))
	}
	text := h.render(cf, &b.Text, nil)
	if text == "" {
		return errNoText
	}
	var vars map[string]string
	if b.Reply.ID != "" {
		vars = make(map[string]string, len(b.Vars))
		for _, a := range b.Vars {
			v, err := h.eval(&a.Expr)
			if err != nil {
				return hopError{err}
			}
			vars[a.Name] = str(v)
		}
	}
	now := h.e.now()
	s := h.s
	var rs []Reminder
	for _, before := range b.befores {
		due, ok := q.Due(event, before, now)
		if !ok {
			continue // its time has passed: not worth sending
		}
		rs = append(rs, Reminder{Event: event, Before: before, Due: due, Zone: zone.String(), Quiet: q.String(),
			Phone: s.Phone, Channel: s.Channel, Carrier: s.Carrier, Locale: s.Locale, Text: text,
			Reply: b.Reply.ID, Vars: vars})
	}
	if err := h.confirm(); err != nil {
		return hopError{err}
	}
	return h.e.Reminders.Remind(h.ctx, bk, rs)
}

// str is a value as text: a string as it is, nil as "".
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// validKey: a key names Redis keys and appears in URLs; printable and
// bounded.
func validKey(k string) bool {
	if k == "" || len(k) > MaxReminderKey || !utf8.ValidString(k) {
		return false
	}
	return strings.IndexFunc(k, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) || r == '/' }) < 0
}

// localLayouts are how an at may be written.
var localLayouts = []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"}

// parseLocal reads a local time in zone; a time with its own offset
// (RFC 3339) keeps it.
func parseLocal(s string, zone *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, s, zone); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (e *Engine) zone() *time.Location {
	if e.Zone != nil {
		return e.Zone
	}
	return defaultZone
}

func (e *Engine) quiet() quiet.Hours {
	if e.Quiet != nil {
		return *e.Quiet
	}
	return quiet.Default(nil)
}

var defaultZone = func() *time.Location {
	z, err := time.LoadLocation(DefaultZone)
	if err != nil {
		panic(err) // the zone database is embedded
	}
	return z
}()

// zoneNames are the zones a misspelt one is compared with: the region's.
var zoneNames = []string{
	"America/Argentina/Buenos_Aires", "America/Asuncion", "America/Bahia", "America/Belem", "America/Bogota",
	"America/Boa_Vista", "America/Campo_Grande", "America/Cancun", "America/Caracas", "America/Cayenne",
	"America/Chihuahua", "America/Costa_Rica", "America/Cuiaba", "America/El_Salvador", "America/Fortaleza",
	"America/Guatemala", "America/Guayaquil", "America/Guyana", "America/Havana", "America/Hermosillo",
	"America/La_Paz", "America/Lima", "America/Managua", "America/Manaus", "America/Mazatlan",
	"America/Merida", "America/Mexico_City", "America/Monterrey", "America/Montevideo", "America/New_York",
	"America/Panama", "America/Paramaribo", "America/Port-au-Prince", "America/Porto_Velho", "America/Puerto_Rico",
	"America/Punta_Arenas", "America/Recife", "America/Santiago", "America/Santo_Domingo", "America/Sao_Paulo",
	"America/Tegucigalpa", "America/Tijuana", "Atlantic/Stanley", "Europe/Madrid", "Pacific/Easter",
	"Pacific/Galapagos", "UTC",
}

// Replies lists the flows that cf's remind steps name in reply: flows
// that the citizens' answers to reminders start, not the menus.
func (cf *Compiled) Replies() []string {
	var out []string
	for _, id := range cf.Order {
		if b, ok := stepBody[*remindStep](cf.Steps[id]); ok && b.Reply.ID != "" && !slices.Contains(out, b.Reply.ID) {
			out = append(out, b.Reply.ID)
		}
	}
	return out
}
