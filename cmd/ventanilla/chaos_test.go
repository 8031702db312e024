package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/loadgen"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/sample"
)

// The chaos run: two gateway instances (real `ventanilla serve`
// processes) sharing a real Redis Cluster of three masters with a replica
// each, the sample back-end answering after 1.5 s, and simulated citizens
// booking and cancelling turnos over Africa's Talking's USSD protocol
// through a load balancer that spreads hops over both instances and
// sends a hop that got no answer to the other one. During the run one
// instance is killed with SIGKILL (and started again), and one Redis
// master is killed and started again (its replica takes over). It ends by
// checking what citizens saw against what the back-end did.
//
// make test runs it for 20 s; the documented run (docs/operations.md,
// "Chaos run") lasts 60 s:
//
//	VENTANILLA_CHAOS_DURATION=60s go test -count=1 -run TestChaosRun -v ./cmd/ventanilla
const chaosDurationEnv = "VENTANILLA_CHAOS_DURATION"

// chaosTraceEnv names a file to write every hop of the run to, with its
// time, conversation, number, input and answer.
const chaosTraceEnv = "VENTANILLA_CHAOS_TRACE"

func TestChaosRun(t *testing.T) {
	if testing.Short() {
		t.Skip("the chaos run starts a Redis Cluster and two gateways")
	}
	duration := 20 * time.Second
	if v := os.Getenv(chaosDurationEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Second {
			t.Fatalf("%s=%q: want a duration of at least 10s", chaosDurationEnv, v)
		}
		duration = d
	}
	const citizens = 40

	cluster := redistest.StartOwnCluster(t)
	books := newBookLedger(citizens)
	backend := httptest.NewServer(sample.New(sample.Options{Latency: 1500 * time.Millisecond, Store: books.wrap(sample.NewMemoryStore())}))
	t.Cleanup(backend.Close)

	gws := []*chaosGateway{
		{addr: chaosFreeAddr(t), log: filepath.Join(t.TempDir(), "a.log")},
		{addr: chaosFreeAddr(t), log: filepath.Join(t.TempDir(), "b.log")},
	}
	env := []string{
		"VENTANILLA_SAMPLE_URL=" + backend.URL,
		"VENTANILLA_PSEUDONYM_KEY=chaos-run-pseudonym-key-0123456789abcdef",
	}
	args := []string{"serve", "--redis-addrs", strings.Join(cluster.Nodes(), ",")}
	for _, g := range gws {
		g.start(t, args, env)
	}
	t.Cleanup(func() {
		for _, g := range gws {
			g.kill()
		}
	})

	watch := newChaosWatch(books)
	if p := os.Getenv(chaosTraceEnv); p != "" {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = f.Close() })
		watch.trace = f
	}
	lb := &loadgen.Balancer{
		Client:     loadgen.NewClient(2*citizens, 30*time.Second, false),
		TryTimeout: 10 * time.Second,
		Observe:    watch.observe,
		Received:   watch.note,
	}
	for _, g := range gws {
		lb.Targets = append(lb.Targets, "http://"+g.addr)
	}
	front := httptest.NewServer(lb)
	t.Cleanup(front.Close)

	scenarios := map[string]loadgen.Scenario{}
	for _, s := range loadgen.Scenarios() {
		scenarios[s.Name] = s
	}
	ctx := context.Background()
	// Every citizen has been here before: one browse each picks the
	// language, which every later conversation must remember.
	warm, err := loadgen.Run(ctx, loadgen.Config{
		URL: front.URL, Carrier: loadgen.AfricasTalking{}, Scenario: scenarios["browse"],
		Citizens: citizens, Concurrency: citizens, Sessions: citizens, Duration: time.Minute,
		Client: loadgen.NewClient(citizens, 30*time.Second, false),
	})
	if err != nil {
		t.Fatal(err)
	}
	if warm.Errors > 0 || warm.Detours["first contact"] != citizens {
		t.Fatalf("warm-up: %d errors %v, %d first contacts, want 0 and %d", warm.Errors, warm.Samples, warm.Detours["first contact"], citizens)
	}
	watch.startRun()

	// The faults, on a schedule within the run. The sleeps are the
	// schedule: the load runs on the real clock for its duration, and the
	// faults must fall at points within it, whatever state it is in then.
	faults := make(chan string, 4)
	var fw sync.WaitGroup
	fw.Go(func() {
		time.Sleep(duration / 4)
		gws[0].kill()
		faults <- fmt.Sprintf("%s: instance %s killed with SIGKILL", time.Since(watch.start).Round(time.Millisecond), gws[0].addr)
		time.Sleep(duration / 8)
		gws[0].start(t, args, env)
		faults <- fmt.Sprintf("%s: instance %s started again", time.Since(watch.start).Round(time.Millisecond), gws[0].addr)
		time.Sleep(duration / 8)
		// Languages asked again from here on are counted apart, so a
		// failure says whether it came with the master's failover.
		watch.setRedisFault(true)
		killed := time.Since(watch.start).Round(time.Millisecond)
		node := cluster.RestartMaster(t)
		faults <- fmt.Sprintf("%s: Redis master %s killed with SIGKILL at %s, its replica took over, back as a replica", time.Since(watch.start).Round(time.Millisecond), node, killed)
	})

	res, err := loadgen.Run(ctx, loadgen.Config{
		URL: front.URL, Carrier: loadgen.AfricasTalking{}, Scenario: scenarios["book"],
		Citizens: citizens, Concurrency: citizens, Duration: duration,
		Client: loadgen.NewClient(citizens, 30*time.Second, false),
		Seed:   1,
		Redial: 3 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	fw.Wait()
	close(faults)
	// Hops the carrier stopped waiting for at the end still run out.
	lb.Wait()
	for f := range faults {
		t.Log(f)
	}

	st := lb.Stats()
	fig := watch.figures()
	t.Logf("conversations %d completed, %d cut by the end of the run; hops %d (%d sent again to the other instance, %d without an answer); hop p50 %v p99 %v",
		res.Conversations, res.Cut, st.Hops, st.Retried, st.Unanswered,
		time.Duration(res.Latency.P50)*time.Microsecond, time.Duration(res.Latency.P99)*time.Microsecond)
	t.Logf("bookings: %d at the back-end, %d shown to citizens, %d double; languages: %d dials remembered, %d asked again (%d more once a Redis master was killed); errors by kind %v; detours %v",
		fig.booked, fig.shown, fig.double, fig.remembered, fig.forgotten, fig.forgottenInFault, res.ErrorsByKind, res.Detours)

	if st.Unanswered != 0 || res.ErrorsByKind[loadgen.KindTimeout] != 0 || res.ErrorsByKind[loadgen.KindTransport] != 0 {
		t.Errorf("%d hops without an answer (balancer), errors %v; want none", st.Unanswered, res.ErrorsByKind)
	}
	for kind, n := range res.ErrorsByKind {
		if strings.HasPrefix(kind, "HTTP") {
			t.Errorf("%d hops answered %s", n, kind)
		}
	}
	if fig.booked != fig.shown || len(fig.unshown) > 0 || len(fig.phantom) > 0 {
		t.Errorf("bookings at the back-end %d, shown to citizens %d; booked never shown %v, shown never booked %v", fig.booked, fig.shown, fig.unshown, fig.phantom)
	}
	if fig.double != 0 {
		t.Errorf("%d conversations booked more than once: %v", fig.double, fig.doubles)
	}
	// Across the gateway's kill -9 and the master's, a returning citizen
	// is never asked the language again: a dial whose profile cannot be
	// read while Redis fails over is answered "service unavailable".
	if fig.forgotten != 0 {
		t.Errorf("%d dials asked a returning citizen's language again; want none", fig.forgotten)
	}
	if fig.forgottenInFault != 0 {
		t.Errorf("%d dials asked a returning citizen's language again once a Redis master was killed; want none", fig.forgottenInFault)
	}
	if fig.booked == 0 || res.Conversations == 0 {
		t.Errorf("the run booked %d turnos in %d conversations: it proves nothing", fig.booked, res.Conversations)
	}
	for _, s := range res.Samples {
		t.Logf("sample: %+v", s)
	}
	if t.Failed() {
		for _, g := range gws {
			b, _ := os.ReadFile(g.log)
			t.Logf("%s log (tail):\n%s", g.addr, tail(string(b), 4000))
		}
	}
}

// chaosGateway is one `ventanilla serve` process: the test binary acting
// as the command (see TestMain).
type chaosGateway struct {
	addr, log string
	mu        sync.Mutex
	cmd       *exec.Cmd
	exited    chan struct{}
}

func (g *chaosGateway) start(t *testing.T, args, env []string) {
	f, err := os.OpenFile(g.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	cmd := exec.Command(os.Args[0], append(args, "--addr", g.addr)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Error(err)
		return
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	g.mu.Lock()
	g.cmd, g.exited = cmd, exited
	g.mu.Unlock()
	deadline := time.After(60 * time.Second)
	for {
		resp, err := http.Get("http://" + g.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(g.log)
			t.Errorf("gateway %s exited at start:\n%s", g.addr, tail(string(b), 4000))
			return
		case <-deadline:
			t.Errorf("gateway %s never ready", g.addr)
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (g *chaosGateway) kill() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cmd == nil {
		return
	}
	_ = g.cmd.Process.Signal(syscall.SIGKILL)
	<-g.exited
	g.cmd = nil
}

func chaosFreeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// bookLedger is the back-end's side: every appointment its store booked,
// with the conversation the citizen was in at the time.
type bookLedger struct {
	mu       sync.Mutex
	phone    map[string]string // cédula → phone
	current  map[string]string // phone → carrier session of its latest hop
	bySess   map[string][]string
	codes    map[string]string // code → session
	counting bool
}

func newBookLedger(citizens int) *bookLedger {
	l := &bookLedger{phone: map[string]string{}, current: map[string]string{}, bySess: map[string][]string{}, codes: map[string]string{}}
	for i := range citizens {
		c := loadgen.NewCitizen(i)
		l.phone[c.Cedula] = c.Phone
	}
	return l
}

func (l *bookLedger) wrap(s sample.Store) sample.Store { return &ledgerStore{Store: s, l: l} }

type ledgerStore struct {
	sample.Store
	l *bookLedger
}

func (s *ledgerStore) Book(ctx context.Context, a sample.Appointment) error {
	err := s.Store.Book(ctx, a)
	if err == nil {
		l := s.l
		l.mu.Lock()
		if l.counting {
			sess := l.current[l.phone[a.Cedula]]
			l.codes[a.Code] = sess
			l.bySess[sess] = append(l.bySess[sess], a.Code)
		}
		l.mu.Unlock()
	}
	return err
}

// chaosWatch is the carrier's side: what citizens were shown.
type chaosWatch struct {
	books      *bookLedger
	mu         sync.Mutex
	start      time.Time
	running    bool
	shown      map[string]bool // codes confirmed to citizens
	remembered int
	forgotten  int
	// redisFault is set once a Redis master is killed; forgottenInFault
	// counts the languages asked again from then on.
	redisFault       bool
	forgottenInFault int
	trace            io.Writer
}

func (w *chaosWatch) setRedisFault(on bool) {
	w.mu.Lock()
	w.redisFault = on
	w.mu.Unlock()
}

func newChaosWatch(b *bookLedger) *chaosWatch {
	return &chaosWatch{books: b, shown: map[string]bool{}, start: time.Now()}
}

func (w *chaosWatch) startRun() {
	w.mu.Lock()
	w.start, w.running = time.Now(), true
	w.mu.Unlock()
	w.books.mu.Lock()
	w.books.counting = true
	w.books.mu.Unlock()
}

var chaosCode = regexp.MustCompile(`\bT-[2-9A-HJ-NP-Z]{5}\b`)

// observe reads one hop and the answer the carrier passed on.
func (w *chaosWatch) observe(req []byte, status int, resp []byte) {
	form, _ := url.ParseQuery(string(req))
	text := form.Get("text")
	screen := string(resp)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.trace != nil {
		fmt.Fprintf(w.trace, "%s %s %s %q -> %d %q\n", time.Since(w.start).Round(time.Millisecond), form.Get("sessionId"), form.Get("phoneNumber"), text, status, screen)
	}
	if !w.running || status != http.StatusOK {
		return
	}
	if strings.Contains(screen, "Elija su idioma") {
		if w.redisFault {
			w.forgottenInFault++
		} else {
			w.forgotten++
		}
	} else if text == "" {
		w.remembered++
	}
	if strings.Contains(screen, "Turno reservado") {
		for _, c := range chaosCode.FindAllString(screen, -1) {
			w.shown[c] = true
		}
	}
}

// note records a hop's conversation as the citizen's current one before
// the hop reaches a gateway, so that a booking it causes is laid at that
// conversation (a citizen is in one conversation at a time).
func (w *chaosWatch) note(req []byte) {
	form, _ := url.ParseQuery(string(req))
	w.books.mu.Lock()
	w.books.current[form.Get("phoneNumber")] = form.Get("sessionId")
	w.books.mu.Unlock()
}

type chaosFigures struct {
	booked, shown, double int
	remembered, forgotten int
	forgottenInFault      int
	unshown, phantom      []string
	doubles               map[string][]string
}

func (w *chaosWatch) figures() chaosFigures {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.books
	b.mu.Lock()
	defer b.mu.Unlock()
	f := chaosFigures{booked: len(b.codes), shown: len(w.shown), remembered: w.remembered, forgotten: w.forgotten, forgottenInFault: w.forgottenInFault, doubles: map[string][]string{}}
	for code := range b.codes {
		if !w.shown[code] {
			f.unshown = append(f.unshown, code)
		}
	}
	for code := range w.shown {
		if _, ok := b.codes[code]; !ok {
			f.phantom = append(f.phantom, code)
		}
	}
	for sess, codes := range b.bySess {
		if len(codes) > 1 {
			f.double++
			f.doubles[sess] = codes
		}
	}
	return f
}
