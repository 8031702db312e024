package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/notify"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/suggest"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// The one mount path: the carriers of the registry (carriers.go) built
// from the environment and served, and what derives from the list.

// carriers builds the carriers of list from the environment and serves
// them, in two rounds: every sender first, so that the outbound queue runs
// before the callbacks that need it (Africa's Talking's replies, Twilio's
// delivery reports); then every callback, each through mount. Then the
// notifications API, when templates are configured.
func (a *app) carriers(e *echo.Echo, list []carrierEntry, store sessions.Store) error {
	if err := checkSenderNames(a.cfg, list); err != nil {
		return err
	}
	public, _ := a.getenv("VENTANILLA_PUBLIC_URL")
	builds := make([]*carrierBuild, len(list))
	senders := map[string]carrier.Sender{}
	for i := range list {
		c := &list[i]
		b := &carrierBuild{entry: c, getenv: a.getenv, cfg: a.carrierCfg[c.name], log: a.log,
			public: strings.TrimRight(public, "/"), store: store, on: senders}
		builds[i] = b
		if c.sender == nil {
			continue
		}
		out, err := c.sender(b)
		if err != nil {
			return err
		}
		for _, s := range out {
			if !slices.Contains(c.senders, s.Name()) {
				return fmt.Errorf("carrier %s: its entry does not name its sender %q", c.name, s.Name())
			}
			senders[s.Name()] = s
		}
	}
	for _, name := range slices.Sorted(maps.Keys(senders)) {
		a.log.Info("sender on", "carrier", name)
	}
	// The queue runs when there is something to send with.
	var queue outbound.Queue
	if len(senders) > 0 {
		p, err := a.startQueue(smsOrder(list), senders, store)
		if err != nil {
			return err
		}
		// The notifications API is mounted below, or not at all.
		defer p.mounted.Store(true)
		queue = p.queue
	}
	for _, b := range builds {
		if b.entry.handler == nil {
			continue
		}
		if b.cfg.Disabled {
			a.log.Info("carrier off: disabled in the carriers file", "carrier", b.entry.name)
			continue
		}
		b.queue = queue
		in, err := b.entry.handler(b)
		if err != nil {
			return err
		}
		if in.carrier == nil {
			continue
		}
		if err := a.mount(e, b.entry.name, in); err != nil {
			return err
		}
	}
	var on, off []string
	for _, c := range list {
		if a.on(c.name) || senders[c.name] != nil {
			on = append(on, c.name)
		} else {
			off = append(off, c.name)
		}
	}
	a.log.Info("carriers", "on", strings.Join(on, ","), "off", strings.Join(off, ","))
	tokens, _ := a.getenv("VENTANILLA_NOTIFY_TOKENS")
	if !a.templates.Load().any && (queue == nil || tokens == "") {
		return nil
	}
	// Without templates, the API still serves the reminders of bookings
	// (/v1/reminders) to institutions with a token.
	if a.cfg.NotifyTemplates == "" && a.templates.Load().any && (queue == nil || tokens == "") {
		// Packages bring templates; the operator has not turned the API on.
		a.log.Warn("packages have notification templates, but the notifications API is off: it needs an SMS carrier and VENTANILLA_NOTIFY_TOKENS")
		return nil
	}
	if queue == nil {
		return fmt.Errorf("--notify-templates: notifications need a sender; set the credentials of an SMS carrier (%s)", smsTitles(list))
	}
	return a.notifications(e, senders, store)
}

// mount is the one path every carrier takes, USSD, SMS and chat alike:
// its entry in the carriers file decides the callback authentication in
// front of it and its hop budget (whether it is on at all is decided
// before it is built); the gateway behind it counts its limits and
// metrics, and it logs through the gateway's logger. A carrier that polls
// gets the same budget. Each carrier served is logged with its checks, and
// remembered for production mode's.
func (a *app) mount(e *echo.Echo, name string, in inbound) error {
	if in.carrier.Name() != name {
		// The carriers file, the log and the metrics would disagree.
		return fmt.Errorf("carrier %s: its adapter is named %q", name, in.carrier.Name())
	}
	cc := a.carrierCfg[name]
	if in.poll {
		p, ok := in.carrier.(poller)
		if !ok {
			return fmt.Errorf("carrier %s polls but cannot", name)
		}
		a.poller, a.pollHop, a.polled = p, a.hopper(cc), name
		a.log.Info("carrier on", "carrier", name, "by", "long polling")
		return nil
	}
	auth, err := cc.auth(a.getenv)
	if err != nil {
		return fmt.Errorf("carrier %s: %w", name, err)
	}
	gateway.Mount(e, in.carrier, auth, a.hopper(cc))
	checks := authChecks(auth)
	if in.own.name != "" {
		checks = append(checks, in.own.name)
	}
	a.mounted = append(a.mounted, mounted{name: name, checks: checks, auth: auth, own: in.own})
	attrs := []any{"carrier", name, "callback_auth", strings.Join(checks, ",")}
	if len(checks) == 0 {
		attrs[3] = "none"
	}
	if cc.Budget > 0 {
		attrs = append(attrs, "budget", cc.Budget)
	}
	a.log.Info("carrier on", attrs...)
	return nil
}

// on reports whether the carrier's hops are served: its callbacks
// mounted, or polled.
func (a *app) on(name string) bool {
	return a.polled == name || slices.ContainsFunc(a.mounted, func(m mounted) bool { return m.name == name })
}

// warnUnused warns of carriers-file entries for carriers that are not on
// (their credentials are not set): the settings would otherwise be
// ignored in silence.
func (a *app) warnUnused() {
	for _, name := range slices.Sorted(maps.Keys(a.carrierCfg)) {
		if !a.on(name) && !a.carrierCfg[name].Disabled {
			a.log.Warn("carriers file: this carrier is not on, so its settings do nothing; set its credentials (docs/operations.md)", "carrier", name)
		}
	}
}

// carrierNames lists every carrier of list, which the carriers file may
// name, and those of them whose screens have a length limit (limit:).
func carrierNames(list []carrierEntry) (known, limited []string) {
	for _, c := range list {
		known = append(known, c.name)
		if c.limited() {
			limited = append(limited, c.name)
		}
	}
	return known, limited
}

// checkSenderNames refuses a sender that --outbound-rates or
// --notify-carriers names and no carrier of list has, with the one
// probably meant: its rate would be ignored, or every notification routed
// to it would fail.
func checkSenderNames(c *config, list []carrierEntry) error {
	var known []string
	for _, e := range list {
		known = append(known, e.senders...)
	}
	unknown := func(what, name string) error {
		msg := fmt.Sprintf("%s: unknown sender %q", what, name)
		if s := suggest.Closest(name, known); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return fmt.Errorf("%s; known: %s", msg, strings.Join(known, ", "))
	}
	var errs []error
	rates, err := pairs("--outbound-rates", c.OutboundRates)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(rates)) {
		if !slices.Contains(known, name) {
			errs = append(errs, unknown("--outbound-rates", name))
		}
	}
	routes, err := pairs("--notify-carriers", c.NotifyCarriers)
	if err != nil {
		return err
	}
	for _, ch := range slices.Sorted(maps.Keys(routes)) {
		if name := routes[ch]; !slices.Contains(known, name) {
			errs = append(errs, unknown("--notify-carriers: "+ch+"="+name, name))
		}
	}
	return errors.Join(errs...)
}

// checkCarrierEnv refuses an environment variable one or two letters away
// from a variable a carrier of list reads, under the same prefix
// (TWILIO_AUTH_TOKNE), with the one probably meant: the carrier would
// otherwise stay off, or start without what was meant for it. Variables
// the carriers file names (named are its *_env values) are the operator's
// own and pass.
func checkCarrierEnv(environ []string, list []carrierEntry, named []string) error {
	var declared, prefixes []string
	for _, c := range list {
		for _, v := range c.env {
			declared = append(declared, v.name)
			if p, _, ok := strings.Cut(v.name, "_"); ok && !slices.Contains(prefixes, p+"_") {
				prefixes = append(prefixes, p+"_")
			}
		}
	}
	var errs []error
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if slices.Contains(declared, name) || slices.Contains(named, name) ||
			!slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
			continue
		}
		if s := suggest.Closest(name, declared); s != "" {
			errs = append(errs, fmt.Errorf("%s: not a variable of ventanilla (did you mean %s?)", name, s))
		}
	}
	return errors.Join(errs...)
}

// smsOrder names the SMS carriers of list, in their order there: the
// order of preference for the gateway's own messages, and of failover.
func smsOrder(list []carrierEntry) []string {
	var out []string
	for _, c := range list {
		if c.kind == kindSMS && slices.Contains(c.senders, c.name) {
			out = append(out, c.name)
		}
	}
	return out
}

// smsTitles names the SMS carriers that send, for people: "Kannel, Twilio
// or Africa's Talking".
func smsTitles(list []carrierEntry) string {
	var titles []string
	for _, c := range list {
		if c.kind == kindSMS && slices.Contains(c.senders, c.name) && !slices.Contains(titles, c.title) {
			titles = append(titles, c.title)
		}
	}
	if len(titles) < 2 {
		return strings.Join(titles, "")
	}
	return strings.Join(titles[:len(titles)-1], ", ") + " or " + titles[len(titles)-1]
}

// lateResults is where results of async calls go with this environment:
// by SMS when an SMS carrier's sender would start with it (the very
// builder the gateway starts it with, its lines discarded), else to the
// citizen's next contact.
func lateResults(getenv func(string) (string, bool)) string {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for i, c := range registry {
		if c.kind != kindSMS || c.sender == nil {
			continue
		}
		out, err := c.sender(&carrierBuild{entry: &registry[i], getenv: getenv, log: quiet})
		if err == nil && slices.ContainsFunc(out, func(s carrier.Sender) bool { return s.Name() == c.name }) {
			return flows.LateBySMS
		}
	}
	return flows.LateAtNextContact
}

// defaultRoutes are the notifications' channels when --notify-carriers
// does not say: SMS by the preferred SMS carrier, and each chat channel
// notifications know by the sender of its name (Twilio's "whatsapp").
func defaultRoutes(sms string, senders map[string]carrier.Sender) map[string]string {
	routes := map[string]string{"sms": sms}
	for _, ch := range notify.Channels {
		if _, ok := senders[ch]; ok && ch != "sms" {
			routes[ch] = ch
		}
	}
	return routes
}
