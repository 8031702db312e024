package interop

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/diag"
)

// Registry holds the services a gateway may call, by ID. It is immutable once
// built and safe for concurrent use.
type Registry struct {
	services map[string]*Service
	ids      []string // sorted
}

// NewRegistry builds a Registry from services written in Go (tests, the
// demo). It applies the same defaults and checks as ParseRegistry and panics
// on an invalid or duplicate service, as regexp.MustCompile does: files from
// operators go through LoadRegistry, which reports problems instead.
func NewRegistry(services ...Service) *Registry {
	r := &Registry{services: make(map[string]*Service, len(services))}
	for _, s := range services {
		if !validID(s.ID) {
			panic(fmt.Sprintf("interop.NewRegistry: invalid service id %q", s.ID))
		}
		if _, dup := r.services[s.ID]; dup {
			panic(fmt.Sprintf("interop.NewRegistry: duplicate service %q", s.ID))
		}
		s.Headers = maps.Clone(s.Headers)
		if errs := s.prepare(); len(errs) > 0 {
			panic(fmt.Sprintf("interop.NewRegistry: service %q: %v", s.ID, errors.Join(errs...)))
		}
		r.add(&s)
	}
	return r
}

func (r *Registry) add(s *Service) {
	r.services[s.ID] = s
	i, _ := slices.BinarySearch(r.ids, s.ID)
	r.ids = slices.Insert(r.ids, i, s.ID)
}

// Lookup returns the service declared under id. A nil Registry has none.
func (r *Registry) Lookup(id string) (*Service, bool) {
	if r == nil {
		return nil, false
	}
	s, ok := r.services[id]
	return s, ok
}

// IDs returns the declared service IDs, sorted.
func (r *Registry) IDs() []string {
	if r == nil {
		return nil
	}
	return slices.Clone(r.ids)
}

// ConfigError is one problem in a services file, positioned for editors and
// terminals:
//
//	services.yaml:7:5: services.turnos.book.method: unknown method "FETCH"
type ConfigError struct {
	File   string
	Line   int
	Column int    // 0 when only the line is known (YAML syntax errors)
	Path   string // YAML path of the offending node; empty for syntax errors
	Err    error
}

func (e *ConfigError) Error() string {
	return diag.Problem{File: e.File, Pos: diag.Pos{Line: e.Line, Col: e.Column}, Path: e.Path, Message: e.Err.Error()}.String()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// LoadRegistry reads a services file, expanding ${VAR} from the process
// environment. The file looks like:
//
//	services:
//	  turnos.book:
//	    base_url: ${TURNOS_URL}
//	    method: POST
//	    path: /appointments
//	    timeout: 2s
//	    auth: {type: api_key, header: X-Api-Key, value: "${TURNOS_KEY}"}
//	    breaker: {failures: 5, open_for: 30s}
//
// docs/interop.md describes every field. Public for programs that embed
// the client; the binary goes through LoadRegistryWith.
func LoadRegistry(path string) (*Registry, error) {
	return LoadRegistryWith(path, os.LookupEnv)
}

// LoadRegistryWith is LoadRegistry with the environment lookup injected.
func LoadRegistryWith(path string, getenv func(string) (string, bool)) (*Registry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading services: %w", err)
	}
	return ParseRegistry(path, data, getenv)
}

// ParseRegistry parses a services file already in memory; name is used in
// error positions. Every problem found is reported, each as a *ConfigError,
// joined with errors.Join. A nil getenv reads the process environment.
// An alias (*name) stands for what it names; merge keys (<<) are refused.
func ParseRegistry(name string, data []byte, getenv func(string) (string, bool)) (*Registry, error) {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	p := &parser{r: &diag.Report{File: name}, getenv: getenv}
	reg := &Registry{services: map[string]*Service{}}

	root, bad := diag.Parse(name, data)
	if bad != nil {
		return nil, configError(*bad)
	}
	if root == nil {
		return reg, nil // empty file: no services
	}
	root = diag.Resolve(root)
	if root.Kind != yaml.MappingNode {
		if root.ShortTag() == "!!null" {
			return reg, nil
		}
		p.errorf(root, "", "want a mapping with a \"services\" key")
		return nil, p.err()
	}
	var services, servicesKey *yaml.Node
	p.fields(root, "", func(key, val *yaml.Node) {
		if key.Value != "services" {
			p.r.Unknown(key, "", []string{"services"})
			return
		}
		services, servicesKey = val, key
	})
	if services != nil && services.ShortTag() != "!!null" {
		if services.Kind != yaml.MappingNode {
			p.errorf(servicesKey, "services", "want a mapping of service id to service")
		} else {
			p.fields(services, "services", func(key, val *yaml.Node) {
				if s := p.service(key, val); s != nil {
					reg.add(s)
				}
			})
		}
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return reg, nil
}

type parser struct {
	r      *diag.Report
	getenv func(string) (string, bool)
}

func (p *parser) errorf(n *yaml.Node, path, format string, args ...any) {
	p.r.At(n, path, format, args...)
}

func (p *parser) err() error {
	if len(p.r.Problems) == 0 {
		return nil
	}
	p.r.Problems.Sort()
	errs := make([]error, len(p.r.Problems))
	for i, pr := range p.r.Problems {
		errs[i] = configError(pr)
	}
	return errors.Join(errs...)
}

func configError(p diag.Problem) *ConfigError {
	return &ConfigError{File: p.File, Line: p.Pos.Line, Column: p.Pos.Col, Path: p.Path, Err: errors.New(p.Message)}
}

// fields calls fn for each key of mapping m, in order, with aliases
// followed, reporting merge keys, keys that are not plain strings and keys
// given twice.
func (p *parser) fields(m *yaml.Node, path string, fn func(key, val *yaml.Node)) {
	p.r.Pairs(m, path, nil, fn)
}

// serviceDecoder decodes one service. keys remembers where each field was
// written so that every finding, prepare's included, points at its key, the
// way an editor shows it: services.yaml:7:5 is the "method" in
// "    method: FETCH".
type serviceDecoder struct {
	p    *parser
	s    *Service
	path string
	key  *yaml.Node      // the service's id
	node *yaml.Node      // its mapping
	bad  map[string]bool // fields already reported, so prepare does not pile on
}

func (d *serviceDecoder) fail(field, format string, args ...any) {
	d.bad[field] = true
	d.p.errorf(d.at(field), join(d.path, field), format, args...)
}

// at is the key a field ("method", "headers.X-Api-Key", "auth.token") is
// written at; for a field that is not written, the key of the block that
// lacks it ("auth"), or else the service's id.
func (d *serviceDecoder) at(field string) *yaml.Node {
	for f := field; ; f = f[:strings.LastIndexByte(f, '.')] {
		if k, _, ok := diag.Find(d.node, f); ok && k != nil {
			return k
		}
		if !strings.Contains(f, ".") {
			return d.key
		}
	}
}

// serviceFields is the one list of fields a services file may set: the
// common ones and each protocol's own. A test checks it against Service's
// yaml tags.
var serviceFields = func() map[string]func(d *serviceDecoder, v *yaml.Node) {
	fields := commonFields
	for _, p := range protocols {
		for name, decode := range p.fields() {
			fields[name] = decode
		}
	}
	return fields
}()

// commonFields are the fields every kind of service reads.
var commonFields = map[string]func(d *serviceDecoder, v *yaml.Node){
	"kind":       func(d *serviceDecoder, v *yaml.Node) { d.s.Kind = d.str(v, "kind", false) },
	"base_url":   func(d *serviceDecoder, v *yaml.Node) { d.s.BaseURL = d.str(v, "base_url", true) },
	"method":     func(d *serviceDecoder, v *yaml.Node) { d.s.Method = d.str(v, "method", false) },
	"path":       func(d *serviceDecoder, v *yaml.Node) { d.s.Path = d.str(v, "path", false) },
	"timeout":    func(d *serviceDecoder, v *yaml.Node) { d.duration(v, "timeout", &d.s.Timeout) },
	"max_body":   (*serviceDecoder).maxBody,
	"headers":    (*serviceDecoder).headers,
	"disabled":   func(d *serviceDecoder, v *yaml.Node) { d.boolean(v, "disabled", &d.s.Disabled) },
	"auth":       (*serviceDecoder).auth,
	"retry":      (*serviceDecoder).retry,
	"idempotent": func(d *serviceDecoder, v *yaml.Node) { d.boolean(v, "idempotent", &d.s.Idempotent) },
	"breaker":    (*serviceDecoder).breaker,
	"rate":       (*serviceDecoder).rate,
	"cache":      func(d *serviceDecoder, v *yaml.Node) { d.duration(v, "cache", &d.s.Cache) },
}

func (p *parser) service(key, val *yaml.Node) *Service {
	path := join("services", key.Value)
	if !validID(key.Value) {
		p.errorf(key, path, "invalid service id %q (use letters, digits, '.', '_' and '-')", key.Value)
		return nil
	}
	before := len(p.r.Problems)
	d := &serviceDecoder{p: p, s: &Service{ID: key.Value}, path: path,
		key: key, node: val, bad: map[string]bool{}}
	switch {
	case val.Kind == yaml.MappingNode:
		p.fields(val, path, func(k, v *yaml.Node) {
			decode, ok := serviceFields[k.Value]
			if !ok {
				p.r.Unknown(k, path, sortedKeys(serviceFields))
				return
			}
			if v.ShortTag() != "!!null" { // "method:" with no value: the default
				decode(d, v)
			}
		})
	case val.ShortTag() == "!!null":
	default:
		p.errorf(key, path, "want a mapping of fields (base_url, path, …)")
		return nil
	}
	for _, err := range d.s.prepare() {
		fe := err.(*fieldError)
		if d.bad[fe.field] {
			continue
		}
		d.fail(fe.field, "%v", fe.err)
	}
	if len(p.r.Problems) > before {
		return nil
	}
	return d.s
}

// str decodes a string field; expand applies ${VAR} expansion.
func (d *serviceDecoder) str(v *yaml.Node, field string, expand bool) string {
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
		d.fail(field, "want a string")
		return ""
	}
	if !expand {
		return v.Value
	}
	s, err := expandEnv(v.Value, d.p.getenv)
	if err != nil {
		d.fail(field, "%v", err)
	}
	return s
}

// duration decodes a positive duration such as "3s" into *dst.
func (d *serviceDecoder) duration(v *yaml.Node, field string, dst *time.Duration) {
	switch {
	case v.Kind == yaml.ScalarNode && (v.ShortTag() == "!!int" || v.ShortTag() == "!!float"):
		d.fail(field, "%s needs a unit, e.g. \"%ss\"", v.Value, v.Value)
	case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str":
		t, err := time.ParseDuration(v.Value)
		if err != nil || t <= 0 {
			d.fail(field, "want a positive duration such as \"3s\" or \"500ms\", got %q", v.Value)
			return
		}
		*dst = t
	default:
		d.fail(field, "want a duration such as \"3s\"")
	}
}

// count decodes a positive whole number into *dst.
func (d *serviceDecoder) count(v *yaml.Node, field string, dst *int) {
	n, err := strconv.Atoi(v.Value)
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || err != nil || n <= 0 {
		d.fail(field, "want a positive whole number")
		return
	}
	*dst = n
}

func (d *serviceDecoder) boolean(v *yaml.Node, field string, dst *bool) {
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" || v.Decode(dst) != nil {
		d.fail(field, "want true or false")
	}
}

// block decodes a mapping field (auth, retry, …) whose own fields are
// known; each finding points at its key, as "auth.token".
func (d *serviceDecoder) block(v *yaml.Node, field string, fields map[string]func(v *yaml.Node)) {
	if v.Kind != yaml.MappingNode {
		d.fail(field, "want a mapping of %s", strings.Join(sortedKeys(fields), ", "))
		return
	}
	path := join(d.path, field)
	d.p.fields(v, path, func(k, val *yaml.Node) {
		decode, ok := fields[k.Value]
		if !ok {
			d.p.r.Unknown(k, path, sortedKeys(fields))
			d.bad[field+"."+k.Value] = true
			return
		}
		if val.ShortTag() != "!!null" {
			decode(val)
		}
	})
}

// secret decodes a credential, which must come from the environment: a
// value written in the file would end up in repositories and backups.
func (d *serviceDecoder) secret(v *yaml.Node, field string) string {
	if v.Kind == yaml.ScalarNode && !strings.Contains(v.Value, "${") {
		d.fail(field, "secrets come from the environment: write ${VARIABLE} and set it, not the secret itself")
		return ""
	}
	return d.str(v, field, true)
}

func (d *serviceDecoder) auth(v *yaml.Node) {
	a := &d.s.Auth
	d.block(v, "auth", map[string]func(*yaml.Node){
		"type":      func(v *yaml.Node) { a.Type = d.str(v, "auth.type", false) },
		"token":     func(v *yaml.Node) { a.Token = d.secret(v, "auth.token") },
		"user":      func(v *yaml.Node) { a.User = d.secret(v, "auth.user") },
		"password":  func(v *yaml.Node) { a.Password = d.secret(v, "auth.password") },
		"header":    func(v *yaml.Node) { a.Header = d.str(v, "auth.header", false) },
		"value":     func(v *yaml.Node) { a.Value = d.secret(v, "auth.value") },
		"cert_file": func(v *yaml.Node) { a.CertFile = d.str(v, "auth.cert_file", true) },
		"key_file":  func(v *yaml.Node) { a.KeyFile = d.str(v, "auth.key_file", true) },
		"ca_file":   func(v *yaml.Node) { a.CAFile = d.str(v, "auth.ca_file", true) },
	})
}

func (d *serviceDecoder) retry(v *yaml.Node) {
	r := &d.s.Retry
	d.block(v, "retry", map[string]func(*yaml.Node){
		"attempts":    func(v *yaml.Node) { d.count(v, "retry.attempts", &r.Attempts) },
		"backoff":     func(v *yaml.Node) { d.duration(v, "retry.backoff", &r.Backoff) },
		"max_backoff": func(v *yaml.Node) { d.duration(v, "retry.max_backoff", &r.MaxBackoff) },
	})
}

func (d *serviceDecoder) breaker(v *yaml.Node) {
	b := &d.s.Breaker
	d.block(v, "breaker", map[string]func(*yaml.Node){
		"failures": func(v *yaml.Node) { d.count(v, "breaker.failures", &b.Failures) },
		"open_for": func(v *yaml.Node) { d.duration(v, "breaker.open_for", &b.OpenFor) },
	})
}

func (d *serviceDecoder) rate(v *yaml.Node) {
	r := &d.s.Rate
	d.block(v, "rate", map[string]func(*yaml.Node){
		"per_second": func(v *yaml.Node) {
			f, err := strconv.ParseFloat(v.Value, 64)
			if v.Kind != yaml.ScalarNode || (v.ShortTag() != "!!int" && v.ShortTag() != "!!float") || err != nil || !(f > 0) {
				d.fail("rate.per_second", "want a positive number of calls per second, e.g. 20 or 0.5")
				return
			}
			r.PerSecond = f
		},
		"burst": func(v *yaml.Node) { d.count(v, "rate.burst", &r.Burst) },
	})
}

func (d *serviceDecoder) maxBody(v *yaml.Node) {
	n, err := strconv.ParseInt(v.Value, 0, 64)
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || err != nil || n <= 0 {
		d.fail("max_body", "want a positive number of bytes, e.g. 65536")
		return
	}
	d.s.MaxBody = n
}

func (d *serviceDecoder) headers(v *yaml.Node) {
	if v.Kind != yaml.MappingNode {
		d.fail("headers", "want a mapping of header name to value")
		return
	}
	d.s.Headers = make(map[string]string, len(v.Content)/2)
	byLower := map[string]*yaml.Node{}
	d.p.fields(v, join(d.path, "headers"), func(k, val *yaml.Node) {
		field := "headers." + k.Value
		if first, dup := byLower[strings.ToLower(k.Value)]; dup {
			d.fail(field, "already set as %q at line %d (header names ignore case)", first.Value, first.Line)
			return
		}
		byLower[strings.ToLower(k.Value)] = k
		if val.Kind != yaml.ScalarNode || val.ShortTag() == "!!null" {
			d.fail(field, "want a value (a string, a number or ${VAR})")
			return
		}
		if credentialHeader(k.Value) && !strings.Contains(val.Value, "${") {
			d.fail(field, "carries a credential, which comes from the environment: write ${VARIABLE} and set it (or use auth)")
			return
		}
		s, err := expandEnv(val.Value, d.p.getenv)
		if err != nil {
			d.fail(field, "%v", err)
			return
		}
		d.s.Headers[k.Value] = s
	})
}

// expandEnv replaces each ${NAME} in s with the variable's value. Only the
// braced form is recognised, so a lone "$" in a header value stays as is.
// Every unset variable is named in the error: an operator fixes them in one go.
func expandEnv(s string, getenv func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	var unset []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		rest := s[i+2:]
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return "", errors.New("unclosed \"${\"")
		}
		name := rest[:end]
		if !validName(name) {
			return "", fmt.Errorf("invalid variable name ${%s}", name)
		}
		if v, ok := getenv(name); ok {
			b.WriteString(v)
		} else if !slices.Contains(unset, name) {
			unset = append(unset, name)
		}
		s = rest[end+1:]
	}
	switch len(unset) {
	case 0:
		return b.String(), nil
	case 1:
		return "", fmt.Errorf("environment variable %s is not set", unset[0])
	default:
		return "", fmt.Errorf("environment variables %s are not set", strings.Join(unset, ", "))
	}
}

func join(path, key string) string { return diag.Join(path, key) }
