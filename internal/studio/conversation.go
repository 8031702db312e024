package studio

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/internal/keys"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/chat"
	"github.com/ventanilla-gob/ventanilla/channels/sms"
	"github.com/ventanilla-gob/ventanilla/channels/ussd"
	convstate "github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/internal/flowtest"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/interop/flowcall"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// The three phones of the page.
const (
	PhoneUSSD = "ussd"
	PhoneSMS  = "sms"
	PhoneChat = "chat"
)

// serviceCode is what the feature phone dials; the start flow is routed
// to it, as a transcript's start is.
const serviceCode = "*384#"

// Settings are the switches of the page. Changing any but the back-end
// starts a new conversation.
type Settings struct {
	// Lang is the language a returning citizen chose before; a new
	// citizen chooses on the flow's first screen.
	Lang      string
	Returning bool
	// Verified: the citizen's number is known, as on USSD and SMS, and on
	// a chat platform once the citizen shares it (flows of level 1).
	Verified bool
	// Start is the flow the service code opens; "" is the root flow.
	Start string
	// Mocks is the transcript (file name) whose mocks answer the calls;
	// "" calls the flows' services.
	Mocks string
	// Picks maps a service to the answer picked for it (see Picks);
	// a service without one answers as the back-end does.
	Picks map[string]string
}

// turn is one hop the gateway ran: what the feature phone sent and showed.
type turn struct {
	dial   int
	send   string
	screen string
	end    bool
}

// bubble is one message of the SMS thread or the chat.
type bubble struct {
	Citizen bool
	Via     string // the phone a citizen's answer was typed on, when another
	Text    string
	Buttons [][]chat.Button
	Meta    string
}

// conversation is the one conversation the studio shows: a USSD
// conversation of the real gateway, whose every screen is also laid out
// for SMS and for chat.
type conversation struct {
	mu       sync.Mutex
	settings Settings
	store    *sessions.Memory
	gw       *gateway.Gateway
	caller   *caller
	phone    string
	limit    int
	smsOpts  sms.Options
	chatOpts chat.Options
	nav      flows.NavKeys

	dial       int  // carrier sessions so far: each call of *384#
	open       bool // a carrier session is open: the next answer goes to it
	hungUp     map[int]bool
	dialLocale map[int]string // the language remembered when each dial began
	turns      []turn

	shown     *flows.Screen // the screen the last hop laid out (Gateway.Shown)
	screen    flows.Screen  // the screen the phones show
	ussdText  string
	ussdEnd   bool
	smsPage   int
	chatPage  int
	smsThread []bubble
	chatMsgs  []bubble
	hopTime   time.Duration
	flow      string // where the conversation is, from the engine's observer
	step      string
	notice    string
}

// newConversation starts a conversation with a citizen as settings say.
func newConversation(ctx context.Context, st *Studio, settings Settings) (*conversation, error) {
	c := &conversation{
		settings:   settings,
		store:      sessions.NewMemory(sessions.MemoryOptions{Now: clock}),
		phone:      st.opts.Phone,
		limit:      st.opts.Limit,
		smsOpts:    st.opts.SMS,
		chatOpts:   st.opts.Chat,
		nav:        st.opts.Nav,
		hungUp:     map[int]bool{},
		dialLocale: map[int]string{},
	}
	if !settings.Verified {
		c.phone = ""
	}
	base, err := st.backend(settings.Mocks)
	if err != nil {
		return nil, err
	}
	c.caller = &caller{base: base, picks: settings.Picks}
	if settings.Returning && c.phone != "" {
		if err := c.store.Set(ctx, keys.Profile(c.phone), []byte(settings.Lang), time.Hour); err != nil {
			return nil, err
		}
	}
	engine := &flows.Engine{
		Flows:        st.registry,
		Messages:     st.opts.Messages,
		Caller:       flowcall.Caller(c.caller),
		Now:          clock,
		Nav:          st.opts.Nav,
		Root:         st.opts.Root,
		MaxHistory:   20,
		MaxAutoSteps: 64,
		Observer:     (*observer)(c),
		Log:          st.opts.Log,
	}
	c.gw = &gateway.Gateway{
		Engine: engine, Store: c.store, Now: clock, Budget: st.opts.Budget, Log: st.opts.Log,
		Routes: map[string]string{}, SMS: st.opts.SMS, Chat: st.opts.Chat,
		Shown: func(_ carrier.Inbound, s flows.Screen) { c.shown = &s },
	}
	if settings.Start != "" {
		c.gw.Routes[serviceCode] = settings.Start
	}
	return c, nil
}

// clock is the conversation's time: the transcripts', so that a
// conversation saved as one replays as it ran.
func clock() time.Time { return flowtest.Epoch }

// observer hears where the conversation is.
type observer conversation

func (o *observer) StepReached(flow, step string)      { o.flow, o.step = flow, step }
func (o *observer) StepCompleted(string, string)       {}
func (o *observer) Call(string, string, time.Duration) {}

// send applies what the citizen typed (or pressed) on a phone. Paging
// through a screen is the medium's own: More and Back on the SMS thread
// or the chat page that medium's layout and nothing else; every other
// answer goes to the conversation, and every phone shows what follows.
func (c *conversation) send(ctx context.Context, phone, text string) error {
	if phone != PhoneUSSD && c.open && c.page(phone, text) {
		return nil
	}
	if !c.open {
		return c.call(ctx, phone, text)
	}
	return c.hop(ctx, phone, text, text, carrier.EventContinue)
}

// call dials the service code: a new carrier session. A message typed on
// the SMS thread or the chat opens the conversation as a first text does
// on those channels; its words are not an answer to anything yet.
func (c *conversation) call(ctx context.Context, phone, text string) error {
	c.dial++
	c.open = true
	c.caller.mu.Lock()
	c.caller.dial = c.dial
	c.caller.mu.Unlock()
	if c.phone != "" {
		if rec, err := c.store.Get(ctx, keys.Profile(c.phone)); err == nil {
			c.dialLocale[c.dial] = string(rec.Data)
		}
	}
	return c.hop(ctx, phone, "", text, carrier.EventBegin)
}

// hangUp is the citizen ending the USSD session: the carrier tells the
// gateway, which keeps the conversation for a resume offer.
func (c *conversation) hangUp(ctx context.Context) error {
	if !c.open {
		return nil
	}
	c.open = false
	c.hungUp[c.dial] = true
	_, err := c.gw.Hop(ctx, c.inbound("", carrier.EventEnd))
	c.notice = "hung-up"
	return err
}

func (c *conversation) inbound(input string, ev carrier.Event) carrier.Inbound {
	return carrier.Inbound{
		Channel: "ussd", Carrier: "studio", SessionID: fmt.Sprintf("studio-%d", c.dial),
		Phone: c.phone, ServiceCode: serviceCode, Input: input, Limit: c.limit, Event: ev,
	}
}

// hop runs input through the gateway and lays its screen out on every
// phone; shown is what the citizen's bubble says.
func (c *conversation) hop(ctx context.Context, phone, input, shown string, ev carrier.Event) error {
	c.notice = ""
	c.shown = nil
	start := time.Now()
	reply, err := c.gw.Hop(ctx, c.inbound(input, ev))
	c.hopTime = time.Since(start)
	if err != nil && reply.Text == "" {
		return err
	}
	screen := flows.Screen{Text: reply.Text, End: reply.End}
	if c.shown != nil {
		// A hop past its budget answers "try again" in place of the screen
		// it laid out: the reply is what the citizen sees.
		if text, _ := ussd.Render(c.shown, c.limit); text == reply.Text {
			screen = *c.shown
		}
	}
	paged := sameScreen(&screen, &c.screen)
	c.screen = screen
	c.ussdText, c.ussdEnd = reply.Text, reply.End
	c.turns = append(c.turns, turn{dial: c.dial, send: input, screen: reply.Text, end: reply.End})
	if reply.End {
		c.open = false
	}
	if paged && phone == PhoneUSSD {
		// The feature phone paged through the screen the others show whole.
		return nil
	}
	c.smsPage, c.chatPage = 0, 0
	via := ""
	if phone != PhoneSMS {
		via = phone
	}
	if shown != "" || phone == PhoneSMS {
		c.smsThread = append(c.smsThread, bubble{Citizen: true, Text: shown, Via: via})
	}
	c.smsThread = append(c.smsThread, c.smsBubble())
	via = ""
	if phone != PhoneChat {
		via = phone
	}
	if shown != "" || phone == PhoneChat {
		c.chatMsgs = append(c.chatMsgs, bubble{Citizen: true, Text: shown, Via: via})
	}
	c.chatMsgs = append(c.chatMsgs, c.chatBubble())
	return nil
}

// page moves the SMS thread or the chat through the pages of the screen
// they show, when text is their More or Back key and there is a page to
// move to; it reports whether it did.
func (c *conversation) page(phone, text string) bool {
	var pages int
	at := &c.smsPage
	if phone == PhoneSMS {
		pages = sms.Pages(&c.screen, c.smsOpts)
	} else {
		at = &c.chatPage
		pages = chat.Pages(&c.screen, c.chatOpts)
	}
	switch {
	case text == c.nav.More && *at+1 < pages:
		*at++
	case text == c.nav.Back && *at > 0:
		*at--
	default:
		return false
	}
	if phone == PhoneSMS {
		c.smsThread = append(c.smsThread, bubble{Citizen: true, Text: text}, c.smsBubble())
	} else {
		c.chatMsgs = append(c.chatMsgs, bubble{Citizen: true, Text: text}, c.chatBubble())
	}
	return true
}

func (c *conversation) smsBubble() bubble {
	s := c.screen
	s.Page = c.smsPage
	text := sms.Render(&s, c.smsOpts)
	n, enc := sms.Segments(text)
	meta := fmt.Sprintf("%s · %s", encodingName(enc), plural(n, "segment", "segments"))
	// The other choice of transliteration, for what it would cost.
	other := c.smsOpts
	other.Transliterate = !other.Transliterate
	if alt := sms.Render(&s, other); alt != text {
		an, aenc := sms.Segments(alt)
		if other.Transliterate {
			meta += fmt.Sprintf("; transliterated it would be %s · %s", encodingName(aenc), plural(an, "segment", "segments"))
		} else {
			meta += fmt.Sprintf("; transliterated (without: %s · %s)", encodingName(aenc), plural(an, "segment", "segments"))
		}
	}
	if pages := sms.Pages(&s, c.smsOpts); pages > 1 {
		meta += fmt.Sprintf("; page %d of %d", c.smsPage+1, pages)
	}
	return bubble{Text: text, Meta: meta}
}

func (c *conversation) chatBubble() bubble {
	s := c.screen
	s.Page = c.chatPage
	m := chat.Render(&s, c.chatOpts)
	b := bubble{Text: m.Text, Buttons: m.Buttons}
	if pages := chat.Pages(&s, c.chatOpts); pages > 1 {
		b.Meta = fmt.Sprintf("page %d of %d", c.chatPage+1, pages)
	}
	return b
}

func encodingName(e sms.Encoding) string {
	if e == sms.UCS2 {
		return "UCS-2"
	}
	return "GSM-7"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// sameScreen reports whether a and b are one screen, whatever page of it.
func sameScreen(a, b *flows.Screen) bool {
	return a.Text == b.Text && a.End == b.End && slices.Equal(a.Options, b.Options) && a.Nav == b.Nav
}

// ussdCount is the characters of the feature phone's screen.
func (c *conversation) ussdCount() int { return utf8.RuneCountInString(c.ussdText) }

// reloaded moves the conversation onto flows just reloaded: a session on a
// step that still exists goes on from it, on the new version, and the
// phones show the step as it reads now. It reports false when the step is
// gone and the conversation must start over.
func (c *conversation) reloaded(ctx context.Context, reg *flows.Registry) bool {
	if !c.open {
		return true
	}
	key := gateway.Key(c.inbound("", carrier.EventContinue))
	rec, err := c.store.Get(ctx, key)
	if errors.Is(err, sessions.ErrNotFound) {
		return true
	}
	if err != nil {
		return false
	}
	var s convstate.State
	if err := s.UnmarshalBinary(rec.Data); err != nil {
		return false
	}
	var parent *flows.Compiled
	for i, f := range s.Frames {
		cf := reg.Latest(f.Flow)
		if cf == nil || (f.Step != "" && cf.Steps[f.Step] == nil) {
			return false
		}
		// The step a frame returns to is its parent's.
		if f.Return != "" && (parent == nil || parent.Steps[f.Return] == nil) {
			return false
		}
		s.Frames[i].Version = cf.Version
		parent = cf
	}
	data, err := s.MarshalBinary()
	if err != nil {
		return false
	}
	if _, err := c.store.Put(ctx, key, data, rec.Rev, 0); err != nil {
		return false
	}
	return c.redisplay(ctx) == nil
}

// redisplay shows the current screen again as the flows read now, in
// place of the last one: a begin on the running carrier session is the
// carrier retrying, which the gateway answers with the current screen
// without applying anything.
func (c *conversation) redisplay(ctx context.Context) error {
	c.shown = nil
	reply, err := c.gw.Hop(ctx, c.inbound("", carrier.EventBegin))
	if err != nil {
		return err
	}
	if c.shown == nil {
		return errors.New("the gateway showed no screen")
	}
	page := c.screen.Page
	c.screen = *c.shown
	c.screen.Page = page
	c.ussdText, c.ussdEnd = reply.Text, reply.End
	if n := len(c.turns); n > 0 {
		c.turns[n-1].screen, c.turns[n-1].end = reply.Text, reply.End
	}
	c.replaceLast(c.smsThread, c.smsBubble())
	c.replaceLast(c.chatMsgs, c.chatBubble())
	return nil
}

// replaceLast puts b in place of the thread's last message from the service.
func (c *conversation) replaceLast(thread []bubble, b bubble) {
	for i := len(thread) - 1; i >= 0; i-- {
		if !thread[i].Citizen {
			thread[i] = b
			return
		}
	}
}

// transcript is the conversation's current dial as a golden transcript.
func (c *conversation) transcript(name string) (*flowtest.Transcript, error) {
	dial := c.dial
	if dial == 0 {
		return nil, errors.New("nothing to save yet: call the service first")
	}
	switch {
	case c.phone == "":
		return nil, errors.New("a transcript's citizen has a verified number: switch the level to verified and record again")
	case c.hungUp[dial]:
		return nil, errors.New("this call was hung up: a transcript cannot replay a hang-up")
	}
	t := &flowtest.Transcript{Name: name, Start: c.settings.Start, Locale: c.dialLocale[dial], Mocks: map[string][]flowtest.Mock{}}
	if c.phone != defaultPhone {
		t.Phone = c.phone
	}
	if c.limit != ussd.DefaultLimit {
		t.Limit = c.limit
	}
	for _, tr := range c.turns {
		if tr.dial == dial {
			t.Hops = append(t.Hops, flowtest.Hop{Send: tr.send, Screen: tr.screen, End: tr.end})
		}
	}
	c.caller.mu.Lock()
	defer c.caller.mu.Unlock()
	for _, cl := range c.caller.calls {
		if cl.dial != dial {
			continue
		}
		if cl.pick == PickSlow {
			return nil, fmt.Errorf("%s answered slowly, past the hop's budget: a transcript's mocks answer at once", cl.service)
		}
		t.Mocks[cl.service] = append(t.Mocks[cl.service], cl.mock)
	}
	if len(t.Mocks) == 0 {
		t.Mocks = nil
	}
	return t, nil
}

// defaultPhone is a transcript's citizen when it names none.
const defaultPhone = "+593991234567"

// where says in words where the conversation is, for the page.
func (c *conversation) where() string {
	if c.flow == "" {
		return ""
	}
	return strings.TrimSpace(c.flow + " › " + c.step)
}
