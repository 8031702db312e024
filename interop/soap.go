package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"
	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/internal/suggest"
)

// KindSOAP is a SOAP 1.1 or 1.2 service over HTTP, with an optional
// WS-Security UsernameToken, as Ecuador's government service bus (BSG)
// and other buses of the region serve them.
const KindSOAP = "soap"

// ErrNotXML is Response.Err of a SOAP call whose answer is not a SOAP
// envelope.
var ErrNotXML = errors.New("response body is not a SOAP envelope")

// Envelope namespaces and content types of the two SOAP versions.
const (
	soap11NS   = "http://schemas.xmlsoap.org/soap/envelope/"
	soap12NS   = "http://www.w3.org/2003/05/soap-envelope"
	wsseNS     = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	wsuNS      = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	wssTokenNS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"

	passwordTextType   = wssTokenNS + "#PasswordText"
	passwordDigestType = wssTokenNS + "#PasswordDigest"
	base64Encoding     = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

// tokenRefresh is how long before its window closes a token from a token
// service is replaced, so that a call does not reach the back-end with a
// token that expired on the way.
const tokenRefresh = 5 * time.Second

// soapConfig is a service's "soap" block, compiled.
type soapConfig struct {
	version   string // "1.1" (default) or "1.2"
	action    string // SOAPAction (1.1) or the action parameter (1.2)
	operation string // local name of the body's element
	namespace string // its namespace

	security soapSecurity
	tokens   *tokenProvider // nil unless security.token is set
}

// soapSecurity is the WS-Security UsernameToken sent in the header.
type soapSecurity struct {
	passwordType string // "" (no security header), "text" or "digest"
	username     string
	password     string
	token        *tokenConfig
}

// tokenConfig is a token service: a first SOAP call whose answer carries
// the digest, nonce and creation time of the UsernameToken of the real
// call, and the end of their validity window.
type tokenConfig struct {
	url       string
	operation string
	namespace string
	params    map[string]string
	digest    string // gjson paths over the answer, as save: reads it
	nonce     string
	created   string
	expires   string
}

// soapConf returns s's soap block, creating it on first use.
func soapConf(s *Service) *soapConfig {
	c, _ := s.proto.(*soapConfig)
	if c == nil {
		c = &soapConfig{}
		s.proto = c
	}
	return c
}

// soapProtocol calls KindSOAP services.
type soapProtocol struct{}

var (
	_ protocol        = soapProtocol{}
	_ methodDefaulter = soapProtocol{}
)

func (soapProtocol) kind() string          { return KindSOAP }
func (soapProtocol) defaultMethod() string { return http.MethodPost }

func (soapProtocol) fields() map[string]func(d *serviceDecoder, v *yaml.Node) {
	return map[string]func(d *serviceDecoder, v *yaml.Node){"soap": decodeSOAP}
}

func decodeSOAP(d *serviceDecoder, v *yaml.Node) {
	c := soapConf(d.s)
	d.block(v, "soap", map[string]func(*yaml.Node){
		"version":   func(v *yaml.Node) { c.version = d.str(v, "soap.version", false) },
		"action":    func(v *yaml.Node) { c.action = d.str(v, "soap.action", true) },
		"operation": func(v *yaml.Node) { c.operation = d.str(v, "soap.operation", false) },
		"namespace": func(v *yaml.Node) { c.namespace = d.str(v, "soap.namespace", true) },
		"security": func(v *yaml.Node) {
			sec := &c.security
			d.block(v, "soap.security", map[string]func(*yaml.Node){
				"password_type": func(v *yaml.Node) { sec.passwordType = d.str(v, "soap.security.password_type", false) },
				"username":      func(v *yaml.Node) { sec.username = d.secret(v, "soap.security.username") },
				"password":      func(v *yaml.Node) { sec.password = d.secret(v, "soap.security.password") },
				"token": func(v *yaml.Node) {
					t := &tokenConfig{params: map[string]string{}}
					sec.token = t
					const f = "soap.security.token"
					d.block(v, f, map[string]func(*yaml.Node){
						"url":       func(v *yaml.Node) { t.url = d.str(v, f+".url", true) },
						"operation": func(v *yaml.Node) { t.operation = d.str(v, f+".operation", false) },
						"namespace": func(v *yaml.Node) { t.namespace = d.str(v, f+".namespace", true) },
						"digest":    func(v *yaml.Node) { t.digest = d.str(v, f+".digest", false) },
						"nonce":     func(v *yaml.Node) { t.nonce = d.str(v, f+".nonce", false) },
						"created":   func(v *yaml.Node) { t.created = d.str(v, f+".created", false) },
						"expires":   func(v *yaml.Node) { t.expires = d.str(v, f+".expires", false) },
						"params": func(v *yaml.Node) {
							if v.Kind != yaml.MappingNode {
								d.fail(f+".params", "want a mapping of names to strings")
								return
							}
							d.p.fields(v, join(d.path, f+".params"), func(k, val *yaml.Node) {
								t.params[k.Value] = d.str(val, f+".params."+k.Value, true)
							})
						},
					})
				},
			})
		},
	})
}

// soapOwnHeaders are set by the gateway on every SOAP call.
var soapOwnHeaders = []string{"Content-Type", "Soapaction"}

func (soapProtocol) prepare(s *Service, bad func(field, format string, args ...any)) {
	c, _ := s.proto.(*soapConfig)
	if s.Kind != KindSOAP {
		if c != nil {
			bad("soap", "only for kind %s", KindSOAP)
		}
		return
	}
	if c == nil {
		c = soapConf(s)
	}
	if s.Method != http.MethodPost {
		bad("method", "a SOAP call is always POST, got %s", s.Method)
	}
	for _, name := range sortedKeys(s.Headers) {
		if slices.Contains(soapOwnHeaders, http.CanonicalHeaderKey(name)) {
			bad("headers."+name, "set by the gateway on every SOAP call")
		}
	}
	switch c.version {
	case "", "1.1":
		c.version = "1.1"
		s.header.Set("Content-Type", "text/xml; charset=utf-8")
		s.header.Set("Accept", "text/xml")
		s.header.Set("SOAPAction", `"`+c.action+`"`)
	case "1.2":
		ct := "application/soap+xml; charset=utf-8"
		if c.action != "" {
			ct += `; action="` + c.action + `"`
		}
		s.header.Set("Content-Type", ct)
		s.header.Set("Accept", "application/soap+xml")
	default:
		bad("soap.version", `want "1.1" or "1.2", got %q`, c.version)
	}
	if strings.ContainsAny(c.action, "\"\r\n\x00") {
		bad("soap.action", "contains a quote, line break or NUL")
	}
	if !validXMLName(c.operation) {
		bad("soap.operation", "required: the local name of the body's element, e.g. consultarCiudadano")
	}
	if c.namespace == "" {
		bad("soap.namespace", "required: the namespace of the operation's element")
	}
	c.prepareSecurity(s, bad)
}

func (c *soapConfig) prepareSecurity(s *Service, bad func(field, format string, args ...any)) {
	sec := &c.security
	const f = "soap.security"
	switch sec.passwordType {
	case "":
		if sec.username != "" || sec.password != "" || sec.token != nil {
			bad(f+".password_type", `required with a username: "text" or "digest"`)
		}
		return
	case "text", "digest":
	default:
		msg := fmt.Sprintf(`unknown password type %q (known: text, digest)`, sec.passwordType)
		if sug := suggest.Closest(sec.passwordType, []string{"text", "digest"}); sug != "" {
			msg = fmt.Sprintf(`unknown password type %q (did you mean %q? known: text, digest)`, sec.passwordType, sug)
		}
		bad(f+".password_type", "%s", msg)
		return
	}
	if sec.username == "" {
		bad(f+".username", "required for a UsernameToken")
	}
	if sec.token == nil {
		if sec.password == "" {
			bad(f+".password", "required for a UsernameToken (or a token service in %s.token)", f)
		}
		return
	}
	t := sec.token
	switch {
	case sec.passwordType != "digest":
		bad(f+".password_type", "a token service gives a digest: password_type must be digest")
	case sec.password != "":
		bad(f+".password", "not used with a token service, which gives the digest")
	}
	if t.url == "" {
		bad(f+".token.url", "required")
	} else if err := (&Service{BaseURL: t.url}).parseBaseURL(); err != nil {
		bad(f+".token.url", "%v", err)
	}
	if !validXMLName(t.operation) {
		bad(f+".token.operation", "required: the local name of the token request's element")
	}
	if t.namespace == "" {
		bad(f+".token.namespace", "required")
	}
	for name, path := range map[string]string{"digest": t.digest, "nonce": t.nonce, "created": t.created, "expires": t.expires} {
		if path == "" {
			bad(f+".token."+name, "required: the path of the %s in the token service's answer", name)
		}
	}
	for _, k := range sortedKeys(t.params) {
		if !validXMLName(k) {
			bad(f+".token.params."+k, "%q is not an XML element name", k)
		}
	}
	// The token request is another operation: it goes without the
	// service's action.
	h := s.header.Clone()
	if c.version == "1.1" {
		h.Set("SOAPAction", `""`)
	} else {
		h.Set("Content-Type", "application/soap+xml; charset=utf-8")
	}
	c.tokens = &tokenProvider{cfg: t, version: c.version, header: h}
}

// cacheKey is the service and its params, keys sorted: a SOAP call sends
// them all in the body.
func (soapProtocol) cacheKey(_ context.Context, s *Service, params map[string]any) (string, error) {
	data, err := json.Marshal(params)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadParam, err)
	}
	return s.ID + "\x00" + string(data), nil
}

func (soapProtocol) call(ctx context.Context, hc *http.Client, s *Service, params map[string]any) Response {
	c := s.proto.(*soapConfig)
	target, err := s.url(params)
	if err != nil {
		return Response{Outcome: Error, Err: err}
	}
	var sec []byte
	if c.security.passwordType != "" {
		tok := usernameToken{username: c.security.username}
		if c.tokens != nil {
			got, r, ok := c.tokens.get(ctx, hc, s.MaxBody)
			if !ok {
				r.Err = fmt.Errorf("token service: %w", r.Err)
				return r
			}
			tok.digest, tok.nonce, tok.created = got.digest, got.nonce, got.created
		} else if c.security.passwordType == "text" {
			tok.text = c.security.password
		} else {
			tok = localDigest(c.security.username, c.security.password, time.Now())
		}
		sec = tok.header()
	}
	body, err := envelope(c.version, sec, c.operation, c.namespace, params, s.tmpl.uses)
	if err != nil {
		return Response{Outcome: Error, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Response{Outcome: Error, Err: fmt.Errorf("building request: %w", unwrapURL(err))}
	}
	req.Header = s.header.Clone()
	if s.host != "" {
		req.Host = s.host
	}
	if key := idempotencyKey(ctx); key != "" {
		req.Header.Set(HeaderIdempotencyKey, key)
	}
	return exchange(ctx, hc, req, func(resp *http.Response) Response { return soapResponse(ctx, resp, s.MaxBody) })
}

// usernameToken is a WS-Security UsernameToken: a password in the clear,
// or a digest with the nonce and creation time it was computed from.
type usernameToken struct {
	username               string
	text                   string // PasswordText
	digest, nonce, created string // PasswordDigest
}

// localDigest computes a PasswordDigest: Base64(SHA-1(nonce + created +
// password)), over a fresh 16-byte nonce.
func localDigest(username, password string, now time.Time) usernameToken {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	created := now.UTC().Format("2006-01-02T15:04:05.000Z")
	h := sha1.New()
	h.Write(nonce)
	h.Write([]byte(created))
	h.Write([]byte(password))
	return usernameToken{
		username: username,
		digest:   base64.StdEncoding.EncodeToString(h.Sum(nil)),
		nonce:    base64.StdEncoding.EncodeToString(nonce),
		created:  created,
	}
}

func (t usernameToken) header() []byte {
	var b bytes.Buffer
	b.WriteString(`<wsse:Security xmlns:wsse="` + wsseNS + `" xmlns:wsu="` + wsuNS + `"><wsse:UsernameToken><wsse:Username>`)
	_ = xml.EscapeText(&b, []byte(t.username))
	if t.digest == "" {
		b.WriteString(`</wsse:Username><wsse:Password Type="` + passwordTextType + `">`)
		_ = xml.EscapeText(&b, []byte(t.text))
		b.WriteString(`</wsse:Password>`)
	} else {
		b.WriteString(`</wsse:Username><wsse:Password Type="` + passwordDigestType + `">`)
		_ = xml.EscapeText(&b, []byte(t.digest))
		b.WriteString(`</wsse:Password><wsse:Nonce EncodingType="` + base64Encoding + `">`)
		_ = xml.EscapeText(&b, []byte(t.nonce))
		b.WriteString(`</wsse:Nonce><wsu:Created>`)
		_ = xml.EscapeText(&b, []byte(t.created))
		b.WriteString(`</wsu:Created>`)
	}
	b.WriteString(`</wsse:UsernameToken></wsse:Security>`)
	return b.Bytes()
}

// envelope writes a SOAP envelope whose body is one element, operation in
// namespace, with a child element per param (keys sorted; those skip
// reports, the path's, are left out). A list repeats its element; a
// mapping nests.
func envelope(version string, security []byte, operation, namespace string, params map[string]any, skip func(string) bool) ([]byte, error) {
	ns := soap11NS
	if version == "1.2" {
		ns = soap12NS
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="` + ns + `">`)
	if security != nil {
		b.WriteString(`<soap:Header>`)
		b.Write(security)
		b.WriteString(`</soap:Header>`)
	}
	b.WriteString(`<soap:Body><op:` + operation + ` xmlns:op="`)
	_ = xml.EscapeText(&b, []byte(namespace))
	b.WriteString(`">`)
	for _, k := range sortedKeys(params) {
		if skip != nil && skip(k) {
			continue
		}
		if err := writeElement(&b, k, params[k], 0); err != nil {
			return nil, err
		}
	}
	b.WriteString(`</op:` + operation + `></soap:Body></soap:Envelope>`)
	return b.Bytes(), nil
}

// maxDepth bounds the nesting of params written as XML.
const maxDepth = 16

func writeElement(b *bytes.Buffer, name string, v any, depth int) error {
	if !validXMLName(name) {
		return fmt.Errorf("%w: %q is not an XML element name", ErrBadParam, name)
	}
	if depth > maxDepth {
		return fmt.Errorf("%w: %s nests deeper than %d", ErrBadParam, name, maxDepth)
	}
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		for _, e := range v {
			if err := writeElement(b, name, e, depth+1); err != nil {
				return err
			}
		}
		return nil
	case []string:
		for _, e := range v {
			_ = writeElement(b, name, e, depth+1)
		}
		return nil
	case map[string]any:
		b.WriteString("<" + name + ">")
		for _, k := range sortedKeys(v) {
			if err := writeElement(b, k, v[k], depth+1); err != nil {
				return err
			}
		}
		b.WriteString("</" + name + ">")
		return nil
	}
	str, ok := scalar(v)
	if !ok {
		return fmt.Errorf("%w: %s is a %T, not a string, number, bool, list or mapping", ErrBadParam, name, v)
	}
	b.WriteString("<" + name + ">")
	_ = xml.EscapeText(b, []byte(str))
	b.WriteString("</" + name + ">")
	return nil
}

// validXMLName accepts the element names a param may have: a letter or '_'
// first, then letters, digits, '_', '-' and '.'.
func validXMLName(name string) bool {
	if name == "" || strings.HasPrefix(strings.ToLower(name), "xml") {
		return false
	}
	for i, r := range name {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', r == '_':
		case i > 0 && ('0' <= r && r <= '9' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

// SOAPFault is a fault a SOAP back-end answered with. It is Response.Err
// of such calls; errors.As finds it.
type SOAPFault struct {
	Code string // local part: Client or Server (1.1), Sender or Receiver (1.2), or another

	// Reason is the back-end's explanation. It stays out of Error(), which
	// goes to logs: it may quote the request.
	Reason string
}

func (f *SOAPFault) Error() string { return "soap fault " + f.Code }

// soapResponse classifies a SOAP answer. A fault is Rejected when the
// back-end blames the request (code Client in 1.1, Sender in 1.2), Error
// otherwise, whatever the HTTP status. Otherwise the status decides, as for REST, and
// the Body is the JSON form of the body's element (see xmlToJSON).
func soapResponse(ctx context.Context, resp *http.Response, limit int64) Response {
	r := Response{Status: resp.StatusCode}
	data, err := readBody(resp.Body, resp.ContentLength, limit)
	if err != nil {
		r = failure(ctx, err)
		r.Status = resp.StatusCode
		return r
	}
	payload, fault, parseErr := parseEnvelope(data)
	switch code := resp.StatusCode; {
	case fault != nil:
		r.Body = payload
		r.Outcome, r.Err = Error, fault
		if fault.Code == "Client" || fault.Code == "Sender" {
			r.Outcome = Rejected
		}
	case code >= 200 && code < 300:
		if parseErr != nil {
			r.Outcome, r.Err = Error, parseErr
			return r
		}
		r.Body, r.Outcome = payload, OK
	default:
		r.Outcome, r.Err = statusOutcome(code)
	}
	return r
}

// parseEnvelope returns the JSON form of the SOAP body's first element, or
// the fault it carries.
func parseEnvelope(data []byte) (payload []byte, fault *SOAPFault, err error) {
	root, err := parseXML(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrNotXML, err)
	}
	if root.name.Local != "Envelope" || (root.name.Space != soap11NS && root.name.Space != soap12NS) {
		return nil, nil, fmt.Errorf("%w: root element %q", ErrNotXML, root.name.Local)
	}
	body := root.child("Body")
	if body == nil {
		return nil, nil, fmt.Errorf("%w: no Body", ErrNotXML)
	}
	if len(body.children) == 0 {
		return nil, nil, nil
	}
	first := body.children[0]
	if first.name.Local == "Fault" && first.name.Space == root.name.Space {
		f := &SOAPFault{}
		if root.name.Space == soap11NS {
			f.Code, f.Reason = first.text("faultcode"), first.text("faultstring")
		} else {
			if code := first.child("Code"); code != nil {
				f.Code = code.text("Value")
			}
			if reason := first.child("Reason"); reason != nil {
				f.Reason = reason.text("Text")
			}
		}
		if _, local, ok := strings.Cut(f.Code, ":"); ok {
			f.Code = local
		}
		if detail := first.child("detail"); detail != nil {
			payload = detail.json()
		} else if detail := first.child("Detail"); detail != nil {
			payload = detail.json()
		}
		return payload, f, nil
	}
	return first.json(), nil, nil
}

// xmlNode is a parsed element: name, text and child elements.
type xmlNode struct {
	name     xml.Name
	nil      bool // xsi:nil="true"
	chars    strings.Builder
	children []*xmlNode
}

// maxXMLDepth bounds the nesting of an answer, so a hostile one cannot
// cost the parse unbounded stack.
const maxXMLDepth = 64

func parseXML(data []byte) (*xmlNode, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var stack []*xmlNode
	var root *xmlNode
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxXMLDepth {
				return nil, fmt.Errorf("nested deeper than %d", maxXMLDepth)
			}
			n := &xmlNode{name: t.Name}
			for _, a := range t.Attr {
				if a.Name.Local == "nil" && a.Value == "true" {
					n.nil = true
				}
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].chars.Write(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no element")
	}
	return root, nil
}

func (n *xmlNode) child(local string) *xmlNode {
	for _, c := range n.children {
		if c.name.Local == local {
			return c
		}
	}
	return nil
}

func (n *xmlNode) text(local string) string {
	if c := n.child(local); c != nil {
		return strings.TrimSpace(c.chars.String())
	}
	return ""
}

// json is the element's JSON form, the one save: paths read: an element
// without child elements is its text (a string: XML has no numbers), or
// null with xsi:nil="true"; one with children is an object keyed by their
// local names, a name that repeats becoming a list. Attributes,
// namespaces and text beside child elements are left out.
func (n *xmlNode) json() []byte {
	data, _ := json.Marshal(n.value())
	return data
}

func (n *xmlNode) value() any {
	if n.nil {
		return nil
	}
	if len(n.children) == 0 {
		return strings.TrimSpace(n.chars.String())
	}
	obj := make(map[string]any, len(n.children))
	for _, c := range n.children {
		v := c.value()
		switch prev, ok := obj[c.name.Local]; {
		case !ok:
			obj[c.name.Local] = v
		default:
			if list, isList := prev.(repeated); isList {
				obj[c.name.Local] = append(list, v)
			} else {
				obj[c.name.Local] = repeated{prev, v}
			}
		}
	}
	return obj
}

// repeated is the value of an element name that repeats; it marshals as a
// list. (A plain []any could not be told from a first value that is one.)
type repeated []any

func (r repeated) MarshalJSON() ([]byte, error) { return json.Marshal([]any(r)) }

// tokenProvider fetches the UsernameToken of a service from its token
// service and keeps it until shortly before its window closes. It is
// shared by every call of the service.
type tokenProvider struct {
	cfg     *tokenConfig
	version string
	header  http.Header // the service's, but for the action

	mu      sync.Mutex // held while fetching: one fetch at a time
	current *soapToken
}

type soapToken struct {
	digest, nonce, created string
	expires                time.Time
}

// get returns a token valid for a while yet, fetching one if needed. When
// the fetch fails, ok is false and r is how it ended.
func (p *tokenProvider) get(ctx context.Context, hc *http.Client, limit int64) (tok soapToken, r Response, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.current; t != nil && time.Now().Add(tokenRefresh).Before(t.expires) {
		return *t, Response{}, true
	}
	params := make(map[string]any, len(p.cfg.params))
	for k, v := range p.cfg.params {
		params[k] = v
	}
	body, err := envelope(p.version, nil, p.cfg.operation, p.cfg.namespace, params, nil)
	if err != nil {
		return soapToken{}, Response{Outcome: Error, Err: err}, false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.url, bytes.NewReader(body))
	if err != nil {
		return soapToken{}, Response{Outcome: Error, Err: unwrapURL(err)}, false
	}
	req.Header = p.header.Clone()
	r = exchange(ctx, hc, req, func(resp *http.Response) Response { return soapResponse(ctx, resp, limit) })
	if r.Outcome != OK {
		if r.Err == nil {
			r.Err = fmt.Errorf("%w %d", ErrStatus, r.Status)
		}
		if r.Outcome != Timeout {
			r.Outcome = Unavailable
		}
		r.Body = nil
		return soapToken{}, r, false
	}
	f := gjson.GetManyBytes(r.Body, p.cfg.digest, p.cfg.nonce, p.cfg.created, p.cfg.expires)
	t := soapToken{digest: f[0].String(), nonce: f[1].String(), created: f[2].String()}
	expires, err := time.Parse(time.RFC3339Nano, f[3].String())
	if t.digest == "" || t.nonce == "" || t.created == "" || err != nil {
		return soapToken{}, Response{Outcome: Unavailable, Status: r.Status,
			Err: errors.New("answer lacks the digest, nonce, created or an RFC 3339 expires")}, false
	}
	t.expires = expires
	p.current = &t
	return t, Response{}, true
}
