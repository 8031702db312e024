package interop

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/suggest"
)

// Service kinds. Each has its own protocol (see protocol.go); flows do not
// change with the kind, only the services file does.
const (
	KindREST      = "rest"       // HTTP with JSON both ways
	KindXRoadREST = "xroad-rest" // the same, through an X-Road Security Server (message protocol for REST, r1)
)

// Defaults for the Service fields left at zero.
const (
	DefaultTimeout         = 3 * time.Second
	DefaultMaxBody         = 64 << 10
	DefaultBackoff         = 100 * time.Millisecond
	DefaultMaxBackoff      = time.Second
	DefaultBreakerFailures = 5
	DefaultBreakerOpenFor  = 30 * time.Second
)

// maxRate bounds Rate.PerSecond, so that the burst it implies fits an int.
const maxRate = 1_000_000_000

// maxAttempts bounds Retry.Attempts: past a few tries a back-end is down,
// and the hop's budget is gone anyway.
const maxAttempts = 10

// Service is one back-end operation, declared once in configuration and
// called from flows by ID. A Service obtained from a Registry is shared:
// treat it as read-only.
type Service struct {
	ID      string        `yaml:"-"`
	Kind    string        `yaml:"kind"`     // "rest" (the default) or "xroad-rest"
	BaseURL string        `yaml:"base_url"` // the back-end, or the Security Server for xroad-rest; ${ENV_VAR} references are expanded at load
	Method  string        `yaml:"method"`   // GET (default), POST, PUT or DELETE
	Path    string        `yaml:"path"`     // "/offices/{office}/slots": {name} is filled from params, path-escaped
	Timeout time.Duration `yaml:"timeout"`  // per attempt, default 3s; the caller's deadline still wins when shorter

	// Headers are sent on every call, over the defaults (Accept:
	// application/json, and Content-Type: application/json with a body); a
	// "Host" entry sets the request's Host. Values may reference ${ENV_VAR};
	// headers that carry credentials (Authorization, *Key*, *Token*, …) must.
	Headers map[string]string `yaml:"headers"`
	MaxBody int64             `yaml:"max_body"` // response size limit in bytes, default 64 KiB

	// Disabled answers every call with Unavailable without contacting the
	// back-end: operators switch a failing institution off in configuration
	// and flows take their "unavailable" route.
	Disabled bool `yaml:"disabled"`

	Auth  Auth  `yaml:"auth"`  // how the gateway proves who it is; none by default
	XRoad XRoad `yaml:"xroad"` // identities, for kind xroad-rest only

	// Retry repeats a call that timed out, got a 5xx or lost its connection,
	// but only an idempotent one: GET, PUT and DELETE, or any method when
	// Idempotent is set because the back-end deduplicates.
	Retry      Retry `yaml:"retry"`
	Idempotent bool  `yaml:"idempotent"`

	Breaker Breaker `yaml:"breaker"` // always on, with defaults
	Rate    Rate    `yaml:"rate"`    // off unless PerSecond is set

	// Cache keeps OK answers of a GET service for this long, keyed by the
	// service and its params (and the citizen, for X-Road). 0: no cache.
	Cache time.Duration `yaml:"cache"`

	// Compiled by prepare so that a call does no parsing.
	tmpl   pathTemplate
	prefix string // base URL without its query and trailing slash (plus the X-Road service path)
	query  string // base URL's own query, sent ahead of the params
	header http.Header
	host   string      // a "Host" entry in Headers, which net/http takes from Request.Host
	tls    *tls.Config // client certificate for auth mtls
	xroad  *xroadIDs
	proto  any // a protocol's own configuration, for protocols that keep it out of Service
}

// Auth is how the gateway authenticates to a back-end. In a services file
// every secret comes from the environment (${VAR}); a literal secret is a
// load error.
type Auth struct {
	Type string `yaml:"type"` // "none" (or empty), "bearer", "basic", "api_key" or "mtls"

	Token string `yaml:"token"` // bearer: sent as "Authorization: Bearer <token>"

	User     string `yaml:"user"`     // basic
	Password string `yaml:"password"` // basic

	Header string `yaml:"header"` // api_key: the header's name, e.g. X-Api-Key
	Value  string `yaml:"value"`  // api_key: its value

	CertFile string `yaml:"cert_file"` // mtls: PEM client certificate (chain)
	KeyFile  string `yaml:"key_file"`  // mtls: PEM private key
	CAFile   string `yaml:"ca_file"`   // mtls, optional: PEM CAs trusted for the server instead of the system's
}

// Auth types.
const (
	AuthNone   = "none"
	AuthBearer = "bearer"
	AuthBasic  = "basic"
	AuthAPIKey = "api_key"
	AuthMTLS   = "mtls"
)

var authTypes = []string{AuthNone, AuthBearer, AuthBasic, AuthAPIKey, AuthMTLS}

// String leaves the secrets out, so that printing a Service does not leak
// them.
func (a Auth) String() string {
	if a.Type == "" {
		return "{}"
	}
	return "{" + a.Type + " …}"
}

// XRoad names the two ends of an X-Road call. Identifier parts are
// separated by "/" and written as they are registered (not escaped).
type XRoad struct {
	Client  string `yaml:"client"`  // INSTANCE/CLASS/MEMBER[/SUBSYSTEM]: the gateway's subsystem
	Service string `yaml:"service"` // INSTANCE/CLASS/MEMBER[/SUBSYSTEM]/SERVICECODE: the provider's service
}

// Retry is a service's retry policy.
type Retry struct {
	Attempts   int           `yaml:"attempts"`    // tries in all, first included; default 1 (no retry), at most 10
	Backoff    time.Duration `yaml:"backoff"`     // wait before the second try, doubling after; default 100ms
	MaxBackoff time.Duration `yaml:"max_backoff"` // cap on one wait; default 1s
}

// Breaker is a service's circuit breaker: after Failures failed calls in a
// row it opens, and calls are answered Unavailable without reaching the
// back-end until OpenFor has passed; then one trial call decides.
type Breaker struct {
	Failures int           `yaml:"failures"` // default 5
	OpenFor  time.Duration `yaml:"open_for"` // default 30s
}

// Rate limits the calls the gateway makes to a service, to what the
// institution agreed to take.
type Rate struct {
	PerSecond float64 `yaml:"per_second"` // 0: no limit
	Burst     int     `yaml:"burst"`      // default: PerSecond rounded up, at least 1
}

// PathParams returns the {names} the path template uses, in order of first
// appearance; the flow lint checks that every call supplies them.
func (s *Service) PathParams() []string {
	if s.tmpl.parts == nil && s.Path != "" {
		// Not prepared (a literal Service): parse on demand.
		t, err := parsePath(s.Path)
		if err != nil {
			return nil
		}
		return t.params
	}
	return slices.Clone(s.tmpl.params)
}

// idempotent reports whether repeating the call is harmless.
func (s *Service) idempotent() bool {
	return s.Idempotent || s.Method == http.MethodGet || s.Method == http.MethodPut || s.Method == http.MethodDelete
}

// fieldError is a problem with one field of a Service. ParseRegistry turns it
// into a ConfigError positioned at that field.
type fieldError struct {
	field string // yaml name, e.g. "method", "headers.X-Api-Key" or "auth.token"
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// prepare applies defaults, validates every field and compiles the service
// for calling. The same checks serve NewRegistry and ParseRegistry.
func (s *Service) prepare() []error {
	var errs []error
	bad := func(field string, format string, args ...any) {
		errs = append(errs, &fieldError{field, fmt.Errorf(format, args...)})
	}

	if s.Kind == "" {
		s.Kind = KindREST
	}
	switch {
	case slices.Contains(kinds, s.Kind):
	case slices.Contains(plannedKinds, s.Kind):
		bad("kind", "kind %q is not supported yet (supported: %s)", s.Kind, strings.Join(kinds, ", "))
	default:
		msg := fmt.Sprintf("unknown kind %q (known: %s)", s.Kind, strings.Join(kinds, ", "))
		if sug := suggest.Closest(s.Kind, kinds); sug != "" {
			msg = fmt.Sprintf("unknown kind %q (did you mean %q? known: %s)", s.Kind, sug, strings.Join(kinds, ", "))
		}
		bad("kind", "%s", msg)
	}

	if s.BaseURL == "" {
		bad("base_url", "required")
	} else if err := s.parseBaseURL(); err != nil {
		bad("base_url", "%v", err)
	}

	if s.Method == "" {
		s.Method = http.MethodGet
		if p, ok := protocolFor(s.Kind).(methodDefaulter); ok {
			s.Method = p.defaultMethod()
		}
	}
	switch m := strings.ToUpper(s.Method); m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete:
		s.Method = m
	default:
		bad("method", "unknown method %q (known: GET, POST, PUT, DELETE)", s.Method)
	}

	if t, err := parsePath(s.Path); err != nil {
		bad("path", "%v", err)
	} else {
		s.tmpl = t
	}

	switch {
	case s.Timeout < 0:
		bad("timeout", "must be positive, got %v", s.Timeout)
	case s.Timeout == 0:
		s.Timeout = DefaultTimeout
	}
	switch {
	case s.MaxBody < 0:
		bad("max_body", "must be positive, got %d", s.MaxBody)
	case s.MaxBody == 0:
		s.MaxBody = DefaultMaxBody
	}

	s.header = make(http.Header, len(s.Headers)+3)
	s.header.Set("Accept", "application/json")
	s.header.Set("User-Agent", "ventanilla")
	authHeader := s.prepareAuth(bad)
	for _, name := range sortedKeys(s.Headers) {
		value := s.Headers[name]
		canon := http.CanonicalHeaderKey(name)
		switch {
		case !validHeaderName(name):
			bad("headers."+name, "invalid header name %q", name)
		case strings.ContainsAny(value, "\r\n\x00"):
			bad("headers."+name, "value contains a line break or NUL")
		case authHeader != "" && canon == authHeader:
			bad("headers."+name, "conflicts with auth (type %s sets %s)", s.Auth.Type, authHeader)
		case canon == "Host":
			s.host = value
		default:
			// Configuration overrides our defaults (a vendor media type in
			// Accept, for one).
			s.header.Set(name, value)
		}
	}
	if (s.Method == http.MethodPost || s.Method == http.MethodPut) && s.header.Get("Content-Type") == "" {
		s.header.Set("Content-Type", "application/json")
	}

	for _, p := range protocols {
		p.prepare(s, bad)
	}
	s.preparePolicies(bad)
	return errs
}

// prepareAuth validates Auth and compiles it into s.header or s.tls. It
// returns the header auth sets, if any, so Headers cannot set it too.
func (s *Service) prepareAuth(bad func(field, format string, args ...any)) string {
	a := &s.Auth
	// unused reports the fields set for another type: a "token" next to
	// "type: basic" is a mistake the operator should hear about.
	unused := func(want ...string) {
		for _, f := range []struct{ name, v string }{
			{"token", a.Token}, {"user", a.User}, {"password", a.Password},
			{"header", a.Header}, {"value", a.Value},
			{"cert_file", a.CertFile}, {"key_file", a.KeyFile}, {"ca_file", a.CAFile},
		} {
			if f.v != "" && !slices.Contains(want, f.name) {
				t := a.Type
				if t == "" {
					t = AuthNone
				}
				bad("auth."+f.name, "not used by auth type %s", t)
			}
		}
	}
	required := func(field, v string) bool {
		if v == "" {
			bad("auth."+field, "required for auth type %s", a.Type)
			return false
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			bad("auth."+field, "contains a line break or NUL")
			return false
		}
		return true
	}
	switch a.Type {
	case "", AuthNone:
		unused()
	case AuthBearer:
		unused("token")
		if required("token", a.Token) {
			s.header.Set("Authorization", "Bearer "+a.Token)
		}
		return "Authorization"
	case AuthBasic:
		unused("user", "password")
		user, pass := required("user", a.User), required("password", a.Password)
		if strings.Contains(a.User, ":") {
			bad("auth.user", "must not contain \":\" (HTTP basic authentication)")
		} else if user && pass {
			r := http.Request{Header: http.Header{}}
			r.SetBasicAuth(a.User, a.Password)
			s.header.Set("Authorization", r.Header.Get("Authorization"))
		}
		return "Authorization"
	case AuthAPIKey:
		unused("header", "value")
		if !required("header", a.Header) {
			return ""
		}
		if !validHeaderName(a.Header) {
			bad("auth.header", "invalid header name %q", a.Header)
			return ""
		}
		if required("value", a.Value) {
			s.header.Set(a.Header, a.Value)
		}
		return http.CanonicalHeaderKey(a.Header)
	case AuthMTLS:
		unused("cert_file", "key_file", "ca_file")
		if u, err := url.Parse(s.BaseURL); err == nil && s.BaseURL != "" && !strings.EqualFold(u.Scheme, "https") {
			bad("auth.type", "mtls needs an https base_url")
		}
		if required("cert_file", a.CertFile) && required("key_file", a.KeyFile) {
			cfg, field, err := clientTLS(a.CertFile, a.KeyFile, a.CAFile)
			if err != nil {
				bad("auth."+field, "%v", err)
			}
			s.tls = cfg
		}
	default:
		bad("auth.type", "unknown auth type %q (known: %s)", a.Type, strings.Join(authTypes, ", "))
	}
	return ""
}

// preparePolicies validates retry, breaker, rate and cache and fills their
// defaults.
func (s *Service) preparePolicies(bad func(field, format string, args ...any)) {
	r := &s.Retry
	switch {
	case r.Attempts < 0 || r.Attempts > maxAttempts:
		bad("retry.attempts", "want 1 to %d tries in all, got %d", maxAttempts, r.Attempts)
	case r.Attempts == 0:
		r.Attempts = 1
	}
	switch {
	case r.Backoff < 0:
		bad("retry.backoff", "must be positive, got %v", r.Backoff)
	case r.Backoff == 0:
		r.Backoff = DefaultBackoff
	}
	switch {
	case r.MaxBackoff < 0:
		bad("retry.max_backoff", "must be positive, got %v", r.MaxBackoff)
	case r.MaxBackoff == 0:
		r.MaxBackoff = max(DefaultMaxBackoff, r.Backoff)
	case r.MaxBackoff < r.Backoff:
		bad("retry.max_backoff", "%v is shorter than backoff %v", r.MaxBackoff, r.Backoff)
	}

	b := &s.Breaker
	switch {
	case b.Failures < 0:
		bad("breaker.failures", "must be positive, got %d", b.Failures)
	case b.Failures == 0:
		b.Failures = DefaultBreakerFailures
	}
	switch {
	case b.OpenFor < 0:
		bad("breaker.open_for", "must be positive, got %v", b.OpenFor)
	case b.OpenFor == 0:
		b.OpenFor = DefaultBreakerOpenFor
	}

	rt := &s.Rate
	switch {
	case rt.PerSecond < 0 || rt.PerSecond != rt.PerSecond: // NaN too
		bad("rate.per_second", "must be positive, got %v", rt.PerSecond)
	case rt.PerSecond > maxRate:
		bad("rate.per_second", "at most %d: for more, leave the rate out", maxRate)
	case rt.Burst < 0:
		bad("rate.burst", "must be positive, got %d", rt.Burst)
	case rt.PerSecond == 0 && rt.Burst > 0:
		bad("rate.burst", "needs rate.per_second")
	case rt.PerSecond > 0 && rt.Burst == 0:
		rt.Burst = max(1, int(rt.PerSecond+0.999999))
	}

	switch {
	case s.Cache < 0:
		bad("cache", "must be positive, got %v", s.Cache)
	case s.Cache > 0 && s.Method != http.MethodGet:
		bad("cache", "only GET services are cached (this one is %s): an answer to a change must not be replayed", s.Method)
	}
}

func (s *Service) parseBaseURL() error {
	u, err := url.Parse(s.BaseURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("invalid URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("must be an absolute http or https URL, got %q", s.BaseURL)
	}
	if u.Host == "" {
		return fmt.Errorf("has no host: %q", s.BaseURL)
	}
	if u.Fragment != "" || strings.HasSuffix(s.BaseURL, "#") {
		return errors.New("must not have a fragment (#…)")
	}
	prefix, query, _ := strings.Cut(s.BaseURL, "?")
	s.prefix = strings.TrimSuffix(prefix, "/")
	s.query = query
	return nil
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// credentialHeader reports whether a header by this name carries a
// credential, whose value must then come from the environment.
func credentialHeader(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Authorization", "Proxy-Authorization", "Cookie":
		return true
	}
	lower := strings.ToLower(name)
	for _, word := range []string{"key", "token", "secret", "password", "passwd", "auth"} {
		if strings.Contains(lower, word) {
			return true
		}
	}
	return false
}

// validID reports whether id can name a service in a flow: letters, digits,
// '.', '_' and '-', e.g. "turnos.book".
func validID(id string) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.' || c == '_' || c == '-':
		default:
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
