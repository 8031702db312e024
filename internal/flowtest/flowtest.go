// Package flowtest runs golden conversation transcripts: scripted inputs
// and the exact screens a feature phone must show — and, where a hop says
// so, the SMS it queued and the reminders it scheduled — with back-end
// responses mocked. Flow authors run them with `ventanilla flows test`; the project's
// own tests run the catalogue's transcripts the same way. A transcript
// plays through the whole gateway (a memory store, USSD paging), so this
// package sits above the engine, not in it.
package flowtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/keys"

	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/diag"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/reminders"
	"github.com/ventanilla-gob/ventanilla/interop"
	"github.com/ventanilla-gob/ventanilla/interop/flowcall"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// Transcript is one scripted conversation.
type Transcript struct {
	Name   string            `yaml:"name"`
	Start  string            `yaml:"start"`  // flow to start; "" is the root flow
	Phone  string            `yaml:"phone"`  // default +593991234567
	Locale string            `yaml:"locale"` // remembered language; "" is a first contact
	Limit  int               `yaml:"limit"`  // screen limit; default 182
	Mocks  map[string][]Mock `yaml:"mocks"`
	Hops   []Hop             `yaml:"hops"`
	// File is the file the transcript was read from, which its
	// reminders' differences name.
	File string `yaml:"-"`
}

// Mock is one canned back-end response. Calls to a service take its mocks
// in order; the last one repeats.
type Mock struct {
	Status  int    `yaml:"status"`  // default 200
	Outcome string `yaml:"outcome"` // default derived from Status
	Body    any    `yaml:"body"`
	// Delay is how long the back-end takes to answer, on the transcript's
	// own clock: no test waits for it. A call that has less time left
	// (the hop's budget, the service's timeout) ends in timeout.
	Delay time.Duration `yaml:"-"`
	// Params, when set, are parameters the call must send, each with
	// this value; parameters it does not name are not checked.
	Params map[string]any `yaml:"params"`
}

// Hop is one input and the screen it must produce.
type Hop struct {
	Send   string `yaml:"send"`
	Screen string `yaml:"screen"`
	End    bool   `yaml:"end,omitempty"`
	// SMS, when the hop names it (sms: [] for none), are the SMS the hop
	// must queue to the citizen, in order: the texts of sms steps and the
	// late result of an async call. A hop without it does not check them.
	SMS      []SMS `yaml:"sms"`
	CheckSMS bool  `yaml:"-"`
	// Reminders, when the hop names them (reminders: [] for none), are
	// what its remind steps scheduled and cancelled, in order. A hop
	// without them does not check them.
	Reminders      []Reminder `yaml:"-"`
	CheckReminders bool       `yaml:"-"`
	// remindersPos is where the transcript writes reminders:.
	remindersPos diag.Pos
}

// SMS is one SMS a hop queued, as the flow wrote it (before the carrier
// lays it out: transliteration, segments).
type SMS struct {
	// To is "citizen", the conversation's number (the default), or a
	// number.
	To   string `yaml:"to,omitempty"`
	Text string `yaml:"text"`
}

// Citizen is how an SMS's To names the conversation's own number.
const Citizen = "citizen"

// Failure is a hop whose screen, SMS or reminders differ from the
// transcript.
type Failure struct {
	Hop       int
	Send      string
	Want, Got string
	WantEnd   bool
	GotEnd    bool
	// WantSMS and GotSMS are set when the SMS differ.
	WantSMS, GotSMS []SMS
	// WantReminders and GotReminders are set when the reminders differ,
	// and Differences says how, at the transcript's place.
	WantReminders, GotReminders []Reminder
	Differences                 diag.Problems
}

func (f Failure) String() string {
	s := fmt.Sprintf("hop %d (send %q):", f.Hop+1, f.Send)
	if f.Want != f.Got || f.WantEnd != f.GotEnd {
		s += fmt.Sprintf("\n--- want (end=%v)\n%s\n--- got (end=%v)\n%s", f.WantEnd, f.Want, f.GotEnd, f.Got)
	}
	if f.WantSMS != nil || f.GotSMS != nil {
		s += fmt.Sprintf("\n--- want SMS\n%s\n--- got SMS\n%s", listSMS(f.WantSMS), listSMS(f.GotSMS))
	}
	if len(f.Differences) > 0 {
		for _, p := range f.Differences {
			s += "\n" + p.String()
		}
		s += fmt.Sprintf("\n--- want reminders\n%s\n--- got reminders\n%s", listReminders(f.WantReminders), listReminders(f.GotReminders))
	}
	return s
}

func listSMS(l []SMS) string {
	if len(l) == 0 {
		return "(none)"
	}
	var b strings.Builder
	for i, m := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "to %s: %s", m.To, m.Text)
	}
	return b.String()
}

// outbox is the transcript's SMS carrier: it keeps what sms steps queue
// (once per key, as the outbound queue does) and the late results of
// async calls.
type outbox struct {
	mu   sync.Mutex
	keys map[string]bool
	sent []SMS
}

var (
	_ flows.SMSSender = (*outbox)(nil)
	_ flows.Notifier  = (*outbox)(nil)
)

func (o *outbox) SendSMS(_ context.Context, key, phone, _, text string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.keys[key] {
		return nil
	}
	o.keys[key] = true
	o.sent = append(o.sent, SMS{To: phone, Text: text})
	return nil
}

func (o *outbox) Notify(_ context.Context, phone, _, text string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, SMS{To: phone, Text: text})
	return nil
}

// take returns what was queued since the last take.
func (o *outbox) take() []SMS {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := o.sent
	o.sent = nil
	return out
}

// Runner runs transcripts against a set of flows.
type Runner struct {
	Flows    *flows.Registry
	Messages flows.Messages
	Root     string
	// Now is the fixed clock of every conversation (default Epoch).
	Now time.Time
	// Observer, when set, hears the steps the conversations reach: which
	// steps the transcripts cover.
	Observer flows.Observer
	// Budget is how long a hop may take (default the gateway's, 4 s);
	// Timeout, when set, is a service's own timeout. A slow mock is
	// measured against both.
	Budget  time.Duration
	Timeout func(service string) time.Duration
}

// Epoch is the clock of a transcript's conversation unless the Runner
// sets another: a Monday morning in Quito, so that what a flow shows
// never depends on the day it is tested.
var Epoch = time.Date(2026, 11, 23, 9, 0, 0, 0, time.FixedZone("ECT", -5*3600))

// Run plays a transcript and returns the screens it got, one per hop, and
// the hops whose screen differs.
func (r *Runner) Run(ctx context.Context, t *Transcript) ([]Hop, []Failure, error) {
	now := r.Now
	if now.IsZero() {
		now = Epoch
	}
	store := sessions.NewMemory(sessions.MemoryOptions{Now: func() time.Time { return now }})
	defer store.Close()
	phone := t.Phone
	if phone == "" {
		phone = "+593991234567"
	}
	if t.Locale != "" {
		if err := store.Set(ctx, keys.Profile(phone), []byte(t.Locale), time.Hour); err != nil {
			return nil, nil, err
		}
	}
	mocks := NewMocks(t.Mocks)
	mocks.Budget, mocks.Timeout = r.Budget, r.Timeout
	reg := r.Flows
	// The transcript runs where an SMS carrier can send: sms steps queue
	// to box, and an async call that outlasts its hop sends its result
	// there once the hop is over.
	box := &outbox{keys: map[string]bool{}}
	// Reminders are kept, on the transcript's clock, and never sent; the
	// log tells each hop what it scheduled and cancelled.
	rlog := &remindLog{next: gateway.StepReminders{SMS: "flowtest",
		Bookings: reminders.Bookings{Store: reminders.NewMemory(0), Now: func() time.Time { return now }}}}
	var later []func()
	engine := &flows.Engine{
		SMS:      box,
		Notifier: box,
		Later:    func(f func()) { later = append(later, f) },
		Flows:    func() *flows.Registry { return reg },
		Messages: r.Messages,
		Caller:   flowcall.Caller(mocks),
		Now:      func() time.Time { return now },
		Nav:      flows.DefaultNav,
		Root:     r.Root,
		Observer: r.Observer,
		// A number is asked to rate a flow once: a transcript's second
		// conversation in it is not asked again.
		Ratings:   gateway.Ratings{Store: store},
		Reminders: rlog,
	}
	gw := &gateway.Gateway{Engine: engine, Store: store, Routes: map[string]string{}, Budget: r.Budget}
	if t.Start != "" {
		gw.Routes["*384#"] = t.Start
	}
	var got []Hop
	var fails []Failure
	for i, h := range t.Hops {
		mocks.hop()
		reply, err := gw.Hop(ctx, carrier.Inbound{
			Channel: "ussd", Carrier: "flowtest", SessionID: "transcript", Phone: phone,
			ServiceCode: "*384#", Input: h.Send, Limit: t.Limit,
		})
		if err != nil {
			return got, fails, fmt.Errorf("hop %d: %w", i+1, err)
		}
		for _, f := range later {
			f()
		}
		later = later[:0]
		sms := box.take()
		for j := range sms {
			if sms[j].To == phone {
				sms[j].To = Citizen
			}
		}
		rs := rlog.take()
		got = append(got, Hop{Send: h.Send, Screen: reply.Text, End: reply.End, SMS: sms, CheckSMS: h.CheckSMS || len(sms) > 0,
			Reminders: rs, CheckReminders: h.CheckReminders || len(rs) > 0})
		f := Failure{Hop: i, Send: h.Send, Want: strings.TrimRight(h.Screen, "\n"), Got: reply.Text, WantEnd: h.End, GotEnd: reply.End}
		if w := want(h.SMS, phone); h.CheckSMS && !slices.Equal(w, sms) {
			f.WantSMS, f.GotSMS = w, sms
		}
		if h.CheckReminders {
			file := t.File
			if file == "" {
				file = t.Name
			}
			path := diag.Join(diag.Join("hops", strconv.Itoa(i)), "reminders")
			if d := compareReminders(file, path, h.remindersPos, h.Reminders, rs); len(d) > 0 {
				f.WantReminders, f.GotReminders, f.Differences = h.Reminders, rs, d
			}
		}
		if f.Want != f.Got || f.WantEnd != f.GotEnd || f.WantSMS != nil || f.GotSMS != nil || len(f.Differences) > 0 {
			fails = append(fails, f)
		}
		if reply.End && i < len(t.Hops)-1 {
			// The conversation is over; later hops start a new one, as a
			// citizen dialling again would.
			continue
		}
	}
	if err := mocks.Err(); err != nil {
		return got, fails, err
	}
	return got, fails, nil
}

// want is the SMS a hop expects, sent to the citizen unless To names
// another number.
func want(l []SMS, phone string) []SMS {
	out := make([]SMS, len(l))
	for i, m := range l {
		if m.To == "" || m.To == phone {
			m.To = Citizen
		}
		out[i] = m
	}
	return out
}

// ReadFile parses a transcript file. Its problems — a field or an
// outcome that does not exist, a delay that is not a duration — come back
// as diag.Problems at the file's line and column, with what is valid.
func ReadFile(path string) (*Transcript, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse reads a transcript from data; file names it in problems.
func Parse(file string, data []byte) (*Transcript, error) {
	root, p := diag.Parse(file, data)
	if p != nil {
		return nil, diag.Problems{*p}
	}
	if root == nil {
		return nil, diag.Problems{{File: file, Pos: diag.Pos{Line: 1, Col: 1}, Message: "the transcript is empty"}}
	}
	r := &diag.Report{File: file}
	delays, smsHops, remindHops := check(r, root)
	if len(r.Problems) > 0 {
		return nil, r.Problems
	}
	var t Transcript
	if err := root.Decode(&t); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	for service, list := range t.Mocks {
		for i := range list {
			list[i].Delay = delays[service][i]
		}
	}
	for _, i := range smsHops {
		t.Hops[i].CheckSMS = true
	}
	for i, rh := range remindHops {
		t.Hops[i].Reminders, t.Hops[i].CheckReminders, t.Hops[i].remindersPos = rh.list, true, rh.pos
	}
	t.File = file
	if t.Name == "" {
		t.Name = file
	}
	return &t, nil
}

var (
	transcriptFields = []string{"name", "start", "phone", "locale", "limit", "mocks", "hops"}
	mockFields       = []string{"status", "outcome", "body", "delay", "params"}
	hopFields        = []string{"send", "screen", "end", "sms", "reminders"}
	smsFields        = []string{"text", "to"}
)

// remindHop is a hop's reminders: and where it is written.
type remindHop struct {
	list []Reminder
	pos  diag.Pos
}

// check walks a transcript's nodes, reporting unknown fields and values,
// and returns the mocks' delays, the hops that check their SMS and those
// that check their reminders.
func check(r *diag.Report, root *yaml.Node) (map[string][]time.Duration, []int, map[int]remindHop) {
	delays := map[string][]time.Duration{}
	var smsHops []int
	remindHops := map[int]remindHop{}
	r.Pairs(root, "", nil, func(k, v *yaml.Node) {
		switch k.Value {
		case "mocks":
			r.Pairs(v, "mocks", nil, func(sk, sv *yaml.Node) {
				path := diag.Join("mocks", sk.Value)
				if sv.Kind != yaml.SequenceNode {
					r.At(sv, path, "expected a list of responses, found %s", diag.Describe(sv))
					return
				}
				for i, m := range sv.Content {
					delays[sk.Value] = append(delays[sk.Value], checkMock(r, m, diag.Join(path, strconv.Itoa(i))))
				}
			})
		case "hops":
			if v.Kind != yaml.SequenceNode {
				r.At(v, "hops", "expected a list of hops, found %s", diag.Describe(v))
				return
			}
			for i, h := range v.Content {
				path := diag.Join("hops", strconv.Itoa(i))
				r.Pairs(h, path, nil, func(hk, hv *yaml.Node) {
					switch {
					case hk.Value == "sms":
						checkSMS(r, hv, diag.Join(path, "sms"))
						smsHops = append(smsHops, i)
					case hk.Value == "reminders":
						remindHops[i] = remindHop{list: checkReminders(r, hv, diag.Join(path, "reminders")), pos: diag.At(hv)}
					case !slices.Contains(hopFields, hk.Value):
						r.Unknown(hk, path, hopFields)
					}
				})
			}
		default:
			if !slices.Contains(transcriptFields, k.Value) {
				r.Unknown(k, "", transcriptFields)
			}
		}
	})
	return delays, smsHops, remindHops
}

// checkSMS reads a hop's sms: a list of {text, to}.
func checkSMS(r *diag.Report, n *yaml.Node, path string) {
	if n.Kind != yaml.SequenceNode {
		r.At(n, path, "expected a list of SMS ({text: …, to: citizen}), found %s", diag.Describe(n))
		return
	}
	for i, m := range n.Content {
		at := diag.Join(path, strconv.Itoa(i))
		hasText := false
		r.Pairs(m, at, nil, func(k, v *yaml.Node) {
			switch k.Value {
			case "text":
				hasText = true
				if v.Kind != yaml.ScalarNode {
					r.At(v, diag.Join(at, "text"), "expected the SMS's text, found %s", diag.Describe(v))
				}
			case "to":
				if v.Kind != yaml.ScalarNode || (v.Value != Citizen && !strings.HasPrefix(v.Value, "+")) {
					r.At(v, diag.Join(at, "to"), "to is %q (the conversation's number) or a number such as +593991234567, found %s", Citizen, diag.Describe(v))
				}
			default:
				r.At(k, diag.Join(at, k.Value), "unknown field %q%s; fields: %s", k.Value, diag.DidYouMean(k.Value, smsFields), strings.Join(smsFields, ", "))
			}
		})
		if !hasText && m.Kind == yaml.MappingNode {
			r.At(m, at, "an SMS needs its text")
		}
	}
}

func checkMock(r *diag.Report, m *yaml.Node, path string) time.Duration {
	var delay time.Duration
	r.Pairs(m, path, nil, func(k, v *yaml.Node) {
		at := diag.Join(path, k.Value)
		switch k.Value {
		case "outcome":
			var names []string
			for _, o := range interop.Outcomes() {
				names = append(names, string(o))
			}
			if !slices.Contains(names, v.Value) || v.Kind != yaml.ScalarNode {
				r.At(v, at, "unknown outcome %q%s; outcomes: %s", v.Value, diag.DidYouMean(v.Value, names), strings.Join(names, ", "))
			}
		case "status":
			n, err := strconv.Atoi(v.Value)
			if err != nil || v.Kind != yaml.ScalarNode || n < 100 || n > 599 {
				r.At(v, at, "status must be an HTTP status (100–599), found %q", v.Value)
			}
		case "delay":
			d, err := time.ParseDuration(v.Value)
			if err != nil || v.Kind != yaml.ScalarNode || d < 0 {
				r.At(v, at, "delay must be a duration such as 800ms or 6s, found %q", v.Value)
				return
			}
			delay = d
		case "params":
			if v.Kind != yaml.MappingNode {
				r.At(v, at, "expected a mapping of parameter names to values, found %s", diag.Describe(v))
			}
		case "body":
		default:
			r.Unknown(k, path, mockFields)
		}
	})
	return delay
}

// Update rewrites the screens of a transcript file with got, keeping the
// rest of the file (comments included) as it is.
func Update(path string, got []Hop) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return err
	}
	hops := mapValue(doc.Content[0], "hops")
	if hops == nil || hops.Kind != yaml.SequenceNode {
		return fmt.Errorf("%s: no hops list", path)
	}
	for i, h := range hops.Content {
		if i >= len(got) {
			break
		}
		setScalar(h, "screen", got[i].Screen, yaml.LiteralStyle)
		if got[i].End {
			setScalar(h, "end", "true", 0)
		} else {
			deleteKey(h, "end")
		}
		if got[i].CheckSMS {
			setSMS(h, got[i].SMS)
		}
		if got[i].CheckReminders {
			setReminders(h, got[i].Reminders)
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func setScalar(m *yaml.Node, key, value string, style yaml.Style) {
	if v := mapValue(m, key); v != nil {
		v.Kind, v.Tag, v.Value, v.Style = yaml.ScalarNode, "", value, style
		if key == "end" {
			v.Tag = "!!bool"
		}
		return
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Value: key}
	v := &yaml.Node{Kind: yaml.ScalarNode, Value: value, Style: style}
	if key == "end" {
		v.Tag = "!!bool"
	}
	m.Content = append(m.Content, k, v)
}

// setSMS writes a hop's sms list: what it queued.
func setSMS(m *yaml.Node, sms []SMS) {
	list := &yaml.Node{Kind: yaml.SequenceNode}
	if len(sms) == 0 {
		list.Style = yaml.FlowStyle
	}
	for _, s := range sms {
		item := &yaml.Node{Kind: yaml.MappingNode}
		item.Content = append(item.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Value: "text"}, &yaml.Node{Kind: yaml.ScalarNode, Value: s.Text, Style: yaml.DoubleQuotedStyle},
			&yaml.Node{Kind: yaml.ScalarNode, Value: "to"}, &yaml.Node{Kind: yaml.ScalarNode, Value: s.To})
		list.Content = append(list.Content, item)
	}
	if v := mapValue(m, "sms"); v != nil {
		*v = *list
		return
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "sms"}, list)
}

func deleteKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// Mocks answers back-end calls with a transcript's mocks, as Run does:
// calls to a service take its mocks in order and the last one repeats.
// It serves one conversation at a time.
type Mocks struct {
	mocks map[string][]Mock
	used  map[string]int
	err   error
	// Budget and Timeout bound a slow mock as Runner's do.
	Budget  time.Duration
	Timeout func(service string) time.Duration
	spent   time.Duration // of the hop's budget, by slow mocks
}

// hop starts a new hop: its budget is whole again.
func (c *Mocks) hop() { c.spent = 0 }

func (c *Mocks) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf(format, args...)
	}
}

// NewMocks returns a caller that answers with mocks.
func NewMocks(mocks map[string][]Mock) *Mocks {
	return &Mocks{mocks: mocks, used: map[string]int{}}
}

// Err is the first call the mocks could not answer, if any.
func (c *Mocks) Err() error { return c.err }

// Call answers with the service's next mock; a service without one is
// unavailable, and Err says so.
func (c *Mocks) Call(ctx context.Context, service string, params map[string]any) interop.Response {
	list := c.mocks[service]
	if len(list) == 0 {
		c.fail("the conversation called %q but the transcript mocks no response for it", service)
		return interop.Response{Outcome: interop.Unavailable}
	}
	n := c.used[service]
	i := min(n, len(list)-1)
	c.used[service]++
	m := list[i]
	c.checkParams(service, n, m.Params, params)
	if m.Delay > 0 {
		left := c.budget() - c.spent
		if d, ok := ctx.Deadline(); ok && time.Until(d) > c.budget() {
			// The call may outlive its hop (async: sms): only its own
			// deadline and the service's timeout bound it. The engine
			// sees that it answered later than the hop could wait.
			left = time.Until(d)
		}
		if c.Timeout != nil {
			if t := c.Timeout(service); t > 0 && t < left {
				left = t
			}
		}
		if m.Delay >= left {
			c.spent += max(left, 0)
			return interop.Response{Outcome: interop.Timeout, Elapsed: max(left, 0), Err: fmt.Errorf("mock %q answers after %v; the call had %v", service, m.Delay, left)}
		}
		c.spent += m.Delay
	}
	status := m.Status
	if status == 0 {
		status = 200
	}
	body, err := json.Marshal(m.Body)
	if err != nil {
		c.err = fmt.Errorf("mock for %q: %w", service, err)
	}
	out := interop.Outcome(m.Outcome)
	if out == "" {
		switch {
		case status < 300:
			out = interop.OK
		case status == 404:
			out = interop.NotFound
		case status < 500:
			out = interop.Rejected
		default:
			out = interop.Error
		}
	}
	return interop.Response{Outcome: out, Status: status, Body: body, Elapsed: m.Delay}
}

func (c *Mocks) budget() time.Duration {
	if c.Budget > 0 {
		return c.Budget
	}
	return 4 * time.Second
}

// checkParams compares the parameters a call sent with those its mock
// expects, as JSON, so that 5 and "5" differ as they do on the wire.
func (c *Mocks) checkParams(service string, call int, want, got map[string]any) {
	names := slices.Sorted(maps.Keys(want))
	for _, name := range names {
		w, _ := json.Marshal(want[name])
		g, ok := got[name]
		if !ok {
			c.fail("call %d to %q: it sent no parameter %q (want %s)", call+1, service, name, w)
			return
		}
		gj, _ := json.Marshal(g)
		if !bytes.Equal(w, gj) {
			c.fail("call %d to %q: parameter %q is %s, want %s", call+1, service, name, gj, w)
			return
		}
	}
}
