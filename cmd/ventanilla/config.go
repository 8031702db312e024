package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/indicators"
	"github.com/ventanilla-gob/ventanilla/internal/privacy"
	"github.com/ventanilla-gob/ventanilla/internal/suggest"
	"github.com/ventanilla-gob/ventanilla/interop"
)

// config is what serve, demo, lint, test and simulate share.
type config struct {
	Addr            string
	FlowsDir        string
	Services        string
	Packages        listFlag
	NoCatalogue     bool
	Messages        string
	Root            string
	RedisURL        string
	RedisAddrs      string
	RedisMaster     string
	QueueRedisURL   string
	SessionTTL      time.Duration
	Routes          string
	SampleAddr      string
	LogFormat       string
	Nav             string
	Resume          time.Duration
	Budget          time.Duration
	Carriers        string
	AdminToken      string
	Production      bool
	Keywords        string
	TextTTL         time.Duration
	SMSSegments     int
	SMSTranslit     bool
	NotifyTemplates string
	NotifyCarriers  string
	OutboundRates   string
	SampleLatency   time.Duration
	SamplePackages  int
	SampleData      string
	LimitPhone      int
	LimitCarrier    int
	LimitWindow     time.Duration
	SharedLimits    bool
	MemorySessions  int
	NewSessions     int
	AuditDir        string
	AuditRetention  time.Duration
	DebugAddr       string
	NearSessions    int
	RedisBatch      bool
	GCFloorMB       int
	Zone            string
	QuietHours      string

	IndicatorsK          int
	IndicatorsLicence    string
	IndicatorsLicenceURL string
	IndicatorsPublisher  string

	pseudo *privacy.Pseudonymizer // shared by the logger and the audit trail
	// now is the clock of conversations and reminders (default
	// time.Now): tests move it.
	now func() time.Time
}

// flagSet declares the shared flags. Each can also be set by its
// VENTANILLA_* environment variable (see parseFlags), so containers can be
// configured either way.
func flagSet(name string, stderr io.Writer, c *config) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&c.FlowsDir, "flows", "", "directory of flow files (default: the embedded catalogue)")
	fs.StringVar(&c.Services, "services", "", "services configuration file (default: the catalogue's)")
	fs.Var(&c.Packages, "packages", "institution packages: a package folder, or a folder of them; repeatable or comma-separated")
	fs.BoolVar(&c.NoCatalogue, "no-catalogue", false, "leave out the shipped catalogue package: serve --packages alone")
	fs.StringVar(&c.Messages, "messages", "", "extra system message files, comma-separated")
	fs.StringVar(&c.Root, "root", "inicio", "flow that starts when a service code has no route")
	fs.StringVar(&c.RedisURL, "redis-url", "", "Redis URL for sessions (redis://host:6379/0); empty keeps sessions in memory")
	fs.StringVar(&c.RedisAddrs, "redis-addrs", "", "Redis Cluster or Sentinel addresses, comma-separated")
	fs.StringVar(&c.RedisMaster, "redis-master", "", "Sentinel master name (with --redis-addrs)")
	fs.StringVar(&c.QueueRedisURL, "queue-redis-url", "", "Redis URL for the outbound queue and notification records, with appendonly yes (default: the sessions' Redis)")
	fs.IntVar(&c.NearSessions, "near-sessions", 50_000, "with Redis: conversations this instance keeps a copy of, so their hops make one Redis round trip (0: none)")
	fs.BoolVar(&c.RedisBatch, "redis-batch", true, "send the Redis commands of concurrent hops together, one pipeline at a time")
	fs.DurationVar(&c.SessionTTL, "session-ttl", 3*time.Minute, "idle USSD session lifetime")
	fs.StringVar(&c.Routes, "routes", "", "service codes to flows: '*384#=inicio,*384*2#=estado-tramite'")
	fs.StringVar(&c.SampleAddr, "sample-addr", "127.0.0.1:0", "demo: listen address of the sample back-end")
	fs.DurationVar(&c.SampleLatency, "sample-latency", 0, "demo: delay every answer of the sample back-end (to show slow institutions)")
	fs.IntVar(&c.SamplePackages, "sample-packages", 0, "demo: also serve this many generated institution packages of 10 flows each (to measure many institutions)")
	fs.StringVar(&c.SampleData, "sample-data", "", "demo: file where the sample back-end keeps its bookings (bbolt); empty keeps them in memory")
	fs.StringVar(&c.NotifyTemplates, "notify-templates", "", "templates of institutions' notifications; empty: no notifications API")
	fs.StringVar(&c.NotifyCarriers, "notify-carriers", "", "channels of notifications to carriers: sms=twilio,whatsapp=whatsapp (default: the configured senders)")
	fs.StringVar(&c.OutboundRates, "outbound-rates", "", "SMS segments per second per carrier: twilio=1,africastalking-sms=10")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.DurationVar(&c.Resume, "resume-window", 5*time.Minute, "how long after a dropped USSD session a citizen is offered to continue")
	fs.DurationVar(&c.Budget, "hop-budget", 4*time.Second, "how long a hop may take before the citizen is asked to try again")
	fs.StringVar(&c.Keywords, "keywords", defaultKeywords, "SMS and chat keywords: WORD=flow or WORD=stop, comma-separated")
	fs.DurationVar(&c.TextTTL, "text-ttl", 30*time.Minute, "idle SMS and chat conversation lifetime")
	fs.IntVar(&c.SMSSegments, "sms-segments", 3, "most concatenated segments one SMS reply may take")
	fs.BoolVar(&c.SMSTranslit, "sms-transliterate", true, "write á í ó ú as a i o u in SMS when that keeps a reply in GSM-7")
	fs.IntVar(&c.LimitPhone, "limit-phone", 30, "most hops per phone number per --limit-window (0: no limit)")
	fs.IntVar(&c.LimitCarrier, "limit-carrier", 0, "most hops per carrier per --limit-window (0: no limit)")
	fs.DurationVar(&c.LimitWindow, "limit-window", time.Minute, "window of the hop limits")
	fs.IntVar(&c.MemorySessions, "memory-sessions", 1_000_000, "memory store: most records held (conversations, languages remembered)")
	fs.IntVar(&c.NewSessions, "new-sessions-per-carrier", 100_000, "memory store: most records per carrier written by first hops not answered yet (conversations at their first screen); beyond it the oldest is dropped")
	fs.BoolVar(&c.SharedLimits, "shared-limits", false, "count hop limits in Redis, shared by every instance (one more Redis round trip per hop)")
	fs.StringVar(&c.AuditDir, "audit-dir", "", "directory of the access audit trail (JSON lines, one file a day); empty: no trail")
	fs.IntVar(&c.GCFloorMB, "gc-floor-mb", 64, "let the heap grow to this many MiB before Go collects, while little of it is live (0: Go's default; ignored when GOGC is set)")
	fs.StringVar(&c.DebugAddr, "debug-addr", "", "loopback address for Go's profiler (net/http/pprof), e.g. 127.0.0.1:6060; empty: off")
	fs.DurationVar(&c.AuditRetention, "audit-retention", 90*24*time.Hour, "how long audit files are kept")
	fs.StringVar(&c.Carriers, "carriers", "", "carriers file: per-carrier screen limit, budget and callback authentication")
	fs.BoolVar(&c.Production, "production", false, "refuse to start without the secrets and callback authentication production needs")
	fs.StringVar(&c.Nav, "nav", "0,00,98", "navigation keys: back,home,more")
	fs.StringVar(&c.Zone, "zone", indicators.DefaultZone, "the offices' time zone: where indicators' days begin, and reminders' times")
	fs.StringVar(&c.QuietHours, "quiet-hours", defaultQuietHours, "when no reminder goes out, in the offices' time zone (HH:MM-HH:MM, or none); a remind step may set its own")
	fs.IntVar(&c.IndicatorsK, "indicators-k", indicators.DefaultK, "least count of a published indicator cell; smaller ones are withheld")
	fs.StringVar(&c.IndicatorsLicence, "indicators-licence", indicators.DefaultLicence, "licence of the published indicators (an SPDX id)")
	fs.StringVar(&c.IndicatorsLicenceURL, "indicators-licence-url", indicators.DefaultLicenceURL, "address of the indicators' licence text")
	fs.StringVar(&c.IndicatorsPublisher, "indicators-publisher", "", "who publishes the indicators, shown with them")
	if name == "serve" || name == "demo" {
		// The carriers' variables are no flags: --help lists them from
		// the registry.
		fs.Usage = func() {
			fmt.Fprintf(fs.Output(), "Usage of %s:\n", name)
			fs.PrintDefaults()
			fmt.Fprint(fs.Output(), carriersHelp(registry))
		}
	}
	return fs
}

// envPrefix prefixes every environment variable of the binary.
const envPrefix = "VENTANILLA_"

// envOnly are the binary's VENTANILLA_* variables that are not flags:
// secrets, which a flag would show in the process list, and what the
// catalogue's services file reads.
var envOnly = []string{"ADMIN_TOKEN", "PSEUDONYM_KEY", "PUBLIC_URL", "NOTIFY_TOKENS", "SAMPLE_URL"}

// benchEnv are the variables of bench's flags, which share the prefix.
var benchEnv = []string{"URL", "CARRIER", "SCENARIO", "CITIZENS", "CONCURRENCY", "DURATION", "SESSIONS", "RATE",
	"BASELINE_DURATION", "NO_BASELINE", "JSON", "TIMEOUT", "SERVICE_CODE", "ALLOW_REMOTE", "SEED"}

// testHarnessEnv are read by the test helpers (sessions/redistest,
// carriers/kannel/kanneltest), never by the binary; they are not typos.
var testHarnessEnv = []string{"REDIS_ADDR", "REDIS_DB", "REDIS_SERVER", "REQUIRE_REDIS", "REQUIRE_KANNEL", "REQUIRE_CHROMIUM"}

// envName is the environment variable of a flag: --hop-budget is
// VENTANILLA_HOP_BUDGET.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags reads the flags from the environment, then from args, and
// checks the values. A value that does not parse, a VENTANILLA_* variable
// one typo away from one the binary reads, and a value out of range stop
// the start with the name and what is wrong: nothing falls back to a
// default silently. Problems are printed on the flag set's output.
func parseFlags(fs *flag.FlagSet, args []string, c *config) error {
	err := applyEnv(fs, os.LookupEnv, os.Environ())
	if err == nil {
		err = parseInterspersed(fs, args)
		if err != nil {
			// The flag package printed it, with the usage; name the flag
			// probably meant.
			if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok {
				var known []string
				fs.VisitAll(func(f *flag.Flag) { known = append(known, f.Name) })
				if s := suggest.Closest(strings.TrimLeft(name, "-"), known); s != "" {
					fmt.Fprintf(fs.Output(), "%s: did you mean --%s?\n", fs.Name(), s)
				}
			}
			return err
		}
		err = c.check()
	}
	if err != nil {
		fmt.Fprintf(fs.Output(), "%s: %v\n", fs.Name(), err)
	}
	c.AdminToken, _ = os.LookupEnv(envPrefix + "ADMIN_TOKEN")
	return err
}

// parseInterspersed parses flags wherever they stand among the
// positional arguments (`flows graph multas --flows DIR`), as people type
// them; after "--" everything is an argument. fs.Args() ends up holding
// the positional arguments in order.
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		// flag stops at the first argument that is not a flag, or after
		// "--", which it swallows: tell the two apart by what it was given.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

// applyEnv sets each flag from its VENTANILLA_* variable, if set, with the
// flag's own parser, and refuses variables that look like a misspelt one.
func applyEnv(fs *flag.FlagSet, lookup func(string) (string, bool), environ []string) error {
	var errs []error
	known := slices.Concat(envOnly, benchEnv)
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		known = append(known, strings.TrimPrefix(name, envPrefix))
		v, ok := lookup(name)
		if !ok {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %s", name, v, valueError(f)))
		}
	})
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		short, ok := strings.CutPrefix(name, envPrefix)
		if !ok || slices.Contains(known, short) || slices.Contains(testHarnessEnv, short) {
			continue
		}
		if s := suggest.Closest(short, known); s != "" {
			errs = append(errs, fmt.Errorf("%s: not a variable of ventanilla (did you mean %s?)", name, envPrefix+s))
		}
	}
	return errors.Join(errs...)
}

// valueError says what a flag's value must look like.
func valueError(f *flag.Flag) string {
	switch f.Value.(type) {
	case interface{ IsBoolFlag() bool }:
		return "want true or false"
	}
	switch fmt.Sprintf("%T", f.Value) {
	case "*flag.durationValue":
		return "want a duration with its unit, such as 4s, 1500ms or 3m"
	case "*flag.intValue":
		return "want a whole number"
	}
	return "not a valid value"
}

// check refuses values that parse but mean nothing.
func (c *config) check() error {
	var errs []error
	if c.LogFormat != "text" && c.LogFormat != "json" {
		msg := fmt.Sprintf("--log-format %q: want text or json", c.LogFormat)
		if s := suggest.Closest(c.LogFormat, []string{"text", "json"}); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		errs = append(errs, errors.New(msg))
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"hop-budget", c.Budget}, {"session-ttl", c.SessionTTL}, {"text-ttl", c.TextTTL}, {"limit-window", c.LimitWindow}, {"audit-retention", c.AuditRetention}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("--%s %s: want a positive duration", d.flag, d.v))
		}
	}
	for _, n := range []struct {
		flag string
		v    int
	}{{"near-sessions", c.NearSessions}, {"limit-phone", c.LimitPhone}, {"limit-carrier", c.LimitCarrier}, {"gc-floor-mb", c.GCFloorMB}} {
		if n.v < 0 {
			errs = append(errs, fmt.Errorf("--%s %d: want 0 or more", n.flag, n.v))
		}
	}
	if c.SamplePackages < 0 || c.SamplePackages > maxSamplePackages {
		return fmt.Errorf("--sample-packages: want 0 to %d", maxSamplePackages)
	}
	if c.Resume < 0 || c.SampleLatency < 0 {
		errs = append(errs, errors.New("--resume-window and --sample-latency: want 0 or more"))
	}
	for _, n := range []struct {
		flag string
		v    int
	}{{"memory-sessions", c.MemorySessions}, {"new-sessions-per-carrier", c.NewSessions}} {
		if n.v < 1 {
			errs = append(errs, fmt.Errorf("--%s %d: want 1 or more", n.flag, n.v))
		}
	}
	if c.SMSSegments < 1 {
		errs = append(errs, fmt.Errorf("--sms-segments %d: want 1 or more", c.SMSSegments))
	}
	return errors.Join(errs...)
}

// defaultKeywords open the national menu and end a conversation by SMS and chat.
// The words of each trámite come from its package's manifest (entries:
// keywords:); these are the gateway's own.
const defaultKeywords = "MENU=inicio,INICIO=inicio,AYUDA=inicio,HELP=inicio,START=inicio,SALIR=stop,STOP=stop"

// keywords parses --keywords. A list that starts with "+" adds to the
// default keywords (redefining those it names) instead of replacing them.
func (c *config) keywords() (map[string]gateway.Keyword, error) {
	out := map[string]gateway.Keyword{}
	list := strings.TrimSpace(c.Keywords)
	if extra, ok := strings.CutPrefix(list, "+"); ok {
		list = defaultKeywords + "," + extra
	}
	for _, pair := range strings.Split(list, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		word, flow, ok := strings.Cut(pair, "=")
		if !ok || strings.TrimSpace(word) == "" || strings.TrimSpace(flow) == "" {
			return nil, fmt.Errorf("--keywords: %q is not WORD=flow", pair)
		}
		kw := gateway.Keyword{Flow: strings.TrimSpace(flow)}
		if kw.Flow == "stop" {
			kw = gateway.Keyword{Stop: true}
		}
		out[gateway.NormalizeKeyword(word)] = kw
	}
	return out, nil
}

func (c *config) routes() (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(c.Routes) == "" {
		return out, nil
	}
	for _, pair := range strings.Split(c.Routes, ",") {
		code, flow, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || code == "" || flow == "" {
			return nil, fmt.Errorf("--routes: %q is not code=flow", pair)
		}
		out[code] = flow
	}
	return out, nil
}

// missingSecrets lists the secrets production needs that are not set. They
// come only from the environment: a flag would show them in the process
// list.
func (c *config) missingSecrets(getenv func(string) (string, bool)) []string {
	var missing []string
	if c.AdminToken == "" {
		missing = append(missing, "VENTANILLA_ADMIN_TOKEN")
	}
	if v, ok := getenv("VENTANILLA_PSEUDONYM_KEY"); !ok || len(v) < 32 {
		missing = append(missing, "VENTANILLA_PSEUDONYM_KEY (at least 32 characters)")
	}
	if c.Carriers == "" {
		missing = append(missing, "VENTANILLA_CARRIERS (a carriers file with callback authentication)")
	}
	if c.AuditDir == "" {
		missing = append(missing, "VENTANILLA_AUDIT_DIR (where the access audit trail is kept)")
	}
	return missing
}

// nav parses --nav into the engine's navigation keys.
func (c *config) nav() (flows.NavKeys, error) {
	if c.Nav == "" {
		return flows.DefaultNav, nil
	}
	parts := strings.Split(c.Nav, ",")
	if len(parts) != 3 {
		return flows.NavKeys{}, fmt.Errorf("--nav: want back,home,more keys such as 0,00,98, got %q", c.Nav)
	}
	seen := map[string]bool{}
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" || len(p) > 4 || strings.Trim(p, "0123456789*#") != "" || seen[p] {
			return flows.NavKeys{}, fmt.Errorf("--nav: %q: keys are distinct, short and typed on a keypad (digits, * and #)", p)
		}
		seen[p] = true
	}
	return flows.NavKeys{Back: strings.TrimSpace(parts[0]), Home: strings.TrimSpace(parts[1]), More: strings.TrimSpace(parts[2])}, nil
}

func (c *config) catalog() (*i18n.Catalog, error) {
	var extra []string
	for _, p := range strings.Split(c.Messages, ",") {
		if p = strings.TrimSpace(p); p != "" {
			extra = append(extra, p)
		}
	}
	return i18n.Load(extra...)
}

// services loads the services registry. getenv resolves ${VAR}. The
// catalogue's own services point at the sample back-end; when nothing says
// where it is, they point at an address that fails at once, so a bare
// `serve` still starts and its calls end in the flows' error routes.
func (c *config) services(getenv func(string) (string, bool)) (*interop.Registry, error) {
	if c.Services == "" {
		return interop.ParseRegistry("catalogue/"+catalogue.ServicesFile, catalogue.Services(), func(name string) (string, bool) {
			if v, ok := getenv(name); ok {
				return v, true
			}
			return lintEnv(name)
		})
	}
	return interop.LoadRegistryWith(c.Services, getenv)
}

// sources returns the flow files to load: the paths given, else the
// configured directory, else the embedded catalogue.
func (c *config) sources(paths []string) ([]flows.Source, error) {
	if len(paths) == 0 && c.FlowsDir != "" {
		paths = []string{c.FlowsDir}
	}
	if len(paths) == 0 {
		return catalogue.Sources(), nil
	}
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if st.IsDir() {
			list, err := flows.ListDir(p)
			if err != nil {
				return nil, err
			}
			for _, f := range list {
				if filepath.Base(f) != catalogue.ServicesFile {
					files = append(files, f)
				}
			}
			continue
		}
		files = append(files, p)
	}
	if len(files) == 0 {
		return nil, errors.New("no flow files (*.yaml) found")
	}
	ctx, cancel := context.WithTimeout(context.Background(), flows.ReadTimeout)
	defer cancel()
	return flows.ReadFiles(ctx, files)
}

// loadFlows parses, lints and compiles the flows against the services and
// system messages. It returns the registry and every problem.
func (c *config) loadFlows(paths []string, msgs *i18n.Catalog, services *interop.Registry, getenv func(string) (string, bool)) (*flows.Registry, flows.Problems, error) {
	srcs, err := c.sources(paths)
	if err != nil {
		return nil, nil, err
	}
	env := flows.Env{Messages: msgs, Measure: measureUSSD, LateResults: lateResults(getenv)}
	if services != nil {
		env.Service = func(id string) bool { _, ok := services.Lookup(id); return ok }
		env.ServiceIDs = services.IDs
	}
	reg, problems := flows.Load(srcs, env)
	return reg, problems, nil
}

// lintEnv resolves ${VAR} for linting: an unset variable gets a placeholder,
// since the lint checks which services exist, not where they are.
func lintEnv(name string) (string, bool) {
	if v, ok := os.LookupEnv(name); ok {
		return v, true
	}
	return "http://" + strings.ToLower(strings.ReplaceAll(name, "_", "-")) + ".invalid", true
}
