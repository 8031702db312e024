package outbound_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/ventanilla-gob/ventanilla/carriers/atsms"
	"github.com/ventanilla-gob/ventanilla/carriers/twilio"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// provider plays a carrier's API on loopback, on the queue's clock: it
// answers with the carrier's documented 5xx while down says so, and takes
// the message otherwise. It counts what it took and what it refused.
type provider struct {
	t     *testing.T
	clock *clockwork.FakeClock
	down  func(now time.Time) bool
	fail  []byte // the error answer, as the carrier documents it
	ok    func(n int) []byte

	mu       sync.Mutex
	took     map[string]int // by recipient-independent message text
	refused  int
	requests int
}

func newProvider(t *testing.T, clock *clockwork.FakeClock, failFile string, ok func(n int) []byte, down func(time.Time) bool) *provider {
	fail, err := os.ReadFile(failFile)
	if err != nil {
		t.Fatal(err)
	}
	return &provider{t: t, clock: clock, down: down, fail: fail, ok: ok, took: map[string]int{}}
}

func (p *provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	text := r.PostForm.Get("Body") + r.PostForm.Get("message") // Twilio's field, AT's field
	p.mu.Lock()
	p.requests++
	n := p.requests
	down := p.down(p.clock.Now())
	if down {
		p.refused++
	} else {
		p.took[text]++
	}
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if down {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(p.fail)
		return
	}
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(p.ok(n))
}

func (p *provider) Took() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.took {
		out[k] = v
	}
	return out
}

func (p *provider) Refused() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

func twilioCreated(n int) []byte {
	return fmt.Appendf(nil, `{"sid": "SM%032x", "status": "queued", "to": "+593991234567", "num_segments": "1"}`, n)
}

func atSent(n int) []byte {
	return fmt.Appendf(nil, `{"SMSMessageData": {"Message": "Sent to 1/1 Total Cost: KES 0.8000", "Recipients": [{"statusCode": 101, "number": "+593991234567", "status": "Success", "cost": "KES 0.8000", "messageId": "ATXid_%032x"}]}}`, n)
}

func twilioSender(t *testing.T, url string) carrier.Sender {
	s, err := twilio.NewSender(twilio.SenderOptions{AccountSID: "AC3f8c2a9e1b7d4c6a0e5f2b3d9c1a7e40", AuthToken: "token0123456789", From: "+14155552345", BaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func atSender(t *testing.T, url string) carrier.Sender {
	s, err := atsms.NewSender(atsms.SenderOptions{Username: "ventanilla", APIKey: "atsk_0123456789", BaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// queueKinds runs a test on the memory queue and on the Redis queue.
var queueKinds = []struct {
	name string
	new  func(t *testing.T, opts outbound.Options) outbound.Queue
}{
	{"memory", func(t *testing.T, opts outbound.Options) outbound.Queue {
		q, err := outbound.NewMemory(opts)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}},
	{"redis", func(t *testing.T, opts outbound.Options) outbound.Queue {
		return newRedis(t, redistest.Start(t), opts, outbound.RedisOptions{})
	}},
}

// settle moves the clock a second at a time, each time the queue has done
// all it can at the present instant (nothing sending, no retry due), until
// every message is final or limit has passed on the clock.
func settle(t *testing.T, q outbound.Queue, clock *clockwork.FakeClock, ids []string, limit time.Duration) {
	t.Helper()
	end := clock.Now().Add(limit)
	testutil.WaitFor(t, "every message final or the end of the outage", func() bool {
		idle, final := true, true
		now := clock.Now()
		for _, id := range ids {
			st := status(t, q, id)
			if !st.Final() {
				final = false
			}
			if st.State == outbound.StateSending || st.State == outbound.StateQueued && !st.Next.After(now) {
				idle = false
			}
		}
		if final || idle && !now.Before(end) {
			return true
		}
		if idle {
			clock.Advance(time.Second)
		}
		return false
	})
}

// A provider answering 500 for 45 seconds is a bad minute, not a reason to
// give up on 50 citizens: every message goes out once the provider is back.
func TestProviderOutageOutlasted(t *testing.T) {
	for _, kind := range queueKinds {
		t.Run(kind.name, func(t *testing.T) {
			clock := newClock()
			back := clock.Now().Add(45 * time.Second)
			p := newProvider(t, clock, "../../carriers/twilio/testdata/api/error_20500.json", twilioCreated,
				func(now time.Time) bool { return now.Before(back) })
			srv := httptest.NewServer(p)
			defer srv.Close()
			q := kind.new(t, outbound.Options{
				Senders: map[string]carrier.Sender{"twilio": twilioSender(t, srv.URL)},
				Now:     clock.Now, Sleep: testutil.Sleep(clock), Log: testLog(t),
			})
			var ids []string
			for i := range 50 {
				m := carrier.Message{ID: fmt.Sprintf("ntf_%02d", i), Channel: "sms", Carrier: "twilio", To: "+593991234567", Text: fmt.Sprintf("Su trámite %02d está listo.", i)}
				mustEnqueue(t, q, m)
				ids = append(ids, m.ID)
			}
			start := clock.Now()
			run(t, q)
			settle(t, q, clock, ids, time.Hour)
			t.Logf("all 50 final %v after the outage began", clock.Now().Sub(start))
			var failed []string
			for _, id := range ids {
				if st := status(t, q, id); st.State != outbound.StateSent {
					failed = append(failed, fmt.Sprintf("%s: %s after %d attempts (%s)", id, st.State, st.Attempts, st.LastError))
				}
			}
			if len(failed) > 0 {
				t.Fatalf("%d of 50 messages not sent after a 45s outage, the first: %v", len(failed), failed[0])
			}
			if p.Refused() < 50 {
				t.Errorf("the provider refused %d requests, want at least one per message", p.Refused())
			}
			for text, n := range p.Took() {
				if n != 1 {
					t.Errorf("%q taken %d times, want once", text, n)
				}
			}
			if n := len(p.Took()); n != 50 {
				t.Errorf("the provider took %d messages, want 50", n)
			}
		})
	}
}

// A carrier down for good: after three failures in a row each message goes
// out through the other configured SMS carrier, once.
func TestProviderOutageFailsOver(t *testing.T) {
	for _, kind := range queueKinds {
		t.Run(kind.name, func(t *testing.T) {
			clock := newClock()
			down := newProvider(t, clock, "../../carriers/twilio/testdata/api/error_20500.json", twilioCreated, func(time.Time) bool { return true })
			up := newProvider(t, clock, "../../carriers/atsms/testdata/api/gateway_error_501.json", atSent, func(time.Time) bool { return false })
			downSrv, upSrv := httptest.NewServer(down), httptest.NewServer(up)
			defer downSrv.Close()
			defer upSrv.Close()
			q := kind.new(t, outbound.Options{
				Senders:  map[string]carrier.Sender{"twilio": twilioSender(t, downSrv.URL), atsms.Name: atSender(t, upSrv.URL)},
				Failover: map[string]string{"twilio": atsms.Name, atsms.Name: "twilio"},
				Now:      clock.Now, Sleep: testutil.Sleep(clock), Log: testLog(t),
			})
			var ids []string
			for i := range 50 {
				m := carrier.Message{ID: fmt.Sprintf("ntf_%02d", i), Channel: "sms", Carrier: "twilio", To: "+593991234567", Text: fmt.Sprintf("Su trámite %02d está listo.", i)}
				mustEnqueue(t, q, m)
				ids = append(ids, m.ID)
			}
			run(t, q)
			settle(t, q, clock, ids, time.Hour)
			for _, id := range ids {
				if st := status(t, q, id); st.State != outbound.StateSent || st.Carrier != atsms.Name || st.Attempts != outbound.DefaultFailoverAfter+1 || !strings.HasPrefix(st.ProviderID, "ATXid_") {
					t.Fatalf("%s: %+v; want sent through %s at attempt %d, with its id", id, st, atsms.Name, outbound.DefaultFailoverAfter+1)
				}
			}
			if got, want := down.Refused(), 50*outbound.DefaultFailoverAfter; got != want {
				t.Errorf("the failing carrier was tried %d times, want %d", got, want)
			}
			took := up.Took()
			if len(took) != 50 {
				t.Errorf("the other carrier took %d messages, want 50", len(took))
			}
			for text, n := range took {
				if n != 1 {
					t.Errorf("%q taken %d times, want once", text, n)
				}
			}
		})
	}
}
