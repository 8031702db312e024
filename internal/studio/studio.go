package studio

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/chat"
	"github.com/ventanilla-gob/ventanilla/channels/sms"
	"github.com/ventanilla-gob/ventanilla/channels/ussd"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/flowtest"
	"github.com/ventanilla-gob/ventanilla/interop/flowcall"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Options configure a Studio.
type Options struct {
	// Load reads and checks the flows; the studio calls it at the start
	// and whenever a watched file changes. It returns a nil registry when
	// the flows cannot run (problems with errors, or err).
	Load     func() (*flows.Registry, flows.Problems, error)
	Messages *i18n.Catalog
	// Services calls the flows' real back-ends; ServiceNames lists them
	// for the answer picker.
	Services     flowcall.Backend
	ServiceNames []string
	Root         string
	Nav          flows.NavKeys
	// Watch lists the files and directories whose changes reload the
	// flows (directories are watched for the files in them).
	Watch []string
	// Transcripts is the directory of golden transcripts: their mocks can
	// answer the calls, their coverage marks the diagram, and "save as
	// transcript" writes there and nowhere else.
	Transcripts string
	// Budget is the carrier's hop budget (default 4 s).
	Budget time.Duration
	// Limit is the characters of a USSD screen (default 182).
	Limit int
	SMS   sms.Options
	Chat  chat.Options
	// Phone is the citizen's number (default +593991234567).
	Phone string
	// Token, when set, must come with every request (the studio listens
	// beyond loopback only with one).
	Token string
	Log   *slog.Logger
}

// Studio is the web app: an http.Handler.
type Studio struct {
	opts Options
	mux  *http.ServeMux
	page *template.Template
	csrf string
	reg  atomic.Pointer[flows.Registry]

	mu       sync.Mutex
	conv     *conversation
	problems flows.Problems
	loadErr  string
	covered  map[string]bool // "flow/step" a transcript visits
	coverErr string
	saved    string // the last transcript saved, or why it was not
	version  uint64
	changed  chan struct{} // closed and replaced on every change
	closed   chan struct{} // closed by Close: the pages' event streams end
	close    sync.Once
}

// Close ends the pages' event streams, which would otherwise keep a
// server that shuts down waiting for them.
func (s *Studio) Close() {
	s.close.Do(func() { close(s.closed) })
}

// New loads the flows and builds the studio.
func New(opts Options) (*Studio, error) {
	if opts.Budget <= 0 {
		opts.Budget = 4 * time.Second
	}
	if opts.Limit <= 0 {
		opts.Limit = ussd.DefaultLimit
	}
	if opts.Phone == "" {
		opts.Phone = defaultPhone
	}
	if opts.Nav == (flows.NavKeys{}) {
		opts.Nav = flows.DefaultNav
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Transcripts == "" {
		opts.Transcripts = filepath.Join("testdata", "conversations")
	}
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	page, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	s := &Studio{opts: opts, page: page, csrf: hex.EncodeToString(tok), changed: make(chan struct{}), closed: make(chan struct{})}
	reg, problems, err := opts.Load()
	if err != nil {
		return nil, err
	}
	if reg == nil {
		return nil, fmt.Errorf("the flows do not load:\n%w", problems)
	}
	s.reg.Store(reg)
	s.problems = problems
	s.cover(context.Background())
	s.conv, err = newConversation(context.Background(), s, Settings{Lang: "es", Verified: true})
	if err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

func (s *Studio) registry() *flows.Registry { return s.reg.Load() }

// backend is what answers calls: the flows' services, or the mocks of the
// transcript named.
func (s *Studio) backend(transcript string) (flowcall.Backend, error) {
	if transcript == "" {
		if s.opts.Services == nil {
			return nil, errors.New("no services configured")
		}
		return s.opts.Services, nil
	}
	path, err := s.transcriptPath(transcript)
	if err != nil {
		return nil, err
	}
	t, err := flowtest.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return flowtest.NewMocks(t.Mocks), nil
}

// transcriptPath is where the transcript called name lives: a plain file
// name inside the transcripts directory, never a path out of it.
func (s *Studio) transcriptPath(name string) (string, error) {
	if name == "" || name != filepath.Base(name) || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".yaml") {
		return "", fmt.Errorf("%q is not a transcript file name (a name ending in .yaml, without folders)", name)
	}
	return filepath.Join(s.opts.Transcripts, name), nil
}

// transcripts lists the transcript files of the transcripts directory.
func (s *Studio) transcripts() []string {
	m, _ := filepath.Glob(filepath.Join(s.opts.Transcripts, "*.yaml"))
	out := make([]string, 0, len(m))
	for _, p := range m {
		out = append(out, filepath.Base(p))
	}
	sort.Strings(out)
	return out
}

// cover runs every transcript and notes the steps they reach.
func (s *Studio) cover(ctx context.Context) {
	seen := coverage{}
	r := &flowtest.Runner{Flows: s.registry(), Messages: s.opts.Messages, Root: s.opts.Root, Observer: seen}
	var failed []string
	for _, name := range s.transcripts() {
		t, err := flowtest.ReadFile(filepath.Join(s.opts.Transcripts, name))
		if err == nil {
			_, _, err = r.Run(ctx, t)
		}
		if err != nil {
			failed = append(failed, name)
		}
	}
	s.mu.Lock()
	s.covered = seen
	s.coverErr = ""
	if len(failed) > 0 {
		s.coverErr = "not run: " + strings.Join(failed, ", ")
	}
	s.mu.Unlock()
}

type coverage map[string]bool

func (c coverage) StepReached(flow, step string)      { c[flow+"/"+step] = true }
func (c coverage) StepCompleted(string, string)       {}
func (c coverage) Call(string, string, time.Duration) {}

// Reload loads the flows again: with errors the running flows stay and the
// page shows the problems; otherwise the conversation goes on from the
// step it is on, as the step reads now, or starts over when its step is
// gone.
func (s *Studio) Reload(ctx context.Context) {
	reg, problems, err := s.opts.Load()
	s.mu.Lock()
	s.problems = problems
	s.loadErr = ""
	if err != nil {
		s.loadErr = err.Error()
	}
	if reg != nil {
		s.reg.Store(reg)
		c := s.conv
		c.mu.Lock()
		ok := c.reloaded(ctx, reg)
		c.mu.Unlock()
		if !ok {
			if nc, err := newConversation(ctx, s, c.settings); err == nil {
				nc.notice = "restarted"
				s.conv = nc
			}
		}
	}
	s.mu.Unlock()
	if reg != nil {
		s.cover(ctx)
	}
	s.bump()
}

// bump tells the pages that something changed.
func (s *Studio) bump() {
	s.mu.Lock()
	s.version++
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

func (s *Studio) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", s.index)
	m.HandleFunc("GET /panels", s.panels)
	m.HandleFunc("GET /events", s.events)
	m.HandleFunc("POST /send", s.send)
	m.HandleFunc("POST /hangup", s.hangUp)
	m.HandleFunc("POST /settings", s.settings)
	m.HandleFunc("POST /picks", s.picks)
	m.HandleFunc("POST /save", s.save)
	assets, _ := fs.Sub(assetFS, "assets")
	m.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(assets)))
	s.mux = m
}

// ServeHTTP checks where the request comes from and serves it.
func (s *Studio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if s.opts.Token == "" && !loopbackHost(r.Host) {
		// A page of another site that made a name resolve to 127.0.0.1
		// (DNS rebinding) reaches the studio under that name.
		http.Error(w, "the studio answers on loopback names only", http.StatusForbidden)
		return
	}
	if s.opts.Token != "" && !s.tokenOK(w, r) {
		http.Error(w, "a token is needed: open the address the studio printed at its start", http.StatusUnauthorized)
		return
	}
	if r.Method == http.MethodPost {
		if o := r.Header.Get("Origin"); o != "" {
			if u, err := url.Parse(o); err != nil || u.Host != r.Host {
				http.Error(w, "cross-site request refused", http.StatusForbidden)
				return
			}
		}
		if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.csrf)) != 1 {
			http.Error(w, "the form is out of date or came from another site: reload the page", http.StatusForbidden)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Studio) tokenOK(w http.ResponseWriter, r *http.Request) bool {
	ok := func(v string) bool { return subtle.ConstantTimeCompare([]byte(v), []byte(s.opts.Token)) == 1 }
	if c, err := r.Cookie("studio_token"); err == nil && ok(c.Value) {
		return true
	}
	if ok(r.URL.Query().Get("token")) {
		http.SetCookie(w, &http.Cookie{Name: "studio_token", Value: s.opts.Token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		return true
	}
	return false
}

func loopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func (s *Studio) index(w http.ResponseWriter, r *http.Request) {
	s.render(w, "page", r)
}

func (s *Studio) panels(w http.ResponseWriter, r *http.Request) {
	s.render(w, "panels", r)
}

func (s *Studio) render(w http.ResponseWriter, name string, r *http.Request) {
	v := s.view()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.page.ExecuteTemplate(w, name, v); err != nil {
		s.opts.Log.Error("studio page", "err", err)
	}
}

// done answers a form: the panels for the page's script, or back to the
// page for a browser without it.
func (s *Studio) done(w http.ResponseWriter, r *http.Request) {
	s.bump()
	if r.Header.Get("X-Studio") == "panels" {
		s.render(w, "panels", r)
		return
	}
	// Relative, so that the studio works under a path prefix too (the
	// demo's /simulator/).
	w.Header().Set("Location", "./")
	w.WriteHeader(http.StatusSeeOther)
}

func (s *Studio) send(w http.ResponseWriter, r *http.Request) {
	phone := r.PostFormValue("phone")
	if phone != PhoneUSSD && phone != PhoneSMS && phone != PhoneChat {
		http.Error(w, "unknown phone", http.StatusBadRequest)
		return
	}
	text := strings.TrimSpace(r.PostFormValue("text"))
	if len(text) > 1000 {
		http.Error(w, "an answer is at most 1000 bytes", http.StatusRequestEntityTooLarge)
		return
	}
	s.mu.Lock()
	c := s.conv
	s.mu.Unlock()
	c.mu.Lock()
	var err error
	if r.PostFormValue("call") != "" {
		if c.open {
			err = c.hangUp(r.Context())
		}
		if err == nil {
			err = c.call(r.Context(), phone, "")
		}
	} else {
		err = c.send(r.Context(), phone, text)
	}
	c.mu.Unlock()
	if err != nil {
		s.opts.Log.Error("studio hop", "err", err)
	}
	s.done(w, r)
}

func (s *Studio) hangUp(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	c := s.conv
	s.mu.Unlock()
	c.mu.Lock()
	err := c.hangUp(r.Context())
	c.mu.Unlock()
	if err != nil {
		s.opts.Log.Error("studio hang-up", "err", err)
	}
	s.done(w, r)
}

func (s *Studio) settings(w http.ResponseWriter, r *http.Request) {
	st := Settings{
		Lang:      r.PostFormValue("lang"),
		Returning: r.PostFormValue("citizen") == "returning",
		Verified:  r.PostFormValue("level") != "unverified",
		Start:     r.PostFormValue("start"),
		Mocks:     r.PostFormValue("mocks"),
	}
	if !slices.Contains(s.opts.Messages.Locales(), st.Lang) {
		http.Error(w, fmt.Sprintf("unknown language %q", st.Lang), http.StatusBadRequest)
		return
	}
	if st.Start != "" && s.registry().Latest(st.Start) == nil {
		http.Error(w, fmt.Sprintf("unknown flow %q", st.Start), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	st.Picks = s.conv.settings.Picks
	s.mu.Unlock()
	c, err := newConversation(r.Context(), s, st)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.conv = c
	s.mu.Unlock()
	s.done(w, r)
}

func (s *Studio) picks(w http.ResponseWriter, r *http.Request) {
	picks := map[string]string{}
	for _, name := range s.opts.ServiceNames {
		p := r.PostFormValue("pick." + name)
		if p == "" || p == PickBackend {
			continue
		}
		if !slices.Contains(Picks, p) {
			http.Error(w, fmt.Sprintf("unknown answer %q for %s", p, name), http.StatusBadRequest)
			return
		}
		picks[name] = p
	}
	s.mu.Lock()
	c := s.conv
	s.mu.Unlock()
	c.mu.Lock()
	c.settings.Picks = picks
	c.caller.mu.Lock()
	c.caller.picks = picks
	c.caller.mu.Unlock()
	c.mu.Unlock()
	s.done(w, r)
}

// events streams a "change" to the page whenever anything it shows
// changed: a reload, or a hop made from another tab.
func (s *Studio) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprint(w, "retry: 1000\n\n")
	fl.Flush()
	for {
		s.mu.Lock()
		ch, v := s.changed, s.version
		s.mu.Unlock()
		fmt.Fprintf(w, "event: change\ndata: %d\n\n", v)
		fl.Flush()
		select {
		case <-ch:
		case <-r.Context().Done():
			return
		case <-s.closed:
			return
		}
	}
}

// fileLink is where an editor opens a file at a line and column: a
// vscode://file/ link, which Visual Studio Code and the editors built on
// it register with the desktop.
func fileLink(file string, line, col int) template.URL {
	abs, err := filepath.Abs(file)
	if err != nil {
		return ""
	}
	if _, err := os.Stat(abs); err != nil {
		return "" // an embedded flow: there is no file to open
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive: vscode://file/C:/...
	}
	u := url.URL{Scheme: "vscode", Host: "file", Path: fmt.Sprintf("%s:%d:%d", p, line, col)}
	return template.URL(u.String())
}
