package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/notify/callbacks"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

const (
	replyCrashEnv    = "VENTANILLA_REPLY_CRASH_HELPER"
	replyCrashSecret = "transito-callback-secret-0123456789abcdef"
	replyCrashPhone  = "+593991234567"
)

// replyCrashQuestion is the transito reminder the citizen answers.
var replyCrashQuestion = gateway.Question{ID: "T-0001/24h", Kind: "reminder", Key: "T-0001", Flow: "transito-consulta", Institution: "transito", Locale: "es", Channel: "sms"}

// replyCrashApp is a gateway on the sessions' Redis at addr serving the
// transito package under dir, whose callback is url.
func replyCrashApp(t testing.TB, addr, dir string) *app {
	env := map[string]string{
		"TWILIO_ACCOUNT_SID": "AC" + strings.Repeat("a", 32), "TWILIO_AUTH_TOKEN": "twilioauthtoken0123456789abcdef0",
		"TWILIO_FROM": "+15005550006", "TWILIO_API_URL": "http://127.0.0.1:1",
		"TRANSITO_API_URL": "http://127.0.0.1:1", "TRANSITO_API_KEY": "k", "TRANSITO_CALLBACK_SECRET": replyCrashSecret,
	}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	a, err := newApp(&config{Root: "inicio", Keywords: defaultKeywords, Packages: listFlag{dir}, RedisURL: "redis://" + addr + "/0"},
		slog.New(slog.NewTextHandler(io.Discard, nil)), getenv, registry)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// onHop marks the context of the hop the crash helper runs.
type onHop struct{}

// diesOffHop is a callbacks store in a process that dies the moment its
// hop has answered: a push started off the hop (on a context the hop
// did not give it) never gets to Redis.
type diesOffHop struct{ callbacks.Store }

func (s diesOffHop) Add(ctx context.Context, d callbacks.Delivery, retain time.Duration) (bool, error) {
	if ctx.Value(onHop{}) == nil {
		select {} // the process is dead by now
	}
	return s.Store.Add(ctx, d, retain)
}

// TestReplyCrashHelperProcess is the process
// TestAnswerRepliedThenKilledIsPushed kills: a citizen answers a
// transito reminder, and the process dies as soon as the hop has
// answered the citizen, having pushed nothing itself. It does nothing
// in a normal test run.
func TestReplyCrashHelperProcess(t *testing.T) {
	if os.Getenv(replyCrashEnv) != "1" {
		return
	}
	addr := os.Getenv("HELPER_REDIS")
	a := replyCrashApp(t, addr, os.Getenv("HELPER_DIR"))
	// Nothing is pushed from this process: what it kept is the next
	// one's to push.
	a.outbound.stopRun()
	a.outbound.done.Wait()
	client := redis.NewClient(&redis.Options{Addr: addr})
	cb, err := callbacks.New(callbacks.Options{Store: diesOffHop{callbacks.NewRedis(client)}, Endpoint: func(inst string) (callbacks.Endpoint, bool) {
		return a.set.Load().Callback(inst)
	}})
	if err != nil {
		t.Fatal(err)
	}
	a.outbound.callbacks = cb
	ctx := context.WithValue(context.Background(), onHop{}, true)
	if err := a.gateway.Questions.Ask(ctx, replyCrashPhone, replyCrashQuestion, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.gateway.Hop(ctx, carrier.Inbound{Channel: "sms", Carrier: "twilio", Phone: replyCrashPhone, Input: "2"}); err != nil {
		t.Fatal(err)
	}
	// What the answer came to, as the reply flow's end tells it.
	replyCallbacks{a}.Settled(ctx, replyCrashQuestion, "cancelled")
	fmt.Println("replied")
	select {} // until killed
}

// TestAnswerRepliedThenKilledIsPushed kills with SIGKILL a gateway that
// has just answered a citizen's reply to an institution's reminder; a
// new instance on the same Redis pushes the reply, and what it came to,
// to the institution, once each.
func TestAnswerRepliedThenKilledIsPushed(t *testing.T) {
	if os.Getenv(replyCrashEnv) == "1" {
		t.Skip("inside the helper process")
	}
	addr, _ := redistest.StartServer(t)
	var (
		mu  sync.Mutex
		got = map[string][]string{} // type → event ids
	)
	institution := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := callbacks.Verify(r.Header.Get(callbacks.SignatureHeader), body, []byte(replyCrashSecret), time.Now(), 0); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var ev callbacks.Event
		_ = json.Unmarshal(body, &ev)
		mu.Lock()
		got[ev.Type] = append(got[ev.Type], ev.ID)
		mu.Unlock()
	}))
	defer institution.Close()
	dir := t.TempDir()
	newPackage(t, dir, "transito", func(m string) string {
		return published(m) + "callback:\n  url: " + institution.URL + "\n  secret_env: TRANSITO_CALLBACK_SECRET\n"
	})

	// As a test binary, not the command TestMain makes of children.
	child := testutil.StartChild(t, "TestReplyCrashHelperProcess", asMain+"=", replyCrashEnv+"=1", "HELPER_REDIS="+addr, "HELPER_DIR="+dir)
	testutil.WaitFor(t, "the doomed gateway to answer the citizen", func() bool {
		child.Alive(t)
		return strings.Contains(child.Output(), "replied")
	})
	child.Kill(t)

	a := replyCrashApp(t, addr, dir)
	defer a.outbound.close(t.Context())
	testutil.WaitFor(t, "the reply and its outcome pushed to the institution", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got[callbacks.TypeReply]) > 0 && len(got[callbacks.TypeReplyOutcome]) > 0
	})
	// Delivered, recorded as such: nothing more is pushed.
	for _, typ := range []string{callbacks.TypeReply, callbacks.TypeReplyOutcome} {
		mu.Lock()
		id := got[typ][0]
		mu.Unlock()
		testutil.WaitFor(t, typ+" recorded delivered", func() bool {
			st, err := a.outbound.callbacks.Status(t.Context(), id)
			return err == nil && st.State == callbacks.StateDelivered
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got[callbacks.TypeReply]) != 1 || len(got[callbacks.TypeReplyOutcome]) != 1 || len(got) != 2 {
		t.Errorf("the institution got %v, want one reply and one reply.outcome", got)
	}
}
