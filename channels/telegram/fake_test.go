package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/telegram"
)

const (
	testToken  = "5000000001:AAH-test_token_not_real"
	testSecret = "s3cr3t-Webhook_token"
	chatID     = 4242
)

// call is one request the fake Bot API received.
type call struct {
	Method string
	Form   url.Values
	MsgID  int // message_id the fake gave a sent message
}

// fakeAPI is a local stand-in for the Telegram Bot API: the methods the
// adapter uses, answering with the documented JSON ({"ok":true,"result":…}
// or {"ok":false,"error_code":…,"description":…}). The library posts
// application/x-www-form-urlencoded bodies, with reply_markup as a JSON
// string.
type fakeAPI struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	token    string
	calls    []call
	nextMsg  int
	queue    []json.RawMessage // pending updates, oldest first
	queueIDs []int
	arrived  chan struct{} // signalled when updates are queued
	failing  map[string]apiFailure
}

type apiFailure struct {
	code int
	desc string
}

func newFakeAPI(t testing.TB) *fakeAPI {
	f := &fakeAPI{t: t, token: testToken, nextMsg: 7000, arrived: make(chan struct{}, 1), failing: map[string]apiFailure{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// endpoint is the APIEndpoint pattern that points the library here.
func (f *fakeAPI) endpoint() string { return f.srv.URL + "/bot%s/%s" }

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if err := r.ParseForm(); err != nil || !ok || !ok2 || r.Method != http.MethodPost {
		writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request"})
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, call{Method: method, Form: r.PostForm})
	idx := len(f.calls) - 1
	wrongToken := token != f.token
	fail, failing := f.failing[method]
	f.mu.Unlock()
	switch {
	case wrongToken:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"ok": false, "error_code": 401, "description": "Unauthorized"})
		return
	case failing:
		writeJSON(w, fail.code, map[string]any{"ok": false, "error_code": fail.code, "description": fail.desc})
		return
	}
	switch method {
	case "getMe":
		okJSON(w, map[string]any{"id": 5000000001, "is_bot": true, "first_name": "Ventanilla", "username": "ventanilla_test_bot"})
	case "sendMessage":
		chat, _ := strconv.ParseInt(r.PostForm.Get("chat_id"), 10, 64)
		f.mu.Lock()
		f.nextMsg++
		id := f.nextMsg
		if idx < len(f.calls) && f.calls[idx].Method == "sendMessage" {
			f.calls[idx].MsgID = id
		}
		f.mu.Unlock()
		okJSON(w, map[string]any{
			"message_id": id, "date": 1795424400, "text": r.PostForm.Get("text"),
			"from": map[string]any{"id": 5000000001, "is_bot": true, "first_name": "Ventanilla"},
			"chat": map[string]any{"id": chat, "type": "private"},
		})
	case "answerCallbackQuery", "setWebhook", "deleteWebhook":
		okJSON(w, true)
	case "getUpdates":
		okJSON(w, f.updates(r))
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error_code": 404, "description": "Not Found: method not found"})
	}
}

// updates answers getUpdates: drops the updates the offset confirms and
// returns the rest, waiting up to the long-poll timeout for some.
func (f *fakeAPI) updates(r *http.Request) []json.RawMessage {
	offset, _ := strconv.Atoi(r.PostForm.Get("offset"))
	timeout, _ := strconv.Atoi(r.PostForm.Get("timeout"))
	deadline := time.After(time.Duration(timeout) * time.Second)
	for {
		f.mu.Lock()
		for len(f.queueIDs) > 0 && f.queueIDs[0] < offset {
			f.queue, f.queueIDs = f.queue[1:], f.queueIDs[1:]
		}
		out := append([]json.RawMessage{}, f.queue...)
		f.mu.Unlock()
		if len(out) > 0 || timeout == 0 {
			return out
		}
		select {
		case <-f.arrived:
		case <-deadline:
			return out
		case <-r.Context().Done():
			return out
		}
	}
}

// push queues an update for getUpdates.
func (f *fakeAPI) push(update []byte) {
	var u struct {
		ID int `json:"update_id"`
	}
	if err := json.Unmarshal(update, &u); err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	f.queue, f.queueIDs = append(f.queue, update), append(f.queueIDs, u.ID)
	f.mu.Unlock()
	select {
	case f.arrived <- struct{}{}:
	default:
	}
}

func (f *fakeAPI) fail(method string, code int, desc string) {
	f.mu.Lock()
	f.failing[method] = apiFailure{code, desc}
	f.mu.Unlock()
}

func (f *fakeAPI) setToken(token string) {
	f.mu.Lock()
	f.token = token
	f.mu.Unlock()
}

// Calls returns the calls so far, getMe left out, or only those of the
// methods named.
func (f *fakeAPI) Calls(methods ...string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if c.Method == "getMe" {
			continue
		}
		if len(methods) == 0 || contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

// reset forgets the calls so far.
func (f *fakeAPI) reset() {
	f.mu.Lock()
	f.calls = nil
	f.mu.Unlock()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func okJSON(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": result})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// loopbackClient is an HTTP client that can only reach loopback
// addresses: any other dial fails and is reported to leaked (t.Errorf by
// default), so a test can never reach the real api.telegram.org.
func loopbackClient(t testing.TB, leaked func(addr string)) *http.Client {
	if leaked == nil {
		leaked = func(addr string) { t.Errorf("a request tried to leave loopback: %s", addr) }
	}
	d := &net.Dialer{Timeout: 2 * time.Second}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			ip, perr := netip.ParseAddr(host)
			if err != nil || perr != nil || !ip.IsLoopback() {
				leaked(addr)
				return nil, fmt.Errorf("test: refusing to dial %s: not loopback", addr)
			}
			return d.DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// logBuffer collects a bot's logs, to check what they leave out.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newBot builds a bot on the fake API; opts fields left zero get the
// test's token, secret, endpoint and loopback client.
func newBot(t testing.TB, api *fakeAPI, opts telegram.Options) (*telegram.Bot, *logBuffer) {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	if opts.WebhookSecret == "" {
		opts.WebhookSecret = testSecret
	}
	if opts.APIEndpoint == "" {
		opts.APIEndpoint = api.endpoint()
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = loopbackClient(t, nil)
	}
	logs := &logBuffer{}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	b, err := telegram.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return b, logs
}

// hopper records every Inbound and answers with the reply reply returns
// (or Reply when reply is nil).
type hopper struct {
	Reply carrier.Reply
	reply func(carrier.Inbound) carrier.Reply

	mu    sync.Mutex
	calls []carrier.Inbound
}

func (h *hopper) Hop(_ context.Context, in carrier.Inbound) (carrier.Reply, error) {
	h.mu.Lock()
	h.calls = append(h.calls, in)
	h.mu.Unlock()
	if h.reply != nil {
		return h.reply(in), nil
	}
	return h.Reply, nil
}

func (h *hopper) Calls() []carrier.Inbound {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]carrier.Inbound(nil), h.calls...)
}

// server mounts b as the product does.
func server(b *telegram.Bot, h carrier.Hopper) *echo.Echo {
	e := echo.New()
	b.Mount(e, h)
	return e
}

// post delivers one webhook body; secret "" sends no secret header.
func post(e http.Handler, body []byte, secret string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, telegram.DefaultPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(telegram.SecretHeader, secret)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// markup is a reply_markup as sent: an inline keyboard, a reply keyboard
// or a keyboard removal.
type markup struct {
	Inline [][]struct {
		Text         string `json:"text"`
		CallbackData string `json:"callback_data"`
	} `json:"inline_keyboard"`
	Keyboard [][]struct {
		Text           string `json:"text"`
		RequestContact bool   `json:"request_contact"`
	} `json:"keyboard"`
	OneTime bool `json:"one_time_keyboard"`
	Resize  bool `json:"resize_keyboard"`
	Remove  bool `json:"remove_keyboard"`
}

func markupOf(t testing.TB, c call) markup {
	t.Helper()
	var m markup
	if raw := c.Form.Get("reply_markup"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatalf("reply_markup %q: %v", raw, err)
		}
	}
	return m
}

// callbackData lists an inline keyboard's callback data, row by row.
func (m markup) callbackData() []string {
	var out []string
	for _, row := range m.Inline {
		for _, b := range row {
			out = append(out, b.CallbackData)
		}
	}
	return out
}

func (m markup) inlineLabels() []string {
	var out []string
	for _, row := range m.Inline {
		for _, b := range row {
			out = append(out, b.Text)
		}
	}
	return out
}

// Update builders, in the Bot API's shape (see testdata/README.md).

func textUpdate(id int, chat int64, text string) []byte {
	msg := map[string]any{
		"message_id": id % 100000, "date": 1795424400, "text": text,
		"from": map[string]any{"id": chat, "is_bot": false, "first_name": "María", "language_code": "es"},
		"chat": map[string]any{"id": chat, "type": "private"},
	}
	if strings.HasPrefix(text, "/") {
		word, _, _ := strings.Cut(text, " ")
		msg["entities"] = []any{map[string]any{"offset": 0, "length": len(word), "type": "bot_command"}}
	}
	return mustJSON(map[string]any{"update_id": id, "message": msg})
}

func callbackUpdate(id int, chat int64, message int, data string) []byte {
	return mustJSON(map[string]any{
		"update_id": id,
		"callback_query": map[string]any{
			"id":            "cb" + strconv.Itoa(id),
			"from":          map[string]any{"id": chat, "is_bot": false, "first_name": "María", "language_code": "es"},
			"message":       map[string]any{"message_id": message, "date": 1795424400, "chat": map[string]any{"id": chat, "type": "private"}, "text": "…"},
			"chat_instance": "-1",
			"data":          data,
		},
	})
}

func contactUpdate(id int, chat, owner int64, phone string) []byte {
	return mustJSON(map[string]any{
		"update_id": id,
		"message": map[string]any{
			"message_id": id % 100000, "date": 1795424400,
			"from":    map[string]any{"id": chat, "is_bot": false, "first_name": "María", "language_code": "es"},
			"chat":    map[string]any{"id": chat, "type": "private"},
			"contact": map[string]any{"phone_number": phone, "first_name": "María", "user_id": owner},
		},
	})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

var _ io.Writer = (*logBuffer)(nil)
