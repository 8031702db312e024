package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ventanilla-gob/ventanilla/internal/sample"
)

// botAPI answers the two Bot API methods the gateway uses here, as
// Telegram documents them, and keeps the messages it was asked to send.
type botAPI struct {
	mu   sync.Mutex
	sent []string
}

func (b *botAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasSuffix(r.URL.Path, "/getMe"):
		io.WriteString(w, `{"ok":true,"result":{"id":7001,"is_bot":true,"first_name":"Ventanilla","username":"ventanilla_bot"}}`)
	case strings.HasSuffix(r.URL.Path, "/sendMessage"):
		r.ParseForm()
		b.mu.Lock()
		b.sent = append(b.sent, r.Form.Get("text"))
		b.mu.Unlock()
		io.WriteString(w, `{"ok":true,"result":{"message_id":1,"date":1700000000,"chat":{"id":42,"type":"private"},"text":"ok"}}`)
	default:
		io.WriteString(w, `{"ok":true,"result":true}`)
	}
}

// With TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET set, the product
// serves Telegram's webhook, checks its secret, and answers through the
// Bot API with the same flows.
func TestTelegramWebhookWiring(t *testing.T) {
	api := &botAPI{}
	tg := httptest.NewServer(api)
	defer tg.Close()
	backend := httptest.NewServer(sample.New(sample.Options{}))
	defer backend.Close()
	env := map[string]string{
		"TELEGRAM_BOT_TOKEN":      "123:abc",
		"TELEGRAM_WEBHOOK_SECRET": "s3cret_token",
		"TELEGRAM_API_ENDPOINT":   tg.URL + "/bot%s/%s",
		"VENTANILLA_SAMPLE_URL":   backend.URL,
	}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	a, err := newApp(&config{Root: "inicio", Keywords: defaultKeywords}, slog.New(slog.NewTextHandler(io.Discard, nil)), getenv, registry)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.echo)
	defer srv.Close()

	update := func(secret string) int {
		body, _ := json.Marshal(map[string]any{"update_id": 1, "message": map[string]any{
			"message_id": 10, "date": 1700000000, "text": "hola",
			"from": map[string]any{"id": 42, "is_bot": false, "first_name": "Ana", "language_code": "es"},
			"chat": map[string]any{"id": 42, "type": "private"},
		}})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/chat/telegram", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := update("wrong"); code < 400 {
		t.Errorf("wrong secret: %d", code)
	}
	if code := update("s3cret_token"); code != http.StatusOK {
		t.Fatalf("webhook: %d", code)
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	if len(api.sent) != 1 || !strings.HasPrefix(api.sent[0], "Bienvenido a Ventanilla") {
		t.Errorf("sent: %q", api.sent)
	}
}
