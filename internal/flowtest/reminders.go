package flowtest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/diag"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/internal/reminders"
)

// Reminder is one reminder a hop's remind step scheduled, or the
// cancellation of a booking's reminders (Cancelled, with its Key alone).
// At and Due are local times in Zone, the office's zone the step named
// (default flows.DefaultZone): Due is when the reminder goes, Before
// ahead of At and out of the quiet hours.
type Reminder struct {
	Key       string
	Cancelled bool
	At, Due   time.Time
	Before    time.Duration
	Zone      string
	// Text is the reminder as the flow wrote it, in the citizen's
	// language; Reply the flow the citizen's answer runs, with Vars.
	Text  string
	Reply string
	Vars  map[string]string

	// pos is where the transcript writes it: the entry and its fields.
	pos    diag.Pos
	fields map[string]diag.Pos
}

// localLayout is how a transcript writes At and Due, in the zone.
const localLayout = "2006-01-02 15:04"

// localLayouts are what a transcript may write them as: those a remind
// step reads.
var localLayouts = []string{localLayout, "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"}

func local(t time.Time, zone string) string {
	if z, err := time.LoadLocation(zoneOr(zone)); err == nil {
		t = t.In(z)
	}
	if t.Second() != 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format(localLayout)
}

func zoneOr(z string) string {
	if z == "" {
		return flows.DefaultZone
	}
	return z
}

func (r Reminder) String() string {
	if r.Cancelled {
		return fmt.Sprintf("key %s: cancelled", r.Key)
	}
	s := fmt.Sprintf("key %s: %s before %s, due %s (%s): %q", r.Key, reminders.Span(r.Before),
		local(r.At, r.Zone), local(r.Due, r.Zone), zoneOr(r.Zone), r.Text)
	if r.Reply != "" {
		s += ", reply " + r.Reply
	}
	if len(r.Vars) > 0 {
		var vs []string
		for _, k := range slices.Sorted(maps.Keys(r.Vars)) {
			vs = append(vs, fmt.Sprintf("%s: %q", k, r.Vars[k]))
		}
		s += " {" + strings.Join(vs, ", ") + "}"
	}
	return s
}

func listReminders(l []Reminder) string {
	if len(l) == 0 {
		return "(none)"
	}
	var b strings.Builder
	for i, r := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(r.String())
	}
	return b.String()
}

// remindLog is the transcript's reminder store: it keeps what remind
// steps schedule and cancel, in order, for the hop's reminders, and
// hands them on to the store that keeps them on the transcript's clock.
type remindLog struct {
	next flows.Reminders
	mu   sync.Mutex
	got  []Reminder
}

var _ flows.Reminders = (*remindLog)(nil)

func (l *remindLog) Remind(ctx context.Context, b flows.Booking, rs []flows.Reminder) error {
	if err := l.next.Remind(ctx, b, rs); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range rs {
		l.got = append(l.got, Reminder{Key: b.Key, At: r.Event, Before: r.Before, Due: r.Due, Zone: r.Zone,
			Text: r.Text, Reply: r.Reply, Vars: r.Vars})
	}
	return nil
}

func (l *remindLog) CancelReminders(ctx context.Context, b flows.Booking) (int, error) {
	n, err := l.next.CancelReminders(ctx, b)
	if err != nil {
		return n, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, Reminder{Key: b.Key, Cancelled: true})
	return n, nil
}

// take returns what was scheduled and cancelled since the last take.
func (l *remindLog) take() []Reminder {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.got
	l.got = nil
	for i := range out {
		if out[i].Zone == flows.DefaultZone {
			out[i].Zone = ""
		}
	}
	return out
}

var (
	reminderFields = []string{"key", "at", "before", "due", "zone", "text", "reply", "vars", "cancelled"}
	// required are the fields a scheduled reminder's assertion must
	// write: what it is, and when it goes.
	required = []string{"key", "at", "before", "due", "text"}
)

// checkReminders reads a hop's reminders: a list of
// {key, at, before, due, zone, text, reply, vars} or {key, cancelled: true}.
func checkReminders(r *diag.Report, n *yaml.Node, path string) []Reminder {
	if n.Kind != yaml.SequenceNode {
		r.At(n, path, "expected a list of reminders ({key: …, at: …, before: 24h, due: …, text: …} or {key: …, cancelled: true}), found %s", diag.Describe(n))
		return nil
	}
	var out []Reminder
	for i, item := range n.Content {
		at := diag.Join(path, strconv.Itoa(i))
		rm := Reminder{pos: diag.At(item), fields: map[string]diag.Pos{}}
		var atNode, dueNode *yaml.Node
		unknown := false
		r.Pairs(item, at, nil, func(k, v *yaml.Node) {
			fp := diag.Join(at, k.Value)
			if !slices.Contains(reminderFields, k.Value) {
				unknown = true
				r.At(k, fp, "unknown field %q%s; fields: %s", k.Value, diag.DidYouMean(k.Value, reminderFields), strings.Join(reminderFields, ", "))
				return
			}
			rm.fields[k.Value] = diag.At(v)
			if k.Value == "vars" {
				if v.Kind != yaml.MappingNode {
					r.At(v, fp, "expected a mapping of the reply flow's variables to their values, found %s", diag.Describe(v))
					return
				}
				rm.Vars = map[string]string{}
				r.Pairs(v, fp, nil, func(vk, vv *yaml.Node) {
					if vv.Kind != yaml.ScalarNode {
						r.At(vv, diag.Join(fp, vk.Value), "expected the variable's value as text, found %s", diag.Describe(vv))
						return
					}
					rm.Vars[vk.Value] = vv.Value
				})
				return
			}
			if v.Kind != yaml.ScalarNode {
				r.At(v, fp, "expected %s, found %s", k.Value, diag.Describe(v))
				return
			}
			switch k.Value {
			case "key":
				rm.Key = v.Value
			case "at":
				atNode = v
			case "due":
				dueNode = v
			case "before":
				d, err := time.ParseDuration(v.Value)
				if err != nil || d <= 0 {
					r.At(v, fp, "before must be a duration such as 24h or 90m, found %q", v.Value)
				}
				rm.Before = d
			case "zone":
				if _, err := time.LoadLocation(v.Value); err != nil || v.Value == "Local" || v.Value == "" {
					r.At(v, fp, "unknown time zone %q; write an IANA zone such as America/Guayaquil", v.Value)
					return
				}
				rm.Zone = v.Value
				if rm.Zone == flows.DefaultZone {
					rm.Zone = ""
				}
			case "text":
				rm.Text = v.Value
			case "reply":
				rm.Reply = v.Value
			case "cancelled":
				if v.Value != "true" {
					r.At(v, fp, "cancelled is true (the booking's reminders were cancelled), found %q; a reminder scheduled has no cancelled", v.Value)
				}
				rm.Cancelled = true
			}
		})
		if item.Kind != yaml.MappingNode {
			continue
		}
		zone, _ := time.LoadLocation(zoneOr(rm.Zone))
		rm.At = readLocal(r, atNode, diag.Join(at, "at"), zone)
		rm.Due = readLocal(r, dueNode, diag.Join(at, "due"), zone)
		if rm.Cancelled {
			for _, f := range reminderFields {
				if _, ok := rm.fields[f]; ok && f != "key" && f != "cancelled" {
					r.At(item, diag.Join(at, f), "a cancellation names its key alone; %s belongs to a reminder scheduled", f)
				}
			}
			if _, ok := rm.fields["key"]; !ok {
				r.At(item, at, "a cancellation needs the booking's key")
			}
		} else {
			var missing []string
			for _, f := range required {
				if _, ok := rm.fields[f]; !ok {
					missing = append(missing, f)
				}
			}
			if len(missing) > 0 && !unknown { // a misspelt field is said once
				r.At(item, at, "a reminder needs %s (or, for a cancellation, key and cancelled: true)", strings.Join(missing, ", "))
			}
		}
		out = append(out, rm)
	}
	return out
}

// readLocal reads at or due, a local time in zone.
func readLocal(r *diag.Report, n *yaml.Node, path string, zone *time.Location) time.Time {
	if n == nil || zone == nil {
		return time.Time{}
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, strings.TrimSpace(n.Value), zone); err == nil {
			return t
		}
	}
	r.At(n, path, "expected a local time such as \"2026-11-24 10:30\" (in the reminder's zone), found %q", n.Value)
	return time.Time{}
}

// compareReminders says, at the transcript's place, how what a hop
// scheduled differs from what it must.
func compareReminders(file, path string, listPos diag.Pos, want, got []Reminder) diag.Problems {
	var ps diag.Problems
	for i := range min(len(want), len(got)) {
		w, g := want[i], got[i]
		at := diag.Join(path, strconv.Itoa(i))
		differ := func(field, ws, gs string) {
			pos, ok := w.fields[field]
			if !ok {
				pos = w.pos
			}
			ps = append(ps, diag.Problem{File: file, Pos: pos, Path: diag.Join(at, field), Message: fmt.Sprintf("want %s, got %s", ws, gs)})
		}
		if w.Key != g.Key {
			differ("key", strconv.Quote(w.Key), strconv.Quote(g.Key))
		}
		if w.Cancelled != g.Cancelled {
			ps = append(ps, diag.Problem{File: file, Pos: w.pos, Path: at,
				Message: fmt.Sprintf("want %s, got %s", w, g)})
			continue
		}
		if w.Cancelled {
			continue
		}
		if zoneOr(w.Zone) != zoneOr(g.Zone) {
			differ("zone", strconv.Quote(zoneOr(w.Zone)), strconv.Quote(zoneOr(g.Zone)))
		}
		if !w.At.Equal(g.At) {
			differ("at", strconv.Quote(local(w.At, w.Zone)), strconv.Quote(local(g.At, w.Zone)))
		}
		if w.Before != g.Before {
			differ("before", reminders.Span(w.Before), reminders.Span(g.Before))
		}
		if !w.Due.Equal(g.Due) {
			differ("due", strconv.Quote(local(w.Due, w.Zone)), strconv.Quote(local(g.Due, w.Zone)))
		}
		if w.Text != g.Text {
			differ("text", strconv.Quote(w.Text), strconv.Quote(g.Text))
		}
		if w.Reply != g.Reply {
			differ("reply", orNone(w.Reply), orNone(g.Reply))
		}
		if !maps.Equal(w.Vars, g.Vars) {
			differ("vars", listVars(w.Vars), listVars(g.Vars))
		}
	}
	for i := len(got); i < len(want); i++ {
		ps = append(ps, diag.Problem{File: file, Pos: want[i].pos, Path: diag.Join(path, strconv.Itoa(i)),
			Message: fmt.Sprintf("want %s, got none: the hop %s", want[i], didNot(want[i]))})
	}
	for i := len(want); i < len(got); i++ {
		ps = append(ps, diag.Problem{File: file, Pos: listPos, Path: path,
			Message: fmt.Sprintf("the hop %s, which the transcript does not list: %s", did(got[i]), got[i])})
	}
	return ps
}

func did(r Reminder) string {
	if r.Cancelled {
		return "cancelled reminders"
	}
	return "scheduled a reminder"
}

func didNot(r Reminder) string {
	if r.Cancelled {
		return "cancelled no more reminders"
	}
	return "scheduled no more reminders"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return strconv.Quote(s)
}

func listVars(m map[string]string) string {
	if len(m) == 0 {
		return "none"
	}
	var vs []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		vs = append(vs, fmt.Sprintf("%s: %q", k, m[k]))
	}
	return "{" + strings.Join(vs, ", ") + "}"
}

// setReminders writes a hop's reminders list: what it scheduled and
// cancelled.
func setReminders(m *yaml.Node, rs []Reminder) {
	list := &yaml.Node{Kind: yaml.SequenceNode}
	if len(rs) == 0 {
		list.Style = yaml.FlowStyle
	}
	scalar := func(v string, style yaml.Style) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Value: v, Style: style}
	}
	for _, r := range rs {
		item := &yaml.Node{Kind: yaml.MappingNode}
		add := func(k string, v *yaml.Node) { item.Content = append(item.Content, scalar(k, 0), v) }
		add("key", scalar(r.Key, 0))
		if r.Cancelled {
			item.Style = yaml.FlowStyle
			add("cancelled", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
			list.Content = append(list.Content, item)
			continue
		}
		add("at", scalar(local(r.At, r.Zone), yaml.DoubleQuotedStyle))
		add("before", scalar(reminders.Span(r.Before), 0))
		add("due", scalar(local(r.Due, r.Zone), yaml.DoubleQuotedStyle))
		if r.Zone != "" {
			add("zone", scalar(r.Zone, 0))
		}
		add("text", scalar(r.Text, yaml.DoubleQuotedStyle))
		if r.Reply != "" {
			add("reply", scalar(r.Reply, 0))
		}
		if len(r.Vars) > 0 {
			vars := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
			for _, k := range slices.Sorted(maps.Keys(r.Vars)) {
				vars.Content = append(vars.Content, scalar(k, 0), scalar(r.Vars[k], yaml.DoubleQuotedStyle))
			}
			add("vars", vars)
		}
		list.Content = append(list.Content, item)
	}
	if v := mapValue(m, "reminders"); v != nil {
		*v = *list
		return
	}
	m.Content = append(m.Content, scalar("reminders", 0), list)
}
