package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/bearer"
	"github.com/ventanilla-gob/ventanilla/internal/suggest"

	"github.com/ventanilla-gob/ventanilla/interop/flowcall"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/notify"
	"github.com/ventanilla-gob/ventanilla/channels/sms"
	"github.com/ventanilla-gob/ventanilla/channels/ussd"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/audit"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/gctune"
	"github.com/ventanilla-gob/ventanilla/internal/indicators"
	"github.com/ventanilla-gob/ventanilla/internal/institution"
	"github.com/ventanilla-gob/ventanilla/internal/metrics"
	"github.com/ventanilla-gob/ventanilla/internal/sample"
	"github.com/ventanilla-gob/ventanilla/interop"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// app is a configured gateway, ready to serve.
type app struct {
	echo     *echo.Echo
	gateway  *gateway.Gateway
	store    sessions.Store
	audit    *audit.Async // nil without --audit-dir
	poller   poller       // a carrier by long polling (Telegram without a webhook); nil when none
	outbound *outboundPath
	mounted  []mounted // the carriers whose callbacks are served
	metrics  *metrics.Metrics
	log      *slog.Logger
	// counter counts indicators; closeIndicators stores what it holds.
	counter         *indicators.Counter
	closeIndicators func()
	// flowOwners and serviceOwners map the loaded packages' flows and
	// back-end services to their institution's id, which the indicators
	// count them under.
	flowOwners    atomic.Pointer[map[string]string]
	serviceOwners atomic.Pointer[map[string]string]
	// breaker guards Redis; nil with the memory store.
	breaker *sessions.Breaker

	cfg        *config
	getenv     func(string) (string, bool)
	msgs       *i18n.Catalog
	carrierCfg map[string]carrierConfig // the carriers file
	pollHop    carrier.Hopper           // what the poller hops through
	polled     string                   // the carrier the poller is

	// What a reload replaces, atomically, while hops keep running.
	flows     atomic.Pointer[flows.Registry]
	set       atomic.Pointer[institution.Set]
	catalogue atomic.Pointer[catalogueDoc]
	entrances atomic.Pointer[entrances]
	// templates are the notification templates: the operator's file and
	// the packages'; notifier, once mounted, is given them at each swap.
	templates atomic.Pointer[notifyTemplates]
	notifier  *notify.Handler
	// compiled are the running packages' flows by source, for a
	// per-package reload; read and written under reloadMu.
	compiled map[sourceKey]*flows.Compiled
	caller   swapCaller
	reloadMu sync.Mutex
}

// loaded is what configuration files produce: the flows and the services
// they call. A reload builds a new one and swaps it in only when valid.
type loaded struct {
	flows    *flows.Registry
	caller   *interop.Client
	routes   map[string]string
	keywords map[string]gateway.Keyword
	set      *institution.Set // nil with --flows
	// templates are the notification templates, swapped with the flows.
	templates *notifyTemplates
	compiled  map[sourceKey]*flows.Compiled // see bundle
}

// notifyTemplates are the templates the notifications API sends: the
// operator's file, open to every institution, and each package's, only
// to its institution.
type notifyTemplates struct {
	all    *notify.Templates
	owners map[string]string // template id → institution
	any    bool              // some file or package declares templates
}

// notifyTemplates reads the operator's templates file again and merges it
// with the packages' templates (by institution).
func (a *app) notifyTemplates(pkgs map[string]*notify.Templates) (*notifyTemplates, error) {
	var sets []*notify.Templates
	if a.cfg.NotifyTemplates != "" {
		file, err := notify.LoadTemplates(a.cfg.NotifyTemplates)
		if err != nil {
			return nil, err
		}
		sets = append(sets, file)
	}
	owners := map[string]string{}
	for _, inst := range sortedKeys(pkgs) {
		t := pkgs[inst]
		for _, id := range t.IDs() {
			owners[id] = inst
		}
		sets = append(sets, t)
	}
	all, err := notify.Merge(sets...)
	if err != nil {
		return nil, fmt.Errorf("notification templates: %w", err)
	}
	return &notifyTemplates{all: all, owners: owners, any: len(sets) > 0}, nil
}

// load reads and checks the flows, the services and the routes. With
// only set, the package of that institution is read again and the others
// stay as they run.
func (a *app) load(only string) (*loaded, flows.Problems, error) {
	c := a.cfg
	var prev []*institution.Package
	if cur := a.set.Load(); cur != nil {
		prev = cur.Packages
	}
	b, problems, err := c.loadBundle(nil, a.msgs, a.getenv, false, only, prev, a.compiled)
	if err != nil {
		return nil, problems, fmt.Errorf("loading flows: %w", err)
	}
	reg := b.reg
	if problems.HasErrors() {
		return nil, problems, fmt.Errorf("loading flows:\n%w", problems)
	}
	if reg.Latest(c.Root) == nil {
		return nil, problems, fmt.Errorf("root flow %q is not loaded (flows: %s)", c.Root, strings.Join(reg.IDs(), ", "))
	}
	for code, id := range b.routes {
		if reg.Latest(id) == nil {
			return nil, problems, fmt.Errorf("--routes: %s opens unknown flow %q", code, id)
		}
	}
	for word, kw := range b.keywords {
		if !kw.Stop && reg.Latest(kw.Flow) == nil {
			return nil, problems, fmt.Errorf("--keywords: %s opens unknown flow %q", word, kw.Flow)
		}
	}
	client := interop.NewClient(b.services, nil,
		interop.WithLogger(a.log),
		interop.WithCircuitObserver(func(service string, _, to interop.CircuitState) {
			a.metrics.Breaker(service, breakerLevel(to))
		}))
	templates, err := a.notifyTemplates(b.templates)
	if err != nil {
		return nil, problems, err
	}
	return &loaded{flows: reg, caller: client, routes: b.routes, keywords: b.keywords, set: b.set, templates: templates, compiled: b.compiled}, problems, nil
}

// breakerLevel is the gauge value of a circuit state: 0 closed, 1 half-open, 2 open.
func breakerLevel(s interop.CircuitState) int {
	switch s {
	case interop.CircuitOpen:
		return 2
	case interop.CircuitHalfOpen:
		return 1
	}
	return 0
}

// reload validates the configuration files again and swaps them in, all
// of them or none: on any error in any package the running set stays.
// Conversations in flight finish on the flow versions they started on,
// which the new registry carries over. With only set, one institution's
// package is read again and the others are kept as they run.
func (a *app) reload(only string) (flows.Problems, error) {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	l, problems, err := a.load(only)
	if err != nil {
		a.log.Error("reload refused; the running flows stay", "package", only, "err", err)
		return problems, err
	}
	a.swap(l, true)
	a.log.Info("flows reloaded", "package", only, "flows", strings.Join(l.flows.IDs(), ","), "warnings", len(problems))
	return problems, nil
}

// swap puts a loaded set in service; carry keeps the running flow versions
// for the conversations in flight on them.
func (a *app) swap(l *loaded, carry bool) {
	reg := l.flows
	if carry {
		reg = reg.Carry(a.flows.Load())
	}
	a.flows.Store(reg)
	a.set.Store(l.set)
	if l.set != nil {
		fl, sv := l.set.Owners()
		ids := make([]string, 0, len(l.set.Packages))
		for _, p := range l.set.Packages {
			ids = append(ids, p.ID())
		}
		a.metrics.SetOwners(metrics.Owners{Flows: fl, Services: sv, Institutions: ids})
		a.flowOwners.Store(&fl)
		a.serviceOwners.Store(&sv)
	} else {
		a.flowOwners.Store(nil)
		a.serviceOwners.Store(nil)
	}
	a.caller.Store(l.caller)
	a.catalogue.Store(newCatalogueDoc(l.set, false))
	a.entrances.Store(&entrances{routes: l.routes, keywords: l.keywords})
	a.templates.Store(l.templates)
	a.compiled = l.compiled
	if a.notifier != nil {
		// Never fails: load checked the templates.
		_ = a.notifier.SetTemplates(l.templates.all, l.templates.owners)
	}
}

// entrances are the service codes and words that open flows; a reload
// replaces them with the flows.
type entrances struct {
	routes   map[string]string
	keywords map[string]gateway.Keyword
}

func (a *app) currentEntrances() (map[string]string, map[string]gateway.Keyword) {
	e := a.entrances.Load()
	return e.routes, e.keywords
}

// hidden reports whether a keyword's or code's flow is a draft's that
// this citizen does not test (see institution.Set.Hidden).
func (a *app) hidden(flow string, in carrier.Inbound) bool {
	set := a.set.Load()
	if set == nil {
		return false
	}
	chat := ""
	if in.Channel == "chat" {
		chat = in.SessionID
	}
	return set.Hidden(flow, in.Phone, in.Channel, in.Carrier, chat)
}

// swapCaller lets a reload replace the back-end client under running hops.
type swapCaller struct {
	p atomic.Pointer[interop.Client]
}

func (s *swapCaller) Store(c *interop.Client) { s.p.Store(c) }

func (s *swapCaller) Call(ctx context.Context, service string, params map[string]any) interop.Response {
	return s.p.Load().Call(ctx, service, params)
}

// newApp builds the gateway from configuration, with the carriers of list
// (registry, or fewer in tests). getenv resolves ${VAR} in the services
// file and the secrets the carriers file names, and holds the carriers'
// credentials.
func newApp(c *config, log *slog.Logger, getenv func(string) (string, bool), list []carrierEntry) (*app, error) {
	msgs, err := c.catalog()
	if err != nil {
		return nil, fmt.Errorf("loading system messages: %w", err)
	}
	a := &app{cfg: c, getenv: getenv, msgs: msgs, log: log, metrics: metrics.New()}
	l, problems, err := a.load("")
	if err != nil {
		return nil, err
	}
	for _, p := range problems {
		log.Warn("flow lint", "problem", p.String())
	}
	a.swap(l, false)
	routes := l.routes
	carrierCfg, err := loadCarriers(c.Carriers, getenv, list)
	if err != nil {
		return nil, err
	}
	nav, err := c.nav()
	if err != nil {
		return nil, err
	}
	store, err := c.store(getenv, log)
	if err != nil {
		return nil, err
	}
	raw := store
	if r, ok := raw.(sessions.RedisBacked); ok {
		a.breaker = a.storeBreaker(r)
		store = a.breaker.Wrap(r)
	}
	a.store = store
	if c.pseudo == nil {
		if c.pseudo, err = pseudonymizer(getenv, log); err != nil {
			return nil, err
		}
	}
	var rec *recorder
	if c.AuditDir != "" {
		sink, err := audit.NewFileSink(c.AuditDir, audit.FileOptions{Retention: c.AuditRetention, Log: log})
		if err != nil {
			return nil, fmt.Errorf("audit trail: %w", err)
		}
		trail := audit.NewAsync(sink, 0)
		a.audit = trail
		rec = &recorder{sink: trail, p: c.pseudo, now: time.Now, log: log, institution: func(flow string) string { return a.institutionOf(flow, "") }}
		a.metrics.Gauge("audit_dropped_total", "Audit records dropped because the writer fell behind.", func() float64 { return float64(trail.Dropped()) })
	}
	if m, ok := raw.(*sessions.Memory); ok {
		a.metrics.Gauge("sessions_stored", "Conversations and profiles held by the memory store (expired ones until swept).", func() float64 { return float64(m.Len()) })
		a.metrics.NewSessions(func() []metrics.Admitted {
			adm := m.Admission()
			out := make([]metrics.Admitted, len(adm))
			for i, o := range adm {
				out[i] = metrics.Admitted(o)
			}
			return out
		}, m.MaxNew())
	}
	engine := &flows.Engine{
		Flows:        a.flows.Load,
		Messages:     msgs,
		Caller:       flowcall.Caller(&a.caller),
		Nav:          nav,
		Root:         c.Root,
		MaxHistory:   20,
		MaxAutoSteps: 64,
		Observer:     a.metrics,
		Log:          log,
		// Without an SMS carrier, results of slow async calls wait for the
		// citizen's next contact.
		Notifier: gateway.Pending{Store: store},
	}
	if rec != nil {
		engine.Recorder = rec
	}
	a.gateway = &gateway.Gateway{
		Engine: engine, Store: store, Log: log, Routes: routes,
		SessionTTL: c.SessionTTL, ResumeWindow: c.Resume, Budget: c.Budget,
		Observer: a.metrics,
		TextTTL:  c.TextTTL, Keywords: l.keywords, Entrances: a.currentEntrances, Hidden: a.hidden,
		SMS: sms.Options{MaxSegments: c.SMSSegments, Transliterate: c.SMSTranslit},
	}
	if rec != nil {
		a.gateway.Recorder = rec
	}
	if c.now != nil {
		engine.Now, a.gateway.Now = c.now, c.now
	}
	// Answers to reminders and notifications that ask one, on every
	// instance: the questions are kept beside the sessions.
	a.gateway.Questions = &gateway.Questions{Store: store, Now: c.now}
	a.gateway.Answers = append(a.gateway.Answers, reminderAnswers{a}, replyCallbacks{a})
	if r, ok := raw.(sessions.Swapper); ok && c.NearSessions > 0 {
		near := sessions.NewNear(r, sessions.NearOptions{Records: c.NearSessions})
		a.gateway.Conversations = near
		if a.breaker != nil {
			a.gateway.Conversations = a.breaker.Wrap(near)
		}
		a.metrics.Gauge("sessions_near", "Conversations this instance keeps a copy of, in front of Redis.", func() float64 { return float64(near.Len()) })
	}
	a.gateway.PhoneLimit, a.gateway.CarrierLimit = c.limiters(raw, a.breaker)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = plainErrors
	e.Use(a.recoverPanics)
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", a.ready)
	e.GET("/metrics", echo.WrapHandler(a.metrics.Handler()))
	e.GET("/v1/catalogue", a.serveCatalogue)
	e.HEAD("/v1/catalogue", a.serveCatalogue)
	e.GET("/v1/schema/flow.json", serveFlowSchema)
	if c.AdminToken != "" {
		admin := e.Group("/admin", a.adminAuth)
		admin.POST("/reload", a.adminReload)
		admin.POST("/packages/:id/reload", a.adminReloadPackage)
	}
	a.carrierCfg = carrierCfg
	if err := a.carriers(e, list, store); err != nil {
		return nil, err
	}
	if err := a.indicators(e, raw); err != nil {
		return nil, err
	}
	a.warnUnused()
	if c.Production {
		var refused []string
		for _, m := range c.missingSecrets(getenv) {
			refused = append(refused, "not set: "+m)
		}
		if refused = append(refused, a.productionProblems()...); len(refused) > 0 {
			a.outbound.close(context.Background())
			a.closeIndicators()
			return nil, fmt.Errorf("production mode refuses to start:\n  %s", strings.Join(refused, "\n  "))
		}
	}
	a.echo = e
	return a, nil
}

// ownCheck is a check a carrier adapter makes on its callbacks itself:
// name says which; secretVar and secret name and hold the secret it
// checks, when the gateway chose it (and production weighs it).
type ownCheck struct {
	name, secretVar, secret string
}

// mounted is a carrier whose callbacks are served, with the checks in
// front of them.
type mounted struct {
	name   string
	checks []string
	auth   gateway.Auth
	own    ownCheck
}

// storeBreaker guards Redis, for the sessions and the outbound queue on
// it: once it fails a few times in a row, hops answer "service
// unavailable" at once and /readyz says so, until a probe finds it back.
func (a *app) storeBreaker(r sessions.Store) *sessions.Breaker {
	a.metrics.StoreBreaker("sessions", 0)
	return sessions.NewBreaker(sessions.BreakerOptions{
		Name: "sessions", Probe: r.Ping, Log: a.log,
		OnStateChange: func(_, to string) { a.metrics.StoreBreaker("sessions", breakerLevel(interop.CircuitState(to))) },
	})
}

// authChecks names the checks of a carrier's callback authentication.
func authChecks(a gateway.Auth) []string {
	var out []string
	if len(a.AllowIPs) > 0 {
		out = append(out, "allow_ips")
	}
	if a.BasicUser != "" {
		out = append(out, "basic")
	}
	if a.PathToken != "" {
		out = append(out, "path_token")
	}
	return out
}

// hopper is what a carrier's hops go through: the gateway, with the
// carrier's budget when its configuration sets one.
func (a *app) hopper(cc carrierConfig) carrier.Hopper {
	if cc.Budget > 0 {
		return budgeted{a.gateway, cc.Budget}
	}
	return a.gateway
}

// budgeted gives a carrier's hops the budget its configuration sets.
type budgeted struct {
	h      carrier.Hopper
	budget time.Duration
}

func (b budgeted) Hop(ctx context.Context, in carrier.Inbound) (carrier.Reply, error) {
	if in.Budget == 0 {
		in.Budget = b.budget
	}
	return b.h.Hop(ctx, in)
}

// ready answers /readyz: flows are loaded and the session store answers.
func (a *app) ready(c echo.Context) error {
	if a.flows.Load() == nil {
		return c.String(http.StatusServiceUnavailable, "flows not loaded\n")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), time.Second)
	defer cancel()
	if err := a.store.Ping(ctx); err != nil {
		return c.String(http.StatusServiceUnavailable, "session store unreachable\n")
	}
	return c.String(http.StatusOK, "ok\n")
}

// adminAuth checks the admin bearer token, read the way every endpoint
// reads one (bearer.Token), in constant time: the digests compared
// have one length whatever the token's.
func (a *app) adminAuth(next echo.HandlerFunc) echo.HandlerFunc {
	want := sha256.Sum256([]byte(a.cfg.AdminToken))
	return func(c echo.Context) error {
		tok, ok := bearer.Token(c.Request().Header.Get(echo.HeaderAuthorization))
		got := sha256.Sum256([]byte(tok))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="ventanilla"`)
			return c.String(http.StatusUnauthorized, "unauthorized\n")
		}
		return next(c)
	}
}

// adminReload reloads flows and services: 200 with the warnings, or 422
// with the problems while the running set stays.
func (a *app) adminReload(c echo.Context) error {
	return a.answerReload(c, "")
}

// adminReloadPackage reloads one institution's package, keeping the
// others as they run: 200, 422 with the problems, or 404 for a package
// that is not loaded.
func (a *app) adminReloadPackage(c echo.Context) error {
	id := c.Param("id")
	if a.set.Load() == nil {
		return c.String(http.StatusConflict, "flows come from --flows, not packages: reload them all with POST /admin/reload\n")
	}
	if set := a.set.Load(); set.Package(id) == nil {
		ids := make([]string, 0, len(set.Packages))
		for _, p := range set.Packages {
			ids = append(ids, p.ID())
		}
		msg := fmt.Sprintf("no package %q is loaded", id)
		if s := suggest.Closest(id, ids); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return c.String(http.StatusNotFound, msg+"; a package added since the start is loaded with every other one by POST /admin/reload\n")
	}
	return a.answerReload(c, id)
}

func (a *app) answerReload(c echo.Context, only string) error {
	problems, err := a.reload(only)
	var b strings.Builder
	for _, p := range problems {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	if err != nil {
		if len(problems) == 0 {
			b.WriteString(err.Error() + "\n")
		}
		return c.String(http.StatusUnprocessableEntity, "reload refused; the running flows stay\n"+b.String())
	}
	return c.String(http.StatusOK, "reloaded: "+strings.Join(a.flows.Load().IDs(), ", ")+"\n"+b.String())
}

// recoverPanics turns a panic in any handler into a 500 and one line
// through the gateway's logger — pseudonymised, in the chosen format,
// stack included — instead of net/http's own print on stderr. Carrier
// adapters answer their hops' panics with a final screen first
// (carriers/internal/wire); this catches the rest (Telegram, the
// notifications API, the admin endpoint).
func (a *app) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			path := c.Path()
			if rest, ok := strings.CutPrefix(path, "/c/"); ok { // a path token is a secret
				_, rest, _ = strings.Cut(rest, "/")
				path = "/c/[token]/" + rest
			}
			a.log.Error("request panicked", "path", path, "panic", p, "stack", string(debug.Stack()))
			err = echo.NewHTTPError(http.StatusInternalServerError, "internal error")
		}()
		return next(c)
	}
}

// plainErrors answers errors as short plain text, never an HTML page.
func plainErrors(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := http.StatusInternalServerError, "internal error"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
		msg = fmt.Sprint(he.Message)
	}
	_ = c.String(code, msg+"\n")
}

// limiters builds the hop limits: in this process, or in Redis, shared by
// every instance, with --shared-limits — behind Redis's breaker, so that
// they fail open at once while it is down.
func (c *config) limiters(store sessions.Store, breaker *sessions.Breaker) (phone, carrier gateway.Limiter) {
	window := c.LimitWindow
	if window <= 0 {
		window = time.Minute
	}
	build := func(max int, prefix string) gateway.Limiter {
		if max <= 0 {
			return nil
		}
		if r, ok := store.(sessions.RedisBacked); ok && c.SharedLimits {
			var l gateway.Limiter = &gateway.RedisLimiter{Client: r.Client(), Max: max, Window: window, Prefix: "ventanilla:rate:" + prefix}
			if prefix == "phone:" {
				l = namedLimiter{l, r.Name} // no number in a key
			}
			if breaker != nil {
				l = gateway.GuardedLimiter{Limiter: l, Breaker: breaker}
			}
			return l
		}
		return gateway.NewMemoryLimiter(max, window)
	}
	return build(c.LimitPhone, "phone:"), build(c.LimitCarrier, "carrier:")
}

// The settings of every Redis client of the gateway (sessions, hop
// limits, the queue): a hop waits on Redis inside the carrier's budget of
// a few seconds, so a Redis that is gone or hangs must cost a hop little
// and never more than its budget.
const (
	// redisTimeout bounds each dial, read, write and wait for a pooled
	// connection, well inside a hop's budget.
	redisTimeout = 500 * time.Millisecond
	// redisRetries is how many times a command is sent again after a
	// network error: once replaces a connection that a restarted or
	// failed-over Redis closed; more only lengthens an outage's hops.
	redisRetries = 1
	// redisMaxBackoff caps the pause before that retry.
	redisMaxBackoff = 100 * time.Millisecond
	// redisDials is how many times one new connection is tried: once.
	// Dialling a Redis that refused a moment ago again is for the
	// breaker's probe, not for a hop waiting on it.
	redisDials = 1
)

// hopRedis makes o a client for hops: commands end at their context's
// deadline (the hop's budget), whatever the timeouts; a new connection is
// tried once; a failed command is retried once. Timeouts and retries that
// rawURL sets itself are kept.
func hopRedis(o *redis.Options, rawURL string) {
	o.ContextTimeoutEnabled = true
	o.DialerRetries = redisDials
	q := url.Values{}
	if u, err := url.Parse(rawURL); err == nil {
		q = u.Query()
	}
	// Short timeouts unless the URL sets its own: a Redis that hangs
	// must not eat the hop's budget.
	if !strings.Contains(rawURL, "timeout") {
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = redisTimeout, redisTimeout, redisTimeout, redisTimeout
	}
	if !q.Has("max_retries") {
		o.MaxRetries = redisRetries
	}
	if !q.Has("max_retry_backoff") {
		o.MaxRetryBackoff = redisMaxBackoff
	}
}

// redisClient is a client for hops of the Redis at rawURL (--redis-url,
// --queue-redis-url).
func redisClient(rawURL string) (*redis.Client, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	hopRedis(opts, rawURL)
	return redis.NewClient(opts), nil
}

func (c *config) store(getenv func(string) (string, bool), log *slog.Logger) (sessions.Store, error) {
	switch {
	case c.RedisAddrs != "":
		// One address, several (Cluster) or Sentinels with --redis-master.
		client := redis.NewUniversalClient(&redis.UniversalOptions{
			Addrs:                 strings.Split(c.RedisAddrs, ","),
			MasterName:            c.RedisMaster,
			ContextTimeoutEnabled: true,
			DialTimeout:           redisTimeout,
			DialerRetries:         redisDials,
			ReadTimeout:           redisTimeout,
			WriteTimeout:          redisTimeout,
			PoolTimeout:           redisTimeout,
			MaxRetries:            redisRetries,
			MaxRetryBackoff:       redisMaxBackoff,
		})
		if c.RedisBatch {
			sessions.Batch(client)
		}
		return redisStore(client, getenv, log)
	case c.RedisURL != "":
		client, err := redisClient(c.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("--redis-url: %w", err)
		}
		if c.RedisBatch {
			sessions.Batch(client)
		}
		return redisStore(client, getenv, log)
	}
	return sessions.NewMemory(sessions.MemoryOptions{MaxRecords: c.MemorySessions, MaxNew: c.NewSessions}), nil
}

// cmdServe runs the gateway; with demo it also runs the sample institution
// back-end on loopback and points the catalogue's services at it.
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, demo bool) int {
	var c config
	name := "serve"
	if demo {
		name = "demo"
	}
	fs := flagSet(name, stderr, &c)
	if err := parseFlags(fs, args, &c); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // asked for, and printed
		}
		return 2
	}
	pseudo, err := pseudonymizer(os.LookupEnv, nil)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	c.pseudo = pseudo
	log := newLogger(c.LogFormat, stderr, pseudo)
	// Every component gets log from here; the default is the same logger,
	// so that a line written through slog's default (a library's) is
	// pseudonymised and in the chosen format too.
	slog.SetDefault(log)
	if key, _ := os.LookupEnv("VENTANILLA_PSEUDONYM_KEY"); key == "" {
		log.Warn("VENTANILLA_PSEUDONYM_KEY is not set: pseudonyms in logs and the audit trail hold for this run only")
	}
	if c.GCFloorMB > 0 {
		defer gctune.Start(uint64(c.GCFloorMB)<<20, 0, os.LookupEnv).Stop()
	}
	getenv := os.LookupEnv
	if demo {
		ln, err := net.Listen("tcp", c.SampleAddr)
		if err != nil {
			fmt.Fprintf(stderr, "demo: sample back-end: %v\n", err)
			return 1
		}
		opts := sample.Options{Latency: c.SampleLatency}
		if c.SampleData != "" {
			store, err := sample.OpenStore(c.SampleData)
			if err != nil {
				fmt.Fprintf(stderr, "demo: sample back-end: %v\n", err)
				return 1
			}
			defer store.Close()
			opts.Store = store
		}
		backend := &http.Server{Handler: sample.New(opts), ReadHeaderTimeout: 5 * time.Second}
		go backend.Serve(ln)
		defer backend.Close()
		url := "http://" + ln.Addr().String()
		log.Info("sample institution back-end (a stand-in for institutions' systems)", "url", url)
		getenv = func(name string) (string, bool) {
			if name == "VENTANILLA_SAMPLE_URL" {
				return url, true
			}
			if strings.HasPrefix(name, strings.ToUpper(samplePrefix)) && c.SamplePackages > 0 {
				// The generated packages' secrets: the sample back-end.
				switch {
				case strings.HasSuffix(name, "_API_URL"):
					return url, true
				case strings.HasSuffix(name, "_API_KEY"):
					return "sample-key", true
				}
			}
			return os.LookupEnv(name)
		}
		if c.SamplePackages > 0 {
			dir, err := os.MkdirTemp("", "ventanilla-sample-packages-")
			if err != nil {
				fmt.Fprintf(stderr, "demo: %v\n", err)
				return 1
			}
			defer os.RemoveAll(dir)
			if err := writeSamplePackages(dir, c.SamplePackages, 10); err != nil {
				fmt.Fprintf(stderr, "demo: --sample-packages: %v\n", err)
				return 1
			}
			c.Packages = append(c.Packages, dir)
			log.Info("sample institution packages", "packages", c.SamplePackages, "dir", dir)
		}
	}
	// A carriers file that does not load is newApp's to report.
	cfg, _ := loadCarriers(c.Carriers, getenv, registry)
	if err := checkCarrierEnv(os.Environ(), registry, envNames(cfg)); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	a, err := newApp(&c, log, getenv, registry)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	if demo {
		st, err := mountSimulator(a, &c, getenv, log)
		if err != nil {
			fmt.Fprintf(stderr, "%s: simulator: %v\n", name, err)
			return 1
		}
		go func() {
			<-ctx.Done()
			st.Close() // its pages' event streams would hold the shutdown
		}()
	}
	defer a.store.Close()
	if a.breaker != nil {
		defer a.breaker.Close()
	}
	srv := &http.Server{
		Addr:              c.Addr,
		Handler:           a.echo,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		MaxHeaderBytes:    16 << 10,
		// net/http's own lines (a TLS handshake, a handler's panic that
		// escaped) go through the privacy handler too.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	if c.DebugAddr != "" {
		stopDebug, err := serveDebug(c.DebugAddr)
		if err != nil {
			fmt.Fprintf(stderr, "%s: --debug-addr: %v\n", name, err)
			return 1
		}
		defer stopDebug()
		log.Info("profiler listening", "addr", c.DebugAddr)
	}
	log.Info("ventanilla listening", "addr", ln.Addr().String(), "flows", strings.Join(a.flows.Load().IDs(), ","))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if a.poller != nil {
		go func() {
			if err := a.poller.Poll(ctx, a.pollHop); err != nil {
				log.Error("telegram polling stopped", "err", err)
			}
		}()
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
wait:
	for {
		select {
		case err := <-errc:
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return 1
		case <-hup:
			a.reload("")
		case <-ctx.Done():
			break wait
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	// After the last hop: the outbound queue drains (in memory) or hands
	// its work back to Redis, then the audit trail writes what it holds.
	drain, cancelDrain := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancelDrain()
	if err := a.outbound.close(drain); err != nil {
		log.Error("outbound queue", "err", err)
	}
	if a.closeIndicators != nil {
		a.closeIndicators()
	}
	if a.audit != nil {
		if err := a.audit.Close(); err != nil {
			log.Error("audit trail", "err", err)
		}
	}
	log.Info("stopped")
	return 0
}

// measureUSSD is the length of a screen laid out as one USSD page, the
// same layout the channel uses; the lint measures screens with it.
func measureUSSD(s *flows.Screen) int {
	pages := ussd.Paginate(s, 1<<20)
	return len([]rune(pages[0]))
}
