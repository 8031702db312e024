package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// flakyTwilio is Twilio's Messages API, answering its documented 500 while
// down, and counting what it took by text.
type flakyTwilio struct {
	down atomic.Bool
	mu   sync.Mutex
	took map[string]int
}

func (f *flakyTwilio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	w.Header().Set("Content-Type", "application/json")
	if f.down.Load() {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"code": 20500, "message": "Internal Server Error", "more_info": "https://www.twilio.com/docs/errors/20500", "status": 500}`)
		return
	}
	f.mu.Lock()
	f.took[r.PostForm.Get("Body")]++
	n := len(f.took)
	f.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"sid": "SM%032d", "status": "queued"}`, n)
}

func (f *flakyTwilio) Took() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.took {
		out[k] = v
	}
	return out
}

// The deployment docs/operations.md describes: sessions in a Redis without
// persistence, the queue in a Redis of its own with appendonly yes. A
// graceful stop with messages waiting for a provider that is down, then
// both Redis restarted: the sessions are gone, as intended, and every
// queued notification and its status is still there and goes out once.
func TestQueueOnItsOwnRedisOutlastsRestarts(t *testing.T) {
	sessAddr, stopSess := redistest.StartServer(t)
	qdir := t.TempDir()
	qAddr, stopQueue := redistest.StartDurableServer(t, "", qdir)
	provider := &flakyTwilio{took: map[string]int{}}
	provider.down.Store(true)
	api := httptest.NewServer(provider)
	defer api.Close()
	templates := filepath.Join(t.TempDir(), "templates.yaml")
	if err := os.WriteFile(templates, []byte("templates:\n  listo:\n    es: \"Su trámite {{n}} está listo.\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"TWILIO_ACCOUNT_SID":       "AC" + strings.Repeat("a", 32),
		"TWILIO_AUTH_TOKEN":        "twilioauthtoken0123456789abcdef0",
		"TWILIO_FROM":              "+15005550006",
		"TWILIO_API_URL":           api.URL,
		"VENTANILLA_NOTIFY_TOKENS": "registro_civil=rc-token-0123456789",
	}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	var logged bytes.Buffer
	var logMu sync.Mutex
	start := func() (*app, *httptest.Server) {
		c := &config{Root: "inicio", Keywords: defaultKeywords, NotifyTemplates: templates,
			RedisURL: "redis://" + sessAddr + "/0", QueueRedisURL: "redis://" + qAddr + "/0"}
		log := slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logged}, nil))
		a, err := newApp(c, log, getenv, registry)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(a.echo)
		t.Cleanup(srv.Close)
		return a, srv
	}
	call := func(srv *httptest.Server, method, path, body string, header ...string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer rc-token-0123456789")
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}

	a, srv := start()
	const n = 20
	var ids []string
	for i := range n {
		// As an institution does: a 503 (the queue's Redis slower than
		// the API waits for, on a busy machine) is asked again with the
		// same idempotency key.
		testutil.WaitFor(t, fmt.Sprintf("notification %d accepted", i), func() bool {
			code, body := call(srv, http.MethodPost, "/v1/notifications", fmt.Sprintf(`{"to": "+593991000%03d", "template": "listo", "params": {"n": "%02d"}}`, i, i),
				"Idempotency-Key", fmt.Sprintf("listo-%02d", i))
			switch code {
			case http.StatusAccepted:
				ids = append(ids, body["id"].(string))
				return true
			case http.StatusServiceUnavailable:
				return false
			}
			t.Fatalf("notification %d: %d %v", i, code, body)
			return false
		})
	}
	// Every message has met the provider's 500 and waits for a retry. The
	// first ones may be on their second or third attempt by the time the
	// last one is on its first: the backoff starts at a second.
	testutil.WaitFor(t, "a first attempt of each", func() bool {
		for _, id := range ids {
			if _, body := call(srv, http.MethodGet, "/v1/notifications/"+id, ""); body["attempts"] == nil || body["attempts"].(float64) < 1 || body["status"] != "queued" {
				return false
			}
		}
		return true
	})
	ctx := context.Background()
	sess, queue := redistest.Client(t, sessAddr), redistest.Client(t, qAddr)
	if keys := sess.Keys(ctx, "*").Val(); strings.Contains(strings.Join(keys, " "), "outbound") || strings.Contains(strings.Join(keys, " "), "notify:") {
		t.Errorf("the sessions' Redis holds queue keys: %v", keys)
	}
	if got := len(queue.Keys(ctx, "{ventanilla:outbound}:msg:*").Val()); got != n {
		t.Errorf("the queue's Redis holds %d messages, want %d", got, n)
	}
	if got := len(queue.Keys(ctx, "ventanilla:notify:*").Val()); got != n {
		t.Errorf("the queue's Redis holds %d notification records, want %d", got, n)
	}

	// SIGTERM: the queue stops, leaving what waits in Redis; then both
	// Redis restart.
	closeCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	if err := a.outbound.close(closeCtx); err != nil {
		t.Fatalf("closing the queue: %v", err)
	}
	cancel()
	srv.Close()
	a.store.Close()
	stopSess()
	stopQueue()
	redistest.StartServerAt(t, sessAddr)
	redistest.StartDurableServer(t, qAddr, qdir)
	if keys := redistest.Client(t, sessAddr).DBSize(ctx).Val(); keys != 0 {
		t.Fatalf("the sessions' Redis kept %d keys across its restart, want none", keys)
	}

	provider.down.Store(false)
	a, srv = start()
	defer a.outbound.close(context.Background())
	defer a.store.Close()
	testutil.WaitFor(t, "every notification sent", func() bool {
		for _, id := range ids {
			if _, body := call(srv, http.MethodGet, "/v1/notifications/"+id, ""); body["status"] != "sent" {
				return false
			}
		}
		return true
	})
	took := provider.Took()
	if len(took) != n {
		t.Errorf("the provider took %d notifications, want %d", len(took), n)
	}
	for text, k := range took {
		if k != 1 {
			t.Errorf("%q sent %d times, want once", text, k)
		}
	}
	logMu.Lock()
	defer logMu.Unlock()
	if strings.Contains(logged.String(), "appendonly") {
		t.Errorf("warned about persistence on a durable queue Redis:\n%s", logged.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// A queue Redis without the append-only file would lose every queued
// message on its restart: production refuses to start on one, saying how
// to fix it; otherwise it is a warning. Once appendonly is on, nothing is
// said.
func TestQueueRedisPersistenceIsChecked(t *testing.T) {
	client := redistest.Start(t)
	for _, tc := range []struct {
		name               string
		production, shared bool
		wantErr, wantWarn  string
	}{
		{"own Redis, production", true, false, "set appendonly yes on the Redis of --queue-redis-url", ""},
		{"sessions' Redis, production", true, true, "give the queue a Redis of its own with --queue-redis-url", ""},
		{"own Redis", false, false, "", "set appendonly yes"},
		{"sessions' Redis", false, true, "", "--queue-redis-url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			a := &app{cfg: &config{Production: tc.production}, log: slog.New(slog.NewTextHandler(&out, nil))}
			err := a.checkQueueDurability(client, tc.shared)
			switch {
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "appendonly")):
				t.Errorf("error %v, want one saying %q", err, tc.wantErr)
			case tc.wantErr == "" && err != nil:
				t.Errorf("error %v, want a warning only", err)
			}
			if tc.wantWarn != "" && (!strings.Contains(out.String(), "level=WARN") || !strings.Contains(out.String(), tc.wantWarn)) {
				t.Errorf("log %q, want a warning saying %q", out.String(), tc.wantWarn)
			}
		})
	}
	if err := client.ConfigSet(t.Context(), "appendonly", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	a := &app{cfg: &config{Production: true}, log: slog.New(slog.NewTextHandler(&out, nil))}
	if err := a.checkQueueDurability(client, true); err != nil || out.Len() > 0 {
		t.Errorf("with appendonly yes: %v, log %q; want nothing", err, out.String())
	}
}
