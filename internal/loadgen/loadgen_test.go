package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// tiny is a three-hop conversation the fake gateway knows.
var tiny = Scenario{Name: "tiny", Errands: []Errand{{Name: "tiny", Weight: 1, Scripts: []Script{{
	Name:    "tiny",
	Opening: []Detour{{Name: "first contact", When: "Idioma", Send: "1"}},
	Steps: []Step{
		{Send: "", Expect: []string{"Menú"}},
		{Send: "1", Expect: []string{"Submenú"}},
		{Send: "2", Expect: []string{"Adiós"}, End: true},
	},
}}}}}

// fakeGateway answers tiny over Africa's Talking's protocol. With lang, a
// phone's first conversation starts with a language question, as the
// catalogue's does. It records what a test checks: every hop, every
// session, and any citizen seen in two conversations at once.
type fakeGateway struct {
	lang bool
	// inject, when set, may answer a hop itself (an error) and report so.
	inject func(w http.ResponseWriter, r *http.Request, text string) bool

	mu       sync.Mutex
	hops     int
	chosen   map[string]bool   // phones that answered the language question
	skip     map[string]int    // session → leading answers that were the language
	active   map[string]string // phone → its session that has not ended
	sessions map[string]string // session → phone
	overlaps []string
}

func newFake() *fakeGateway {
	return &fakeGateway{chosen: map[string]bool{}, skip: map[string]int{}, active: map[string]string{}, sessions: map[string]string{}}
}

func (f *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/ussd/africastalking" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		http.Error(w, "not a callback", http.StatusNotFound)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	session, phone, text := r.PostForm.Get("sessionId"), r.PostForm.Get("phoneNumber"), r.PostForm.Get("text")
	if f.inject != nil && f.inject(w, r, text) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hops++
	if _, known := f.sessions[session]; !known {
		if other, busy := f.active[phone]; busy {
			f.overlaps = append(f.overlaps, phone+" in "+other+" and "+session)
		}
		f.sessions[session], f.active[phone] = phone, session
	}
	var inputs []string
	if text != "" {
		inputs = strings.Split(text, "*")
	}
	if f.lang && !f.chosen[phone] {
		if len(inputs) == 0 {
			io.WriteString(w, "CON Idioma:\n1. Español")
			return
		}
		f.chosen[phone], f.skip[session] = true, 1
	}
	inputs = inputs[min(f.skip[session], len(inputs)):]
	switch strings.Join(inputs, "*") {
	case "":
		io.WriteString(w, "CON Menú\n1. Sub")
	case "1":
		io.WriteString(w, "CON Submenú\n2. Salir")
	case "1*2":
		delete(f.active, phone)
		io.WriteString(w, "END Adiós")
	default:
		io.WriteString(w, "CON Opción no válida")
	}
}

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func config(t *testing.T, url string) Config {
	t.Helper()
	client := NewClient(4, 5*time.Second, false)
	return Config{
		URL:         url,
		Carrier:     AfricasTalking{},
		Scenario:    tiny,
		Citizens:    5,
		Concurrency: 3,
		Duration:    10 * time.Second,
		Client:      client,
	}
}

func TestCleanRunCountsEveryHopAndConversation(t *testing.T) {
	fake := newFake()
	fake.lang = true
	cfg := config(t, serve(t, fake))
	cfg.Sessions = 40
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	firsts := res.Detours["first contact"]
	if firsts < 1 || firsts > int64(cfg.Citizens) {
		t.Errorf("first contacts: %d, want 1 to %d", firsts, cfg.Citizens)
	}
	if res.Conversations != 40 || res.Errors != 0 || res.Cut != 0 {
		t.Errorf("conversations %d, errors %d %v, cut %d; want 40, 0, 0\n%+v", res.Conversations, res.Errors, res.ErrorsByKind, res.Cut, res.Samples)
	}
	if want := 3*40 + firsts; res.Hops != want {
		t.Errorf("hops: %d, want %d", res.Hops, want)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if int64(fake.hops) != res.Hops {
		t.Errorf("the gateway saw %d hops, the report says %d", fake.hops, res.Hops)
	}
	if len(fake.sessions) != 40 {
		t.Errorf("sessions: %d, want a new one per conversation (40)", len(fake.sessions))
	}
	phones := map[string]bool{}
	e164 := regexp.MustCompile(`^\+5939\d{8}$`)
	for _, p := range fake.sessions {
		phones[p] = true
		if !e164.MatchString(p) {
			t.Errorf("phone %q is not +5939XXXXXXXX", p)
		}
	}
	if len(phones) > cfg.Citizens {
		t.Errorf("%d phones for %d citizens", len(phones), cfg.Citizens)
	}
	if len(fake.overlaps) > 0 {
		t.Errorf("citizens in two conversations at once: %v", fake.overlaps)
	}
	if res.Latency.P50 <= 0 || res.Latency.Max < res.Latency.P99 || res.Latency.P99 < res.Latency.P50 {
		t.Errorf("latency: %+v", res.Latency)
	}
}

func TestErrorsAreClassified(t *testing.T) {
	cases := []struct {
		name   string
		kind   string
		inject func(w http.ResponseWriter, r *http.Request)
		hops   int64 // answered hops per conversation
	}{
		{"server error", "HTTP 500", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}, 2},
		{"redirect", "HTTP 302", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		}, 2},
		{"wrong screen", KindUnexpected, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "CON Otra cosa")
		}, 2},
		{"unframed reply", KindUnexpected, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "Submenú")
		}, 2},
		{"connection dropped", KindTransport, func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler)
		}, 1},
		{"no answer in time", KindTimeout, func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := newFake()
			fake.inject = func(w http.ResponseWriter, r *http.Request, text string) bool {
				if text != "1" {
					return false
				}
				c.inject(w, r)
				return true
			}
			cfg := config(t, serve(t, fake))
			cfg.Sessions = 6
			if c.kind == KindTimeout {
				// Short enough to wait out, long enough for the hops that
				// do answer on a busy machine (at 200ms some did not, and
				// counted as timeouts).
				cfg.Client = NewClient(4, 2*time.Second, false)
			}
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Errors != 6 || res.ErrorsByKind[c.kind] != 6 || len(res.ErrorsByKind) != 1 {
				t.Errorf("errors %d by kind %v, want 6 %q", res.Errors, res.ErrorsByKind, c.kind)
			}
			if res.Conversations != 0 {
				t.Errorf("conversations: %d, want none to succeed", res.Conversations)
			}
			if res.Hops != 6*c.hops {
				t.Errorf("hops: %d, want %d", res.Hops, 6*c.hops)
			}
			if len(res.Samples) == 0 || res.Samples[0].Kind != c.kind || res.Samples[0].Sent != "1" {
				t.Errorf("samples: %+v", res.Samples)
			}
		})
	}
}

func TestRunStopsWithinItsDuration(t *testing.T) {
	t.Run("answering target", func(t *testing.T) {
		fake := newFake()
		fake.inject = func(w http.ResponseWriter, r *http.Request, text string) bool {
			// A target's latency, kept on purpose: the run must end on
			// time with hops in flight. Nothing waits on it.
			time.Sleep(5 * time.Millisecond)
			return false
		}
		cfg := config(t, serve(t, fake))
		cfg.Duration = 300 * time.Millisecond
		start := time.Now()
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > cfg.Duration+grace {
			t.Errorf("took %v for a %v run", took, cfg.Duration)
		}
		if res.Hops == 0 || res.Errors != 0 {
			t.Errorf("hops %d, errors %d %+v", res.Hops, res.Errors, res.Samples)
		}
	})
	t.Run("hung target", func(t *testing.T) {
		release := make(chan struct{})
		fake := newFake()
		fake.inject = func(w http.ResponseWriter, r *http.Request, text string) bool {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return true
		}
		url := serve(t, fake)
		t.Cleanup(func() { close(release) }) // before the server closes
		cfg := config(t, url)
		cfg.Duration = 200 * time.Millisecond
		start := time.Now()
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > cfg.Duration+grace+time.Second {
			t.Errorf("took %v for a %v run: hops in flight were not abandoned", took, cfg.Duration)
		}
		if res.Errors != 0 || res.Cut != int64(cfg.Concurrency) {
			t.Errorf("errors %d, cut %d; the end of a run is no error, and each worker's conversation was cut", res.Errors, res.Cut)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		cfg := config(t, serve(t, newFake()))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		res, err := Run(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("took %v after the context ended at 100ms", took)
		}
		if !res.Interrupted || res.Errors != 0 {
			t.Errorf("interrupted %v, errors %d %+v", res.Interrupted, res.Errors, res.Samples)
		}
	})
}

func TestRateHolds(t *testing.T) {
	cfg := config(t, serve(t, newFake()))
	cfg.Rate = 100
	cfg.Duration = time.Second
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 100 hops are due within the second; an unpaced run against this
	// target makes thousands. How many of the 100 a busy machine manages
	// to send is its own affair (as few as 27 were seen): that the
	// schedule offers all of them is TestPacerOffersEveryHopDue.
	if res.Hops > 100 || res.Hops == 0 {
		t.Errorf("hops: %d in 1s at 100/s", res.Hops)
	}
	if res.Errors != 0 {
		t.Errorf("errors: %v %+v", res.ErrorsByKind, res.Samples)
	}
}

// The schedule of a run at 100 hops/s for a second offers exactly 100
// hops, perHop apart, to workers that come for them; a worker late for
// its hop sends it at once, counted from when it was due.
func TestPacerOffersEveryHopDue(t *testing.T) {
	// A run that started a second ago, at its deadline now: every hop of
	// its schedule is due, and none needs to be slept for.
	deadline := time.Now()
	start := deadline.Add(-time.Second)
	p := newPacer(start, 100)
	for k := range 100 {
		due, ok := p.wait(context.Background(), deadline)
		if want := start.Add(time.Duration(k) * 10 * time.Millisecond); !ok || !due.Equal(want) {
			t.Fatalf("hop %d: due %v, %v; want %v, true", k, due.Sub(start), ok, want.Sub(start))
		}
	}
	if due, ok := p.wait(context.Background(), deadline); ok {
		t.Errorf("hop 100 offered, due %v after the start of a 1s run", due.Sub(start))
	}
}

func TestBaselineRuns(t *testing.T) {
	b, err := StartBaseline(AfricasTalking{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			// A few whole conversations, however long the machine takes
			// over them (Duration only bounds a run that hangs).
			cfg := config(t, b.URL)
			cfg.Scenario, cfg.Blind, cfg.Sessions = s, true, cfg.Concurrency
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Hops == 0 || res.Conversations == 0 || res.Errors != 0 || res.HopsPerSecond <= 0 {
				t.Errorf("hops %d, conversations %d, errors %v %+v", res.Hops, res.Conversations, res.ErrorsByKind, res.Samples)
			}
		})
	}
	t.Run("reads the form", func(t *testing.T) {
		resp, err := http.Post(b.URL+"/ussd/africastalking", "application/x-www-form-urlencoded", strings.NewReader("text=%zz"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("malformed form: status %d, want 400", resp.StatusCode)
		}
	})
}

func TestClientStaysOnLoopback(t *testing.T) {
	client := NewClient(1, time.Second, false)
	// 192.0.2.1 is TEST-NET-1; the check runs before any packet is sent.
	_, err := client.Get("http://192.0.2.1/")
	if !errors.Is(err, ErrNotLoopback) {
		t.Errorf("err = %v, want ErrNotLoopback", err)
	}
}

func TestConfigIsChecked(t *testing.T) {
	good := config(t, "http://127.0.0.1:1")
	cases := map[string]func(*Config){
		"no carrier":    func(c *Config) { c.Carrier = nil },
		"no scheme":     func(c *Config) { c.URL = "127.0.0.1:8080" },
		"no citizens":   func(c *Config) { c.Citizens = 0 },
		"too many":      func(c *Config) { c.Citizens = MaxCitizens + 1 },
		"no workers":    func(c *Config) { c.Concurrency = 0 },
		"unbounded":     func(c *Config) { c.Duration = 0 },
		"negative rate": func(c *Config) { c.Rate = -1 },
		"dial with answer": func(c *Config) {
			c.Scenario.Errands = []Errand{{Name: "x", Weight: 1, Scripts: []Script{{Name: "x", Steps: []Step{{Send: "1"}}}}}}
		},
	}
	for name, breakIt := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := good
			breakIt(&cfg)
			if _, err := Run(context.Background(), cfg); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestBuiltInScenariosAreValid(t *testing.T) {
	for _, s := range Scenarios() {
		if err := s.Validate(); err != nil {
			t.Error(err)
		}
	}
}

func TestCitizens(t *testing.T) {
	if c := NewCitizen(430710); c.Cedula != "1714307103" || c.Phone != "+593990430710" {
		t.Errorf("citizen 430710: %+v, want cédula 1714307103 (a valid one) and phone +593990430710", c)
	}
	seen := map[string]bool{}
	for i := range 1000 {
		c := NewCitizen(i)
		if seen[c.Phone] || seen[c.Cedula] || len(c.Cedula) != 10 {
			t.Fatalf("citizen %d: %+v repeats or is malformed", i, c)
		}
		seen[c.Phone], seen[c.Cedula] = true, true
	}
	if got := NewCitizen(7).fill("{cedula}*{office}"); got != NewCitizen(7).Cedula+"*3" {
		t.Errorf("fill: %q", got)
	}
}

func TestAfricasTalkingWire(t *testing.T) {
	req, err := AfricasTalking{}.Request(context.Background(), "http://127.0.0.1:9/", Hop{Session: "s1", Phone: "+593990000001", ServiceCode: "*384#", Inputs: []string{"1", "00"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(req.Body)
	form, _ := url.ParseQuery(string(body))
	if req.URL.String() != "http://127.0.0.1:9/ussd/africastalking" || form.Get("text") != "1*00" || form.Get("sessionId") != "s1" || form.Get("phoneNumber") != "+593990000001" {
		t.Errorf("request %s %v", req.URL, form)
	}
	replies := []struct {
		body string
		want Screen
		err  bool
	}{
		{"CON Menú", Screen{Text: "Menú"}, false},
		{"END Adiós", Screen{Text: "Adiós", End: true}, false},
		{"CONMenú", Screen{}, true},
		{"", Screen{}, true},
	}
	for _, r := range replies {
		got, err := AfricasTalking{}.Reply([]byte(r.body))
		if got != r.want || (err != nil) != r.err {
			t.Errorf("Reply(%q) = %+v, %v", r.body, got, err)
		}
	}
}

func FuzzAfricasTalkingReply(f *testing.F) {
	for _, s := range []string{"CON Menú", "END Adiós", "", "CON", "hola"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := AfricasTalking{}.Reply(body)
		if err != nil {
			return
		}
		prefix := "CON "
		if s.End {
			prefix = "END "
		}
		if prefix+s.Text != string(body) {
			t.Errorf("Reply(%q) = %+v: does not frame back to the body", body, s)
		}
	})
}

func TestReport(t *testing.T) {
	cfg := config(t, "http://127.0.0.1:1")
	gw := &Result{URL: cfg.URL, Elapsed: 1, Hops: 500, HopsPerSecond: 500, Errors: 1, ErrorsByKind: map[string]int64{"HTTP 500": 1},
		Samples: []Sample{{Kind: "HTTP 500", Script: "tiny", Sent: "1", Want: "200", Got: "boom"}}}
	base := &Result{URL: "http://127.0.0.1:2", Elapsed: 1, Hops: 2000, HopsPerSecond: 2000}
	r := NewReport(cfg, gw, base)
	r.CPUs, r.LoadBefore = 2, "9.50 3.00 1.00"
	if r.Ratio != 0.25 {
		t.Errorf("ratio %v, want 0.25", r.Ratio)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"gateway/baseline: 0.250", "hops/s", "p99.9", "HTTP 500 1", `got  "boom"`, "load average 9.50 3.00 1.00", "more than 2 CPUs busy"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, text.String())
		}
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"ratio":0.25`, `"hops_per_s":500`, `"p99_9_us":0`, `"baseline":{`} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("JSON lacks %s: %s", want, data)
		}
	}
}
