// Package flowtest runs golden conversation transcripts: scripted inputs
// and the exact screens a feature phone must show, with back-end responses
// mocked. Flow authors run them with `ventanilla flows test`; the project's
// own tests run the catalogue's transcripts the same way. A transcript
// plays through the whole gateway (a memory store, USSD paging), so this
// package sits above the engine, not in it.
package flowtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/keys"

	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/diag"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
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
}

// Mock is one canned back-end response. Calls to a service take its mocks
// in order; the last one repeats.
type Mock struct {
	Status  int    `yaml:"status"`  // default 200
	Outcome string `yaml:"outcome"` // default derived from Status
	Body    any    `yaml:"body"`
}

// Hop is one input and the screen it must produce.
type Hop struct {
	Send   string `yaml:"send"`
	Screen string `yaml:"screen"`
	End    bool   `yaml:"end,omitempty"`
}

// Failure is a hop whose screen differs from the transcript.
type Failure struct {
	Hop       int
	Send      string
	Want, Got string
	WantEnd   bool
	GotEnd    bool
}

func (f Failure) String() string {
	return fmt.Sprintf("hop %d (send %q):\n--- want (end=%v)\n%s\n--- got (end=%v)\n%s", f.Hop+1, f.Send, f.WantEnd, f.Want, f.GotEnd, f.Got)
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
	reg := r.Flows
	engine := &flows.Engine{
		Flows:    func() *flows.Registry { return reg },
		Messages: r.Messages,
		Caller:   flowcall.Caller(mocks),
		Now:      func() time.Time { return now },
		Nav:      flows.DefaultNav,
		Root:     r.Root,
		Observer: r.Observer,
		// A number is asked to rate a flow once: a transcript's second
		// conversation in it is not asked again.
		Ratings: gateway.Ratings{Store: store},
	}
	gw := &gateway.Gateway{Engine: engine, Store: store, Routes: map[string]string{}}
	if t.Start != "" {
		gw.Routes["*384#"] = t.Start
	}
	var got []Hop
	var fails []Failure
	for i, h := range t.Hops {
		reply, err := gw.Hop(ctx, carrier.Inbound{
			Channel: "ussd", Carrier: "flowtest", SessionID: "transcript", Phone: phone,
			ServiceCode: "*384#", Input: h.Send, Limit: t.Limit,
		})
		if err != nil {
			return got, fails, fmt.Errorf("hop %d: %w", i+1, err)
		}
		got = append(got, Hop{Send: h.Send, Screen: reply.Text, End: reply.End})
		if reply.Text != strings.TrimRight(h.Screen, "\n") || reply.End != h.End {
			fails = append(fails, Failure{Hop: i, Send: h.Send, Want: strings.TrimRight(h.Screen, "\n"), Got: reply.Text, WantEnd: h.End, GotEnd: reply.End})
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

// ReadFile parses a transcript file; a misspelt key stops it at its
// line and column, with the key meant.
func ReadFile(path string) (*Transcript, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t Transcript
	if err := diag.Decode(path, data, &t); err != nil {
		return nil, err
	}
	if t.Name == "" {
		t.Name = path
	}
	return &t, nil
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
}

// NewMocks returns a caller that answers with mocks.
func NewMocks(mocks map[string][]Mock) *Mocks {
	return &Mocks{mocks: mocks, used: map[string]int{}}
}

// Err is the first call the mocks could not answer, if any.
func (c *Mocks) Err() error { return c.err }

// Call answers with the service's next mock; a service without one is
// unavailable, and Err says so.
func (c *Mocks) Call(_ context.Context, service string, _ map[string]any) interop.Response {
	list := c.mocks[service]
	if len(list) == 0 {
		if c.err == nil {
			c.err = fmt.Errorf("the conversation called %q but the transcript mocks no response for it", service)
		}
		return interop.Response{Outcome: interop.Unavailable}
	}
	i := min(c.used[service], len(list)-1)
	c.used[service]++
	m := list[i]
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
	return interop.Response{Outcome: out, Status: status, Body: body}
}
