package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"ventanilla/channels"
	"ventanilla/flows"
	"ventanilla/flows/catalogue"
	"ventanilla/i18n"
	"ventanilla/internal/privacy"
	"ventanilla/interop"
)

// config is what serve, demo, lint, test and simulate share.
type config struct {
	Addr            string
	FlowsDir        string
	Services        string
	Messages        string
	Root            string
	RedisURL        string
	RedisAddrs      string
	RedisMaster     string
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
	SampleData      string
	LimitPhone      int
	LimitCarrier    int
	LimitWindow     time.Duration
	SharedLimits    bool
	AuditDir        string
	AuditRetention  time.Duration
	DebugAddr       string
	NearSessions    int
	RedisBatch      bool
	GCFloorMB       int

	pseudo *privacy.Pseudonymizer // shared by the logger and the audit trail
}

// flagSet declares the shared flags; each defaults to its VENTANILLA_*
// environment variable, so containers can be configured either way.
func flagSet(name string, stderr io.Writer, c *config) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", env("ADDR", "127.0.0.1:8080"), "listen address")
	fs.StringVar(&c.FlowsDir, "flows", env("FLOWS", ""), "directory of flow files (default: the embedded catalogue)")
	fs.StringVar(&c.Services, "services", env("SERVICES", ""), "services configuration file (default: the catalogue's)")
	fs.StringVar(&c.Messages, "messages", env("MESSAGES", ""), "extra system message files, comma-separated")
	fs.StringVar(&c.Root, "root", env("ROOT", "inicio"), "flow that starts when a service code has no route")
	fs.StringVar(&c.RedisURL, "redis-url", env("REDIS_URL", ""), "Redis URL for sessions (redis://host:6379/0); empty keeps sessions in memory")
	fs.StringVar(&c.RedisAddrs, "redis-addrs", env("REDIS_ADDRS", ""), "Redis Cluster or Sentinel addresses, comma-separated")
	fs.StringVar(&c.RedisMaster, "redis-master", env("REDIS_MASTER", ""), "Sentinel master name (with --redis-addrs)")
	fs.IntVar(&c.NearSessions, "near-sessions", envInt("NEAR_SESSIONS", 50_000), "with Redis: conversations this instance keeps a copy of, so their hops make one Redis round trip (0: none)")
	fs.BoolVar(&c.RedisBatch, "redis-batch", env("REDIS_BATCH", "true") == "true", "send the Redis commands of concurrent hops together, one pipeline at a time")
	fs.DurationVar(&c.SessionTTL, "session-ttl", envDuration("SESSION_TTL", 3*time.Minute), "idle USSD session lifetime")
	fs.StringVar(&c.Routes, "routes", env("ROUTES", ""), "service codes to flows: '*384#=inicio,*384*2#=estado-tramite'")
	fs.StringVar(&c.SampleAddr, "sample-addr", env("SAMPLE_ADDR", "127.0.0.1:0"), "demo: listen address of the sample back-end")
	fs.DurationVar(&c.SampleLatency, "sample-latency", envDuration("SAMPLE_LATENCY", 0), "demo: delay every answer of the sample back-end (to show slow institutions)")
	fs.StringVar(&c.SampleData, "sample-data", env("SAMPLE_DATA", ""), "demo: file where the sample back-end keeps its bookings (bbolt); empty keeps them in memory")
	fs.StringVar(&c.NotifyTemplates, "notify-templates", env("NOTIFY_TEMPLATES", ""), "templates of institutions' notifications; empty: no notifications API")
	fs.StringVar(&c.NotifyCarriers, "notify-carriers", env("NOTIFY_CARRIERS", ""), "channels of notifications to carriers: sms=twilio,whatsapp=whatsapp (default: the configured senders)")
	fs.StringVar(&c.OutboundRates, "outbound-rates", env("OUTBOUND_RATES", ""), "SMS segments per second per carrier: twilio=1,africastalking-sms=10")
	fs.StringVar(&c.LogFormat, "log-format", env("LOG_FORMAT", "text"), "log format: text or json")
	fs.DurationVar(&c.Resume, "resume-window", envDuration("RESUME_WINDOW", 5*time.Minute), "how long after a dropped USSD session a citizen is offered to continue")
	fs.DurationVar(&c.Budget, "hop-budget", envDuration("HOP_BUDGET", 4*time.Second), "how long a hop may take before the citizen is asked to try again")
	fs.StringVar(&c.Keywords, "keywords", env("KEYWORDS", defaultKeywords), "SMS and chat keywords: WORD=flow or WORD=stop, comma-separated")
	fs.DurationVar(&c.TextTTL, "text-ttl", envDuration("TEXT_TTL", 30*time.Minute), "idle SMS and chat conversation lifetime")
	fs.IntVar(&c.SMSSegments, "sms-segments", envInt("SMS_SEGMENTS", 3), "most concatenated segments one SMS reply may take")
	fs.BoolVar(&c.SMSTranslit, "sms-transliterate", env("SMS_TRANSLITERATE", "true") == "true", "write á í ó ú as a i o u in SMS when that keeps a reply in GSM-7")
	fs.IntVar(&c.LimitPhone, "limit-phone", envInt("LIMIT_PHONE", 30), "most hops per phone number per --limit-window (0: no limit)")
	fs.IntVar(&c.LimitCarrier, "limit-carrier", envInt("LIMIT_CARRIER", 0), "most hops per carrier per --limit-window (0: no limit)")
	fs.DurationVar(&c.LimitWindow, "limit-window", envDuration("LIMIT_WINDOW", time.Minute), "window of the hop limits")
	fs.BoolVar(&c.SharedLimits, "shared-limits", env("SHARED_LIMITS", "") == "true", "count hop limits in Redis, shared by every instance (one more Redis round trip per hop)")
	fs.StringVar(&c.AuditDir, "audit-dir", env("AUDIT_DIR", ""), "directory of the access audit trail (JSON lines, one file a day); empty: no trail")
	fs.IntVar(&c.GCFloorMB, "gc-floor-mb", envInt("GC_FLOOR_MB", 64), "let the heap grow to this many MiB before Go collects, while little of it is live (0: Go's default; ignored when GOGC is set)")
	fs.StringVar(&c.DebugAddr, "debug-addr", env("DEBUG_ADDR", ""), "loopback address for Go's profiler (net/http/pprof), e.g. 127.0.0.1:6060; empty: off")
	fs.DurationVar(&c.AuditRetention, "audit-retention", envDuration("AUDIT_RETENTION", 90*24*time.Hour), "how long audit files are kept")
	fs.StringVar(&c.Carriers, "carriers", env("CARRIERS", ""), "carriers file: per-carrier screen limit, budget and callback authentication")
	fs.BoolVar(&c.Production, "production", env("PRODUCTION", "") == "1" || env("PRODUCTION", "") == "true", "refuse to start without the secrets production needs")
	c.AdminToken = env("ADMIN_TOKEN", "")
	fs.StringVar(&c.Nav, "nav", env("NAV", "0,00,98"), "navigation keys: back,home,more")
	return fs
}

func env(name, def string) string {
	if v, ok := os.LookupEnv("VENTANILLA_" + name); ok {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, ok := os.LookupEnv("VENTANILLA_" + name); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

// defaultKeywords start the catalogue's flows by SMS and chat.
const defaultKeywords = "TURNO=turnos,TURNOS=turnos,CITA=turnos,ESTADO=estado-tramite,STATUS=estado-tramite," +
	"BUZON=buzon,QUEJA=buzon,MENU=inicio,INICIO=inicio,AYUDA=inicio,HELP=inicio,START=inicio,SALIR=stop,STOP=stop"

// keywords parses --keywords.
func (c *config) keywords() (map[string]channels.Keyword, error) {
	out := map[string]channels.Keyword{}
	for _, pair := range strings.Split(c.Keywords, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		word, flow, ok := strings.Cut(pair, "=")
		if !ok || strings.TrimSpace(word) == "" || strings.TrimSpace(flow) == "" {
			return nil, fmt.Errorf("--keywords: %q is not WORD=flow", pair)
		}
		kw := channels.Keyword{Flow: strings.TrimSpace(flow)}
		if kw.Flow == "stop" {
			kw = channels.Keyword{Stop: true}
		}
		out[channels.NormalizeKeyword(word)] = kw
	}
	return out, nil
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv("VENTANILLA_" + name); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
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
	var out []flows.Source
	for _, f := range files {
		data, err := readBounded(f)
		if err != nil {
			return nil, err
		}
		out = append(out, flows.Source{Name: f, Data: data})
	}
	return out, nil
}

// readBounded reads a flow file, refusing one far larger than any flow.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, flows.MaxFileSize+1))
}

// loadFlows parses, lints and compiles the flows against the services and
// system messages. It returns the registry and every problem.
func (c *config) loadFlows(paths []string, msgs *i18n.Catalog, services *interop.Registry) (*flows.Registry, flows.Problems, error) {
	srcs, err := c.sources(paths)
	if err != nil {
		return nil, nil, err
	}
	env := flows.Env{Messages: msgs, Measure: measureUSSD}
	if services != nil {
		env.Service = func(id string) bool { _, ok := services.Lookup(id); return ok }
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
