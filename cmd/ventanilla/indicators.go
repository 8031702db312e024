package main

import (
	"fmt"
	"time"

	// The offices' time zone must load on a host without a zone
	// database (a distroless container).
	_ "time/tzdata"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/indicators"
	"github.com/ventanilla-gob/ventanilla/internal/quiet"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// indicatorsRetention is how long a day's counts are kept in Redis: the
// plans compare years, so three of them.
const indicatorsRetention = 3 * 366 * 24 * time.Hour

// indicatorStore is where the counts live: in the queue's Redis when it
// has one (it is the one kept on disk, with appendonly yes), else in the
// sessions' Redis, else in memory. Counts are cumulative and worth years;
// a Redis without persistence loses them at its restart, which the
// operations guide warns about.
func (a *app) indicatorStore(raw sessions.Store) (indicators.Store, func(), error) {
	if a.cfg.QueueRedisURL != "" {
		client, err := redisClient(a.cfg.QueueRedisURL)
		if err != nil {
			return nil, nil, fmt.Errorf("--queue-redis-url: %w", err)
		}
		return indicators.NewRedis(client, indicatorsRetention), func() { _ = client.Close() }, nil
	}
	if r, ok := sessions.Unwrap(raw).(sessions.RedisBacked); ok {
		return indicators.NewRedis(r.Client(), indicatorsRetention), func() {}, nil
	}
	return indicators.NewMemory(), func() {}, nil
}

// indicators counts conversations, ratings and reminders, and publishes
// them: GET /v1/indicators (JSON, CSV) and the page /indicators.
func (a *app) indicators(e *echo.Echo, raw sessions.Store) error {
	zone, err := time.LoadLocation(a.cfg.Zone)
	if err != nil {
		return fmt.Errorf("--zone %q: %w", a.cfg.Zone, err)
	}
	// Checked here too, so that a misspelt value stops every start, not
	// only those with an SMS carrier that reminders go through.
	if _, err := quiet.Parse(a.cfg.QuietHours, zone); err != nil {
		return fmt.Errorf("--quiet-hours: %w", err)
	}
	store, closeStore, err := a.indicatorStore(raw)
	if err != nil {
		return err
	}
	opts := indicators.Options{Zone: zone, Registerer: a.metrics.Registry, Log: a.log}
	if _, own := store.(*indicators.Redis); own && a.breaker != nil && a.cfg.QueueRedisURL == "" {
		// On the sessions' Redis: while its breaker is open nothing may
		// wait on it, counts included.
		opts.Hold = a.breaker.Open
	}
	a.counter = indicators.NewCounter(store, opts)
	a.closeIndicators = func() {
		a.counter.Close()
		closeStore()
	}
	a.gateway.Engine.Observer = calls{Observer: a.gateway.Engine.Observer, a: a}
	a.gateway.Engine.Counter = counting{a}
	a.gateway.Engine.Ratings = gateway.Ratings{Store: a.store}
	a.gateway.Counter = counting{a}
	pub := &indicators.Publisher{
		Store: store, K: int64(a.cfg.IndicatorsK), Name: a.cfg.IndicatorsPublisher,
		Licence: a.cfg.IndicatorsLicence, LicenceURL: a.cfg.IndicatorsLicenceURL,
		Services: a.services, ServiceOwner: a.serviceOwner, Institutions: a.institutionNames, Locales: a.msgs.Locales(),
		Offered: a.offered,
	}
	e.GET("/v1/indicators", echo.WrapHandler(pub.Handler(zone, a.log)))
	e.GET("/indicators", echo.WrapHandler(pub.Page(zone, a.log)))
	return nil
}

// services are the flows on line but the root menu.
func (a *app) services() []indicators.Service {
	reg := a.flows.Load()
	var out []indicators.Service
	for _, id := range reg.IDs() {
		f := reg.Latest(id)
		if id == a.cfg.Root || f == nil {
			continue
		}
		out = append(out, indicators.Service{ID: id, Institution: a.institutionOf(id, f.Institution), Title: f.Title.ByLocale})
	}
	return out
}

// offered counts the live catalogue entries of each loaded package, as
// GET /v1/catalogue lists them: the services on line. Nil with --flows
// (no catalogue), where the flows are counted instead.
func (a *app) offered() map[string]int {
	set := a.set.Load()
	if set == nil {
		return nil
	}
	out := map[string]int{}
	for _, e := range set.Entries {
		if !e.Draft() {
			out[e.Institution.ID]++
		}
	}
	return out
}

// institutionNames are the loaded packages' names per locale, which the
// reports show beside their ids.
func (a *app) institutionNames() map[string]indicators.Names {
	set := a.set.Load()
	if set == nil {
		return nil
	}
	out := make(map[string]indicators.Names, len(set.Packages))
	for _, p := range set.Packages {
		out[p.ID()] = indicators.Names(p.Manifest.Name)
	}
	return out
}

// institutionOf is the institution the indicators count a flow under: the
// id of the loaded package that owns it, as the metrics label it; a flow
// no package owns (--flows) under the institution its file declares.
// Both are configured, never taken from a request.
func (a *app) institutionOf(flow, declared string) string {
	if m := a.flowOwners.Load(); m != nil {
		if id := (*m)[flow]; id != "" {
			return id
		}
	}
	return declared
}

// serviceOwner is the institution the indicators count a back-end
// service's calls under: the loaded package that declares it (shared
// services included: their calls show the owner's back-end), as the
// metrics label it; "" for a service no package declares (--services).
func (a *app) serviceOwner(service string) string {
	if m := a.serviceOwners.Load(); m != nil {
		return (*m)[service]
	}
	return ""
}

// counting tells the indicators what the engine and the gateway hear.
// The root flow is a menu, not a service: a conversation counts in each
// service it enters, and not before.
type counting struct{ a *app }

var (
	_ flows.Counter   = counting{}
	_ flows.Rater     = counting{}
	_ gateway.Counter = counting{}
)

func (c counting) Entered(conv flows.Conversation, flow, institution string) {
	if flow == c.a.cfg.Root {
		return
	}
	c.a.counter.Started(indicators.Dims{Flow: flow, Institution: c.a.institutionOf(flow, institution), Channel: conv.Channel, Carrier: conv.Carrier, Locale: conv.Locale})
}

func (c counting) Ended(conv flows.Conversation, flow, institution, step string, completed bool) {
	if flow == c.a.cfg.Root {
		return
	}
	c.a.counter.Ended(indicators.Dims{Flow: flow, Institution: c.a.institutionOf(flow, institution), Channel: conv.Channel, Carrier: conv.Carrier, Locale: conv.Locale},
		indicators.End{Completed: completed, Step: step, Hops: conv.Hops, Duration: conv.Duration})
}

func (c counting) Rated(conv flows.Conversation, flow, institution string, score int) {
	c.a.counter.Rated(indicators.Dims{Flow: flow, Institution: c.a.institutionOf(flow, institution), Channel: conv.Channel, Carrier: conv.Carrier, Locale: conv.Locale}, score)
}

func (c counting) Abandoned(channel, carrier, locale, flow string, version int, step string) {
	if flow == c.a.cfg.Root {
		return
	}
	institution := ""
	if f := c.a.flows.Load().Version(flow, version); f != nil {
		institution = f.Institution
	}
	c.a.counter.Ended(indicators.Dims{Flow: flow, Institution: c.a.institutionOf(flow, institution), Channel: channel, Carrier: carrier, Locale: locale},
		indicators.End{Abandoned: true, Step: step})
}

// calls lets the counter hear back-end calls beside the metrics.
type calls struct {
	flows.Observer
	a *app
}

func (c calls) Call(service, outcome string, d time.Duration) {
	if c.Observer != nil {
		c.Observer.Call(service, outcome, d)
	}
	c.a.counter.Call(c.a.serviceOwner(service), service, outcome)
}

func (c calls) StepReached(flow, step string) {
	if c.Observer != nil {
		c.Observer.StepReached(flow, step)
	}
}

func (c calls) StepCompleted(flow, step string) {
	if c.Observer != nil {
		c.Observer.StepCompleted(flow, step)
	}
}
