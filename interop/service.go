package interop

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// KindREST is an HTTP JSON service, the only kind for now. X-Road and SOAP
// will be further kinds with their own transport; flows do not change.
const KindREST = "rest"

// kinds lists the service kinds a Registry accepts, in the order error
// messages name them.
var kinds = []string{KindREST}

// Defaults for the Service fields left at zero.
const (
	DefaultTimeout = 3 * time.Second
	DefaultMaxBody = 64 << 10
)

// Service is one back-end operation, declared once in configuration and
// called from flows by ID. A Service obtained from a Registry is shared:
// treat it as read-only.
type Service struct {
	ID      string        `yaml:"-"`
	Kind    string        `yaml:"kind"`     // "rest" (the default, and the only kind for now)
	BaseURL string        `yaml:"base_url"` // ${ENV_VAR} references are expanded at load
	Method  string        `yaml:"method"`   // GET (default), POST, PUT or DELETE
	Path    string        `yaml:"path"`     // "/offices/{office}/slots": {name} is filled from params, path-escaped
	Timeout time.Duration `yaml:"timeout"`  // default 3s; the caller's deadline still wins when shorter

	// Headers are sent on every call, over the defaults (Accept:
	// application/json, and Content-Type: application/json with a body); a
	// "Host" entry sets the request's Host. Values may reference ${ENV_VAR},
	// which is where credentials belong: never in flows.
	Headers map[string]string `yaml:"headers"`
	MaxBody int64             `yaml:"max_body"` // response size limit in bytes, default 64 KiB

	// Disabled answers every call with Unavailable without contacting the
	// back-end: operators switch a failing institution off in configuration
	// and flows take their "unavailable" route.
	Disabled bool `yaml:"disabled"`

	// Compiled by prepare so that a call does no parsing.
	tmpl   pathTemplate
	prefix string // base URL without its query and trailing slash
	query  string // base URL's own query, sent ahead of the params
	header http.Header
	host   string // a "Host" entry in Headers, which net/http takes from Request.Host
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

// fieldError is a problem with one field of a Service. ParseRegistry turns it
// into a ConfigError positioned at that field.
type fieldError struct {
	field string // yaml name, e.g. "method" or "headers.X-Api-Key"
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
	if !slices.Contains(kinds, s.Kind) {
		bad("kind", "unknown kind %q (known: %s)", s.Kind, strings.Join(kinds, ", "))
	}

	if s.BaseURL == "" {
		bad("base_url", "required")
	} else if err := s.parseBaseURL(); err != nil {
		bad("base_url", "%v", err)
	}

	if s.Method == "" {
		s.Method = http.MethodGet
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

	s.header = make(http.Header, len(s.Headers)+2)
	s.header.Set("Accept", "application/json")
	s.header.Set("User-Agent", "ventanilla")
	for _, name := range sortedKeys(s.Headers) {
		value := s.Headers[name]
		switch {
		case !validHeaderName(name):
			bad("headers."+name, "invalid header name %q", name)
		case strings.ContainsAny(value, "\r\n\x00"):
			bad("headers."+name, "value contains a line break or NUL")
		case http.CanonicalHeaderKey(name) == "Host":
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
	return errs
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
