package telegram_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/telegram"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

var menu = carrier.Reply{
	Text: "Bienvenido a Ventanilla. Elija su idioma:",
	Buttons: [][]carrier.Button{
		{{Label: "Español", Data: "1"}},
		{{Label: "English", Data: "2"}},
		{{Label: "Atrás", Data: "0"}, {Label: "Más", Data: "98"}},
	},
}

func memoryStore(t testing.TB, now func() time.Time) *sessions.Memory {
	s := sessions.NewMemory(sessions.MemoryOptions{Now: now})
	t.Cleanup(func() { s.Close() })
	return s
}

// Only a request with the right secret reaches the Hopper.
func TestWebhookSecret(t *testing.T) {
	api := newFakeAPI(t)
	for _, tc := range []struct {
		name   string
		secret string
		want   int
		hops   int
	}{
		{"right secret", testSecret, http.StatusOK, 1},
		{"wrong secret", "s3cr3t-Webhook_tokeX", http.StatusForbidden, 0},
		{"secret prefix", testSecret[:5], http.StatusForbidden, 0},
		{"missing secret", "", http.StatusUnauthorized, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := newBot(t, api, telegram.Options{})
			h := &hopper{Reply: carrier.Reply{Text: "ok"}}
			rec := post(server(b, h), testdata(t, "text.json"), tc.secret)
			if rec.Code != tc.want || len(h.Calls()) != tc.hops {
				t.Errorf("status %d, hops %d; want %d, %d", rec.Code, len(h.Calls()), tc.want, tc.hops)
			}
		})
	}
	t.Run("no secret configured refuses all", func(t *testing.T) {
		logs := &logBuffer{}
		b, err := telegram.New(telegram.Options{Token: testToken, APIEndpoint: api.endpoint(), HTTPClient: loopbackClient(t, nil), Log: slog.New(slog.NewTextHandler(logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		h := &hopper{}
		if rec := post(server(b, h), testdata(t, "text.json"), "anything"); rec.Code != http.StatusForbidden || len(h.Calls()) != 0 {
			t.Errorf("status %d, hops %d", rec.Code, len(h.Calls()))
		}
		if !strings.Contains(logs.String(), "without a secret") {
			t.Errorf("mounting without a secret was not logged: %s", logs)
		}
	})
}

// A text message becomes an Inbound on the chat channel, and the reply
// goes by sendMessage with the buttons as an inline keyboard whose
// callback data are the buttons' Data.
func TestTextMessage(t *testing.T) {
	api := newFakeAPI(t)
	b, _ := newBot(t, api, telegram.Options{Links: sessions.Plain{Store: memoryStore(t, nil)}})
	h := &hopper{Reply: menu}
	if rec := post(server(b, h), testdata(t, "text.json"), testSecret); rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	want := carrier.Inbound{Channel: "chat", Carrier: "telegram", SessionID: "4242", Input: "hola", Seq: 810000001}
	if got := h.Calls(); len(got) != 1 || got[0] != want {
		t.Fatalf("inbound %+v, want %+v", got, want)
	}
	sent := api.Calls()
	if len(sent) != 1 || sent[0].Method != "sendMessage" {
		t.Fatalf("calls %+v", sent)
	}
	if got := sent[0].Form.Get("chat_id"); got != "4242" {
		t.Errorf("chat_id %q", got)
	}
	if got := sent[0].Form.Get("text"); got != menu.Text {
		t.Errorf("text %q", got)
	}
	m := markupOf(t, sent[0])
	if got := m.callbackData(); !slices.Equal(got, []string{"1", "2", "0", "98"}) {
		t.Errorf("callback_data %q", got)
	}
	if got := m.inlineLabels(); !slices.Equal(got, []string{"Español", "English", "Atrás", "Más"}) {
		t.Errorf("labels %q", got)
	}
	if len(m.Inline) != 3 || len(m.Inline[2]) != 2 {
		t.Errorf("rows not kept: %+v", m.Inline)
	}
}

// A final screen goes without buttons; buttons Telegram would reject
// (empty or oversized callback data) are left out rather than sink the
// message.
func TestReplyShapes(t *testing.T) {
	api := newFakeAPI(t)
	b, _ := newBot(t, api, telegram.Options{})
	e := server(b, &hopper{reply: func(in carrier.Inbound) carrier.Reply {
		switch in.Input {
		case "end":
			return carrier.Reply{Text: "Gracias.", End: true, Buttons: menu.Buttons}
		case "bad":
			return carrier.Reply{Text: "x", Buttons: [][]carrier.Button{{{Label: "ok", Data: "1"}, {Label: "empty"}, {Label: "long", Data: strings.Repeat("9", 65)}}}}
		case "empty":
			return carrier.Reply{Buttons: menu.Buttons}
		}
		return carrier.Reply{}
	}})
	post(e, textUpdate(1, chatID, "end"), testSecret)
	post(e, textUpdate(2, chatID, "bad"), testSecret)
	post(e, textUpdate(3, chatID, "empty"), testSecret)
	post(e, textUpdate(4, chatID, "nothing"), testSecret)
	sent := api.Calls()
	if len(sent) != 3 {
		t.Fatalf("%d calls: %+v", len(sent), sent)
	}
	if m := markupOf(t, sent[0]); sent[0].Form.Get("reply_markup") != "" || len(m.Inline) != 0 {
		t.Errorf("end screen has markup %q", sent[0].Form.Get("reply_markup"))
	}
	if got := markupOf(t, sent[1]).callbackData(); !slices.Equal(got, []string{"1"}) {
		t.Errorf("bad buttons: %q", got)
	}
	if got := sent[2].Form.Get("text"); got == "" {
		t.Error("a screen with buttons and no text was sent without text")
	}
}

// A press on an inline button is the button's Data; the callback query
// is answered (after the next screen is sent) so the button stops
// spinning.
func TestCallbackQuery(t *testing.T) {
	api := newFakeAPI(t)
	b, _ := newBot(t, api, telegram.Options{Links: sessions.Plain{Store: memoryStore(t, nil)}})
	h := &hopper{Reply: menu}
	e := server(b, h)
	post(e, testdata(t, "callback.json"), testSecret)
	in := h.Calls()
	if len(in) != 1 || in[0].Input != "2" || in[0].SessionID != "4242" || in[0].Seq != 810000003 {
		t.Fatalf("inbound %+v", in)
	}
	sent := api.Calls()
	if len(sent) != 2 || sent[0].Method != "sendMessage" || sent[1].Method != "answerCallbackQuery" {
		t.Fatalf("calls %+v", sent)
	}
	if got := sent[1].Form.Get("callback_query_id"); got != "4382bfdwdsb323b2d9" {
		t.Errorf("callback_query_id %q", got)
	}
	if got := sent[1].Form.Get("text"); got != "" {
		t.Errorf("a normal press shows a notice: %q", got)
	}
}

// Buttons of a message older than the last one sent with buttons belong
// to another screen: pressing one does not reach the gateway (it would
// answer the current question with an old choice), and a notice says so.
func TestOldButtonsAreStale(t *testing.T) {
	api := newFakeAPI(t)
	b, _ := newBot(t, api, telegram.Options{Links: sessions.Plain{Store: memoryStore(t, nil)}})
	h := &hopper{Reply: menu}
	e := server(b, h)
	post(e, textUpdate(1, chatID, "hola"), testSecret) // message 7001
	post(e, callbackUpdate(2, chatID, 7001, "1"), testSecret)
	api.reset()
	post(e, callbackUpdate(3, chatID, 7001, "2"), testSecret) // 7002 is the current one
	if n := len(h.Calls()); n != 2 {
		t.Errorf("stale press reached the gateway: %d hops", n)
	}
	sent := api.Calls()
	if len(sent) != 1 || sent[0].Method != "answerCallbackQuery" || sent[0].Form.Get("text") != "Esa opción ya no está disponible." {
		t.Errorf("calls %+v", sent)
	}
	post(e, callbackUpdate(4, chatID, 7002, "2"), testSecret)
	if n := len(h.Calls()); n != 3 {
		t.Errorf("current press: %d hops", n)
	}
}

// Commands are keywords; /start is "start" (and offers the phone-sharing
// button); a deep link's payload is the keyword it names.
func TestCommands(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"/start", "start"},
		{"/ayuda", "ayuda"},
		{"/AYUDA", "ayuda"},
		{"/estado@ventanilla_test_bot 1002", "estado 1002"},
		{"/start estado_1002", "estado 1002"},
		{"/ no es un comando", "/ no es un comando"},
		{"/ñandú", "/ñandú"},
	} {
		t.Run(tc.text, func(t *testing.T) {
			api := newFakeAPI(t)
			b, _ := newBot(t, api, telegram.Options{})
			h := &hopper{Reply: carrier.Reply{Text: "ok"}}
			post(server(b, h), textUpdate(1, chatID, tc.text), testSecret)
			if in := h.Calls(); len(in) != 1 || in[0].Input != tc.want {
				t.Errorf("input %+v, want %q", in, tc.want)
			}
		})
	}
}

// The first screen of a chat with no linked number comes with a second
// message holding the request_contact button, labelled in the language
// of the citizen's Telegram app.
func TestStartOffersPhoneSharing(t *testing.T) {
	for _, tc := range []struct{ lang, label string }{
		{"es", "Compartir mi número"},
		{"en-GB", "Share my number"},
		{"qu", "Ñuka yupayta willachiy"},
		{"", "Compartir mi número"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			api := newFakeAPI(t)
			b, _ := newBot(t, api, telegram.Options{Links: sessions.Plain{Store: memoryStore(t, nil)}})
			body := strings.Replace(string(testdata(t, "start.json")), `"language_code": "es"`, `"language_code": "`+tc.lang+`"`, 1)
			post(server(b, &hopper{Reply: menu}), []byte(body), testSecret)
			sent := api.Calls("sendMessage")
			if len(sent) != 2 {
				t.Fatalf("%d messages", len(sent))
			}
			if got := markupOf(t, sent[0]).callbackData(); len(got) != 4 {
				t.Errorf("screen keyboard %q", got)
			}
			kb := markupOf(t, sent[1])
			if len(kb.Keyboard) != 1 || !kb.Keyboard[0][0].RequestContact || kb.Keyboard[0][0].Text != tc.label || !kb.OneTime || !kb.Resize {
				t.Errorf("share keyboard %+v", kb)
			}
		})
	}
	t.Run("not without Links", func(t *testing.T) {
		api := newFakeAPI(t)
		b, _ := newBot(t, api, telegram.Options{})
		post(server(b, &hopper{Reply: menu}), testdata(t, "start.json"), testSecret)
		if n := len(api.Calls("sendMessage")); n != 1 {
			t.Errorf("%d messages", n)
		}
	})
}

// Sharing one's own number links the chat to it for LinkTTL; from then
// on every Inbound carries the number, and no sharing button is offered.
func TestContactLinksTheChat(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	store := memoryStore(t, clock.Now)
	api := newFakeAPI(t)
	b, _ := newBot(t, api, telegram.Options{Links: sessions.Plain{Store: store}})
	h := &hopper{Reply: menu}
	e := server(b, h)

	post(e, testdata(t, "contact.json"), testSecret)
	in := h.Calls()
	if len(in) != 1 || in[0].Phone != "+593991234567" || in[0].Input != "" {
		t.Fatalf("inbound after sharing %+v", in)
	}
	sent := api.Calls("sendMessage")
	if len(sent) != 2 || sent[0].Form.Get("text") != "Gracias. Su número quedó vinculado a este chat." || !markupOf(t, sent[0]).Remove {
		t.Fatalf("messages %+v", sent)
	}
	rec, err := store.Get(context.Background(), telegram.LinkKey(chatID))
	if err != nil || !strings.Contains(string(rec.Data), `"+593991234567"`) {
		t.Fatalf("link %s %v", rec.Data, err)
	}

	api.reset()
	post(e, testdata(t, "start.json"), testSecret)
	in = h.Calls()
	if in[1].Phone != "+593991234567" || in[1].SessionID != "4242" {
		t.Errorf("next inbound %+v", in[1])
	}
	if n := len(api.Calls("sendMessage")); n != 1 {
		t.Errorf("a linked chat was offered the sharing button again (%d messages)", n)
	}

	clock.Advance(399 * 24 * time.Hour)
	if _, err := store.Get(context.Background(), telegram.LinkKey(chatID)); err != nil {
		t.Errorf("link gone after 399 days: %v", err)
	}
	clock.Advance(2 * 24 * time.Hour)
	if _, err := store.Get(context.Background(), telegram.LinkKey(chatID)); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("link kept past LinkTTL: %v", err)
	}
}

// A contact that is not the sender's own (a forwarded card, or one
// without user_id) is refused: nobody can claim another person's number.
func TestContactOfAnotherUserRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		text string
	}{
		{"another user", testdata(t, "contact_other.json"), "Solo puede compartir su propio número"},
		{"no user_id", contactUpdate(9, chatID, 0, "+593991234567"), "Solo puede compartir su propio número"},
		{"not a number", contactUpdate(9, chatID, chatID, "12"), "No pudimos leer ese número."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := memoryStore(t, nil)
			api := newFakeAPI(t)
			b, _ := newBot(t, api, telegram.Options{Links: sessions.Plain{Store: store}})
			h := &hopper{Reply: menu}
			e := server(b, h)
			if rec := post(e, tc.body, testSecret); rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			if n := len(h.Calls()); n != 0 {
				t.Errorf("refused contact reached the gateway")
			}
			if _, err := store.Get(context.Background(), telegram.LinkKey(chatID)); !errors.Is(err, sessions.ErrNotFound) {
				t.Errorf("refused contact was linked: %v", err)
			}
			sent := api.Calls("sendMessage")
			if len(sent) != 1 || !strings.HasPrefix(sent[0].Form.Get("text"), tc.text) || !markupOf(t, sent[0]).Keyboard[0][0].RequestContact {
				t.Errorf("messages %+v", sent)
			}
			post(e, textUpdate(10, chatID, "hola"), testSecret)
			if in := h.Calls(); len(in) != 1 || in[0].Phone != "" {
				t.Errorf("next inbound %+v", in)
			}
		})
	}
}

// What is not a private chat's message or callback is ignored, with 200
// so that Telegram does not send it again.
func TestIgnoredUpdates(t *testing.T) {
	api := newFakeAPI(t)
	b, _ := newBot(t, api, telegram.Options{})
	h := &hopper{Reply: menu}
	e := server(b, h)
	for _, name := range []string{"group.json", "edited.json"} {
		if rec := post(e, testdata(t, name), testSecret); rec.Code != http.StatusOK {
			t.Errorf("%s: status %d", name, rec.Code)
		}
	}
	bot := strings.Replace(string(testdata(t, "text.json")), `"is_bot": false`, `"is_bot": true`, 1)
	post(e, []byte(bot), testSecret)
	if len(h.Calls()) != 0 || len(api.Calls()) != 0 {
		t.Errorf("hops %+v, calls %+v", h.Calls(), api.Calls())
	}
}

// A body that is not an Update is a 400 and reaches nobody.
func TestMalformedUpdate(t *testing.T) {
	api := newFakeAPI(t)
	b, _ := newBot(t, api, telegram.Options{})
	h := &hopper{}
	e := server(b, h)
	for _, tc := range []struct {
		name string
		body string
		want int
	}{
		{"not JSON", "hola", http.StatusBadRequest},
		{"empty", "", http.StatusBadRequest},
		{"array", `[{"update_id":1}]`, http.StatusBadRequest},
		{"null", "null", http.StatusBadRequest},
		{"no update_id", `{"message":{"text":"hola"}}`, http.StatusBadRequest},
		{"update_id as string", `{"update_id":"1"}`, http.StatusBadRequest},
		{"truncated", string(testdata(t, "text.json"))[:80], http.StatusBadRequest},
		{"trailing garbage", string(testdata(t, "text.json")) + "}", http.StatusBadRequest},
		{"chat id too big", strings.Replace(string(testdata(t, "text.json")), `"id": 4242, "first`, `"id": 99999999999999999999, "first`, 1), http.StatusBadRequest},
		{"over 1 MiB", `{"update_id":1,"message":{"text":"` + strings.Repeat("a", 1<<20) + `"}}`, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if rec := post(e, []byte(tc.body), testSecret); rec.Code != tc.want {
				t.Errorf("status %d, want %d", rec.Code, tc.want)
			}
		})
	}
	if len(h.Calls()) != 0 || len(api.Calls()) != 0 {
		t.Errorf("hops %d, calls %d", len(h.Calls()), len(api.Calls()))
	}
}

// When sendMessage fails the webhook still answers 200 (a retried update
// cannot fix a blocked bot), and the log says what failed without the
// citizen's text, chat or number, or the token.
func TestSendFailureStillAnswers200(t *testing.T) {
	api := newFakeAPI(t)
	api.fail("sendMessage", http.StatusForbidden, "Forbidden: bot was blocked by the user")
	store := memoryStore(t, nil)
	b, logs := newBot(t, api, telegram.Options{Links: sessions.Plain{Store: store}})
	e := server(b, &hopper{Reply: menu})
	post(e, testdata(t, "contact.json"), testSecret)
	if rec := post(e, textUpdate(20, chatID, "Calle Sucre 123"), testSecret); rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	out := logs.String()
	if !strings.Contains(out, "sendMessage failed") || !strings.Contains(out, "code=403") {
		t.Errorf("failure not logged:\n%s", out)
	}
	for _, secret := range []string{"Calle Sucre", "4242", "593991234567", testToken, "María"} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q:\n%s", secret, out)
		}
	}
}

// setWebhook carries the secret and the update kinds handled.
func TestSetWebhook(t *testing.T) {
	api := newFakeAPI(t)
	b, _ := newBot(t, api, telegram.Options{})
	if err := b.SetWebhook(context.Background(), "https://ventanilla.example.gob.ec/chat/telegram"); err != nil {
		t.Fatal(err)
	}
	got := api.Calls("setWebhook")
	if len(got) != 1 {
		t.Fatalf("calls %+v", api.Calls())
	}
	f := got[0].Form
	var allowed []string
	_ = json.Unmarshal([]byte(f.Get("allowed_updates")), &allowed)
	if f.Get("url") != "https://ventanilla.example.gob.ec/chat/telegram" || f.Get("secret_token") != testSecret || !slices.Equal(allowed, []string{"message", "callback_query"}) {
		t.Errorf("setWebhook %v", f)
	}
	if err := b.SetWebhook(context.Background(), "http://ventanilla.example.gob.ec/"); err == nil {
		t.Error("a plain-http webhook URL was accepted")
	}
}

// With reply keyboards the buttons replace the phone's keyboard (one
// time, resized), and a pressed label comes back as the button's Data.
func TestReplyKeyboard(t *testing.T) {
	api := newFakeAPI(t)
	b, _ := newBot(t, api, telegram.Options{Links: sessions.Plain{Store: memoryStore(t, nil)}, Keyboard: telegram.KeyboardReply})
	h := &hopper{Reply: menu}
	e := server(b, h)
	post(e, testdata(t, "start.json"), testSecret)
	sent := api.Calls("sendMessage")
	if len(sent) != 1 {
		t.Fatalf("%d messages (the share button belongs in the same keyboard)", len(sent))
	}
	kb := markupOf(t, sent[0])
	var labels []string
	for _, row := range kb.Keyboard {
		for _, k := range row {
			labels = append(labels, k.Text)
		}
	}
	if !slices.Equal(labels, []string{"Español", "English", "Atrás", "Más", "Compartir mi número"}) || !kb.OneTime || !kb.Resize || !kb.Keyboard[3][0].RequestContact {
		t.Errorf("keyboard %+v", kb)
	}
	for i, tc := range []struct{ typed, want string }{
		{"English", "2"}, {" Más ", "98"}, {"hola", "hola"}, {"1", "1"},
	} {
		post(e, textUpdate(30+i, chatID, tc.typed), testSecret)
		if in := h.Calls(); in[len(in)-1].Input != tc.want {
			t.Errorf("%q → %q, want %q", tc.typed, in[len(in)-1].Input, tc.want)
		}
	}
	h.Reply = carrier.Reply{Text: "Gracias.", End: true}
	api.reset()
	post(e, textUpdate(99, chatID, "1"), testSecret)
	if m := markupOf(t, api.Calls()[0]); !m.Remove {
		t.Errorf("final screen left the keyboard: %+v", m)
	}
}

// A retried update keeps its update_id as the hop's Seq, which the
// gateway takes for a retry.
func TestRetriedUpdateKeepsItsSeq(t *testing.T) {
	api := newFakeAPI(t)
	b, _ := newBot(t, api, telegram.Options{})
	h := &hopper{Reply: menu}
	e := server(b, h)
	post(e, testdata(t, "text.json"), testSecret)
	post(e, testdata(t, "text.json"), testSecret)
	if in := h.Calls(); len(in) != 2 || in[0].Seq != in[1].Seq || in[0].Seq == 0 {
		t.Errorf("seqs %+v", in)
	}
}

// Long polling deletes any webhook, hands updates to the Hopper in order,
// confirms the handled ones, and stops when its context ends.
func TestPoll(t *testing.T) {
	api := newFakeAPI(t)
	b, _ := newBot(t, api, telegram.Options{Links: sessions.Plain{Store: memoryStore(t, nil)}})
	api.push(textUpdate(501, chatID, "hola"))
	api.push(callbackUpdate(502, chatID, 7001, "1"))
	h := &hopper{Reply: menu}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Poll(ctx, h) }()

	testutil.WaitFor(t, "the second update to reach the gateway", func() bool { return len(h.Calls()) == 2 })
	api.push(textUpdate(503, chatID, "2"))
	testutil.WaitFor(t, "the third update to reach the gateway", func() bool { return len(h.Calls()) == 3 })
	testutil.WaitFor(t, "the callback query to be answered", func() bool { return len(api.Calls("answerCallbackQuery")) == 1 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Poll: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Poll did not stop when its context ended")
	}
	var inputs []string
	for _, in := range h.Calls() {
		inputs = append(inputs, in.Input)
	}
	if !slices.Equal(inputs, []string{"hola", "1", "2"}) {
		t.Errorf("inputs %q", inputs)
	}
	calls := api.Calls("deleteWebhook", "getUpdates")
	if calls[0].Method != "deleteWebhook" {
		t.Errorf("first call %s, want deleteWebhook", calls[0].Method)
	}
	last := calls[len(calls)-1]
	if last.Method != "getUpdates" || last.Form.Get("offset") != "504" || last.Form.Get("timeout") != "" {
		t.Errorf("handled updates not confirmed: last call %s %v", last.Method, last.Form)
	}
	if n := len(api.Calls("sendMessage")); n != 3 {
		t.Errorf("%d replies", n)
	}
}

// A bot gets updates one way: a mounted bot does not poll.
func TestPollAndWebhookAreExclusive(t *testing.T) {
	api := newFakeAPI(t)
	b, _ := newBot(t, api, telegram.Options{})
	server(b, &hopper{})
	if err := b.Poll(context.Background(), &hopper{}); !errors.Is(err, telegram.ErrBothModes) {
		t.Errorf("Poll on a mounted bot: %v", err)
	}
}

// A token Telegram stops accepting ends Poll (and New) with
// ErrTokenRejected.
func TestTokenRejected(t *testing.T) {
	api := newFakeAPI(t)
	b, _ := newBot(t, api, telegram.Options{})
	api.setToken("5000000001:another")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Poll(ctx, &hopper{}); !errors.Is(err, telegram.ErrTokenRejected) {
		t.Errorf("Poll: %v", err)
	}
	_, err := telegram.New(telegram.Options{Token: testToken, APIEndpoint: api.endpoint(), HTTPClient: loopbackClient(t, nil)})
	if !errors.Is(err, telegram.ErrTokenRejected) {
		t.Errorf("New: %v", err)
	}
}

// Any request that would leave loopback fails, and the error does not
// carry the token (which Go's URL errors would otherwise quote).
func TestNonLoopbackRequestFails(t *testing.T) {
	var leaked []string
	client := loopbackClient(t, func(addr string) { leaked = append(leaked, addr) })
	_, err := telegram.New(telegram.Options{Token: testToken, APIEndpoint: "http://192.0.2.1/bot%s/%s", HTTPClient: client})
	if err == nil || len(leaked) != 1 || leaked[0] != "192.0.2.1:80" {
		t.Fatalf("err %v, leaked %q", err, leaked)
	}
	if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), "AAH-test") {
		t.Errorf("error holds the token: %v", err)
	}
	// The default endpoint is the real Bot API: refused just the same.
	leaked = nil
	if _, err := telegram.New(telegram.Options{Token: testToken, HTTPClient: client}); err == nil || len(leaked) != 1 || !strings.HasPrefix(leaked[0], "api.telegram.org:") {
		t.Errorf("err %v, leaked %q", err, leaked)
	}
}

func TestNewChecksOptions(t *testing.T) {
	api := newFakeAPI(t)
	for _, tc := range []struct {
		name string
		opts telegram.Options
	}{
		{"no token", telegram.Options{}},
		{"token with a slash", telegram.Options{Token: "1:abc/def"}},
		{"secret with a space", telegram.Options{Token: testToken, WebhookSecret: "a b"}},
		{"secret too long", telegram.Options{Token: testToken, WebhookSecret: strings.Repeat("a", 257)}},
		{"relative path", telegram.Options{Token: testToken, Path: "chat"}},
		{"endpoint without %s", telegram.Options{Token: testToken, APIEndpoint: api.srv.URL}},
		{"reply keyboard without Links", telegram.Options{Token: testToken, Keyboard: telegram.KeyboardReply}},
		{"unknown keyboard", telegram.Options{Token: testToken, Keyboard: "grid"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.HTTPClient = loopbackClient(t, nil)
			if tc.opts.APIEndpoint == "" {
				tc.opts.APIEndpoint = api.endpoint()
			}
			if _, err := telegram.New(tc.opts); err == nil {
				t.Error("accepted")
			}
		})
	}
	if n := len(api.Calls()); n != 0 {
		t.Errorf("bad options still called the API %d times", n)
	}
	b, _ := newBot(t, api, telegram.Options{WebhookSecret: strings.Repeat("Z", 256)})
	if b.Name() != "telegram" || b.Username() != "ventanilla_test_bot" {
		t.Errorf("name %q, username %q", b.Name(), b.Username())
	}
}
