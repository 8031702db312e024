package interop_test

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/interop"
)

const (
	soap11 = "http://schemas.xmlsoap.org/soap/envelope/"
	soap12 = "http://www.w3.org/2003/05/soap-envelope"
	wsse   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	wsu    = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"

	passwordText   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
	passwordDigest = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
	registroNS     = "http://registro.example/ws"
)

// soapRequest is what the test server reads of an envelope.
type soapRequest struct {
	XMLName xml.Name
	Header  struct {
		Security *struct {
			XMLName xml.Name `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd Security"`
			Token   struct {
				Username string `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd Username"`
				Password struct {
					Type  string `xml:"Type,attr"`
					Value string `xml:",chardata"`
				} `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd Password"`
				Nonce   string `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd Nonce"`
				Created string `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd Created"`
			} `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd UsernameToken"`
		}
	} `xml:"Header"`
	Body struct {
		Op struct {
			XMLName xml.Name
			Cedula  string `xml:"cedula"`
			Tipo    string `xml:"tipo"`
		} `xml:",any"`
	} `xml:"Body"`
}

// soapServer is a SOAP back-end written for the tests: it checks the
// envelope, its version's headers and the security header, and answers as
// answer says.
type soapServer struct {
	t        *testing.T
	version  string // "1.1" or "1.2"
	action   string
	security string // "", "text" or "digest"
	password string // text and digest
	digest   func() (digest, nonce, created string, ok bool)

	mu       sync.Mutex
	requests []soapRequest
	keys     []string // Idempotency-Key headers
}

func (s *soapServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ns := soap11
	if s.version == "1.2" {
		ns = soap12
	}
	ct := r.Header.Get("Content-Type")
	switch s.version {
	case "1.1":
		if ct != "text/xml; charset=utf-8" || r.Header.Get("SOAPAction") != `"`+s.action+`"` {
			s.t.Errorf("1.1 headers: Content-Type %q, SOAPAction %q", ct, r.Header.Get("SOAPAction"))
		}
	case "1.2":
		if ct != `application/soap+xml; charset=utf-8; action="`+s.action+`"` || r.Header.Get("SOAPAction") != "" {
			s.t.Errorf("1.2 headers: Content-Type %q, SOAPAction %q", ct, r.Header.Get("SOAPAction"))
		}
	}
	var req soapRequest
	data, _ := io.ReadAll(r.Body)
	if err := xml.Unmarshal(data, &req); err != nil {
		s.t.Errorf("request is not XML: %v\n%s", err, data)
	}
	if req.XMLName.Space != ns || req.XMLName.Local != "Envelope" {
		s.t.Errorf("envelope %v, want {%s Envelope}", req.XMLName, ns)
	}
	if req.Body.Op.XMLName != (xml.Name{Space: registroNS, Local: "consultarCiudadano"}) {
		s.t.Errorf("body element %v", req.Body.Op.XMLName)
	}
	s.checkSecurity(req)
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.keys = append(s.keys, r.Header.Get("Idempotency-Key"))
	s.mu.Unlock()

	if s.version == "1.2" {
		w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	}
	switch req.Body.Op.Cedula {
	case "0000000000": // unknown citizen: the back-end blames the request
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, fault(s.version, true, "Cédula no registrada"))
	case "9999999999": // the back-end's own failure
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, fault(s.version, false, "Base de datos no disponible"))
	case "1111111111":
		fmt.Fprint(w, "<html>proxy error</html>")
	default:
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="%s"><soap:Body>
  <r:consultarCiudadanoResponse xmlns:r="%s" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
    <return>
      <cedula>%s</cedula><nombre>ANA MARÍA &amp; CÍA</nombre><conyuge xsi:nil="true"/>
      <hijo><nombre>Luis</nombre></hijo><hijo><nombre>Rosa</nombre></hijo>
    </return>
  </r:consultarCiudadanoResponse>
</soap:Body></soap:Envelope>`, ns, registroNS, req.Body.Op.Cedula)
	}
}

func (s *soapServer) checkSecurity(req soapRequest) {
	sec := req.Header.Security
	if s.security == "" {
		if sec != nil {
			s.t.Errorf("a security header without security: %+v", sec)
		}
		return
	}
	if sec == nil {
		s.t.Errorf("no wsse:Security header")
		return
	}
	tok := sec.Token
	if tok.Username != "ventanilla" {
		s.t.Errorf("Username %q", tok.Username)
	}
	switch s.security {
	case "text":
		if tok.Password.Type != passwordText || tok.Password.Value != s.password || tok.Nonce != "" {
			s.t.Errorf("PasswordText token %+v", tok)
		}
	case "digest":
		if tok.Password.Type != passwordDigest {
			s.t.Errorf("Password Type %q", tok.Password.Type)
		}
		if s.digest != nil {
			digest, nonce, created, ok := s.digest()
			if !ok || tok.Password.Value != digest || tok.Nonce != nonce || tok.Created != created {
				s.t.Errorf("token %+v, want the token service's %q %q %q", tok, digest, nonce, created)
			}
			return
		}
		nonce, err := base64.StdEncoding.DecodeString(tok.Nonce)
		created, errT := time.Parse(time.RFC3339Nano, tok.Created)
		if err != nil || len(nonce) != 16 || errT != nil || time.Since(created) > time.Minute || time.Since(created) < -time.Minute {
			s.t.Errorf("nonce %q (%v) or created %q (%v)", tok.Nonce, err, tok.Created, errT)
		}
		h := sha1.Sum([]byte(string(nonce) + tok.Created + s.password))
		if want := base64.StdEncoding.EncodeToString(h[:]); tok.Password.Value != want {
			s.t.Errorf("PasswordDigest %q, want %q", tok.Password.Value, want)
		}
	}
}

func fault(version string, client bool, reason string) string {
	if version == "1.2" {
		code := "soap:Receiver"
		if client {
			code = "soap:Sender"
		}
		return `<soap:Envelope xmlns:soap="` + soap12 + `"><soap:Body><soap:Fault>
<soap:Code><soap:Value>` + code + `</soap:Value></soap:Code>
<soap:Reason><soap:Text xml:lang="es">` + reason + `</soap:Text></soap:Reason>
<soap:Detail><error><codigo>E17</codigo></error></soap:Detail>
</soap:Fault></soap:Body></soap:Envelope>`
	}
	code := "soap:Server"
	if client {
		code = "soap:Client"
	}
	return `<soap:Envelope xmlns:soap="` + soap11 + `"><soap:Body><soap:Fault>
<faultcode>` + code + `</faultcode><faultstring>` + reason + `</faultstring>
<detail><error><codigo>E17</codigo></error></detail>
</soap:Fault></soap:Body></soap:Envelope>`
}

func soapYAML(version, security string) string {
	y := `services:
  registro.ciudadano:
    kind: soap
    base_url: ${URL}
    path: /ws/registro
    soap:
      version: "` + version + `"
      action: urn:consultarCiudadano
      operation: consultarCiudadano
      namespace: ` + registroNS + "\n"
	if security != "" {
		y += `      security:
        password_type: ` + security + `
        username: ${SOAP_USER}
        password: ${SOAP_PASSWORD}
`
	}
	return y
}

func soapClient(t *testing.T, yaml string, vars map[string]string) *interop.Client {
	t.Helper()
	reg, err := interop.ParseRegistry("services.yaml", []byte(yaml), env(vars))
	if err != nil {
		t.Fatal(err)
	}
	return interop.NewClient(reg, nil)
}

// A SOAP call sends the params as the operation's elements in the
// version's envelope, with the UsernameToken asked for, and save: reads
// the answer's body with the same paths as a JSON answer.
func TestSOAPCall(t *testing.T) {
	for _, version := range []string{"1.1", "1.2"} {
		for _, security := range []string{"", "text", "digest"} {
			t.Run(version+"/"+security, func(t *testing.T) {
				srv := &soapServer{t: t, version: version, action: "urn:consultarCiudadano", security: security, password: "s3cr<t&"}
				ts := httptest.NewServer(srv)
				defer ts.Close()
				c := soapClient(t, soapYAML(version, security), map[string]string{
					"URL": ts.URL, "SOAP_USER": "ventanilla", "SOAP_PASSWORD": "s3cr<t&"})

				ctx := interop.WithIdempotencyKey(context.Background(), "conv-1/step-3")
				r := c.Call(ctx, "registro.ciudadano", map[string]any{"cedula": "1714307103", "tipo": "completa"})
				if r.Outcome != interop.OK || r.Err != nil {
					t.Fatalf("Outcome %q, Err %v", r.Outcome, r.Err)
				}
				for path, want := range map[string]any{
					"return.cedula":        "1714307103",
					"return.nombre":        "ANA MARÍA & CÍA",
					"return.conyuge":       nil,
					"return.hijo.#":        int64(2),
					"return.hijo.1.nombre": "Rosa",
				} {
					if got := r.Get(path); got != want {
						t.Errorf("Get(%q) = %#v, want %#v", path, got, want)
					}
				}
				if len(srv.requests) != 1 || srv.requests[0].Body.Op.Tipo != "completa" || srv.keys[0] != "conv-1/step-3" {
					t.Errorf("requests %+v, Idempotency-Key %q", srv.requests, srv.keys)
				}
			})
		}
	}
}

// A SOAP Fault is the call's error outcome: Rejected when the back-end
// blames the request, Error when it fails itself; the fault's detail is
// kept for save:, and its reason stays out of the logs.
func TestSOAPFault(t *testing.T) {
	for _, version := range []string{"1.1", "1.2"} {
		srv := &soapServer{t: t, version: version, action: "urn:consultarCiudadano"}
		ts := httptest.NewServer(srv)
		defer ts.Close()
		c := soapClient(t, soapYAML(version, ""), map[string]string{"URL": ts.URL})
		for _, tt := range []struct {
			cedula  string
			outcome interop.Outcome
			code    string
			reason  string
		}{
			{"0000000000", interop.Rejected, map[string]string{"1.1": "Client", "1.2": "Sender"}[version], "Cédula no registrada"},
			{"9999999999", interop.Error, map[string]string{"1.1": "Server", "1.2": "Receiver"}[version], "Base de datos no disponible"},
		} {
			r := c.Call(context.Background(), "registro.ciudadano", map[string]any{"cedula": tt.cedula})
			var f *interop.SOAPFault
			if r.Outcome != tt.outcome || r.Status != 500 || !errors.As(r.Err, &f) || f.Code != tt.code || f.Reason != tt.reason {
				t.Errorf("%s %s: Outcome %q, Status %d, Err %#v", version, tt.cedula, r.Outcome, r.Status, r.Err)
				continue
			}
			if strings.Contains(r.Err.Error(), tt.reason) {
				t.Errorf("Error() %q quotes the reason", r.Err)
			}
			if got := r.Get("error.codigo"); got != "E17" {
				t.Errorf("%s: fault detail error.codigo = %#v", version, got)
			}
		}
		r := c.Call(context.Background(), "registro.ciudadano", map[string]any{"cedula": "1111111111"})
		if r.Outcome != interop.Error || !errors.Is(r.Err, interop.ErrNotXML) || r.Body != nil {
			t.Errorf("%s: an HTML answer: Outcome %q, Err %v", version, r.Outcome, r.Err)
		}
	}
}

// tokenService is a BSG-style token service: each request gets a digest,
// nonce and creation time to put in the real call's UsernameToken, valid
// until expires.
type tokenService struct {
	t       *testing.T
	expires time.Duration // after now; negative: already closed
	fail    bool

	mu      sync.Mutex
	calls   int
	current [3]string
}

func (s *tokenService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		XMLName xml.Name
		Body    struct {
			Op struct {
				XMLName xml.Name
				Cedula  string `xml:"Cedula"`
				Urlsw   string `xml:"Urlsw"`
			} `xml:",any"`
		} `xml:"Body"`
	}
	data, _ := io.ReadAll(r.Body)
	if err := xml.Unmarshal(data, &req); err != nil || req.XMLName.Space != soap11 ||
		req.Body.Op.XMLName != (xml.Name{Space: "http://bsg.example/autorizacion", Local: "validarPermisoPeticion"}) ||
		req.Body.Op.Cedula != "1760001550001" || req.Body.Op.Urlsw != "https://registro.example/ws" {
		s.t.Errorf("token request %v: %s", err, data)
	}
	if got := r.Header.Get("SOAPAction"); got != `""` {
		s.t.Errorf("token request SOAPAction %q, want the empty action", got)
	}
	if s.fail {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, fault("1.1", true, "Sin permiso"))
		return
	}
	s.mu.Lock()
	s.calls++
	now := time.Now().UTC()
	s.current = [3]string{fmt.Sprintf("ZGlnZXN0LSVk%d", s.calls), fmt.Sprintf("bm9uY2Ut%d", s.calls), now.Format(time.RFC3339)}
	cur := s.current
	s.mu.Unlock()
	fmt.Fprintf(w, `<soap:Envelope xmlns:soap="%s"><soap:Body><ns2:validarPermisoPeticionResponse xmlns:ns2="http://bsg.example/autorizacion">
<return><TienePermiso>S</TienePermiso><Digest>%s</Digest><Nonce>%s</Nonce><Fecha>%s</Fecha><FechaF>%s</FechaF></return>
</ns2:validarPermisoPeticionResponse></soap:Body></soap:Envelope>`, soap11, cur[0], cur[1], cur[2], now.Add(s.expires).Format(time.RFC3339))
}

func (s *tokenService) token() (string, string, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current[0], s.current[1], s.current[2], s.calls > 0
}

const tokenYAML = `
      security:
        password_type: digest
        username: ${SOAP_USER}
        token:
          url: ${TOKEN_URL}
          operation: validarPermisoPeticion
          namespace: http://bsg.example/autorizacion
          params:
            Cedula: "1760001550001"
            Urlsw: https://registro.example/ws
          digest: return.Digest
          nonce: return.Nonce
          created: return.Fecha
          expires: return.FechaF
`

// With a token service, a call's UsernameToken carries the digest, nonce
// and creation time the token service gave, fetched once and used until
// its window closes.
func TestSOAPTokenService(t *testing.T) {
	for _, tt := range []struct {
		name    string
		expires time.Duration
		calls   int
		fetches int
	}{
		{"a token is kept while its window is open", time.Hour, 3, 1},
		{"a token whose window closed is fetched again", -time.Minute, 3, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tokens := &tokenService{t: t, expires: tt.expires}
			ts := httptest.NewServer(tokens)
			defer ts.Close()
			srv := &soapServer{t: t, version: "1.1", action: "urn:consultarCiudadano", security: "digest", digest: tokens.token}
			bs := httptest.NewServer(srv)
			defer bs.Close()
			c := soapClient(t, soapYAML("1.1", "")+tokenYAML, map[string]string{
				"URL": bs.URL, "TOKEN_URL": ts.URL, "SOAP_USER": "ventanilla"})
			for range tt.calls {
				if r := c.Call(context.Background(), "registro.ciudadano", map[string]any{"cedula": "1714307103"}); r.Outcome != interop.OK {
					t.Fatalf("Outcome %q, Err %v", r.Outcome, r.Err)
				}
			}
			if tokens.calls != tt.fetches || len(srv.requests) != tt.calls {
				t.Errorf("%d token fetches for %d calls, want %d", tokens.calls, len(srv.requests), tt.fetches)
			}
		})
	}

	t.Run("a token service that refuses makes the service unavailable", func(t *testing.T) {
		tokens := &tokenService{t: t, fail: true}
		ts := httptest.NewServer(tokens)
		defer ts.Close()
		srv := &soapServer{t: t, version: "1.1", action: "urn:consultarCiudadano", security: "digest", digest: tokens.token}
		bs := httptest.NewServer(srv)
		defer bs.Close()
		c := soapClient(t, soapYAML("1.1", "")+tokenYAML, map[string]string{
			"URL": bs.URL, "TOKEN_URL": ts.URL, "SOAP_USER": "ventanilla"})
		r := c.Call(context.Background(), "registro.ciudadano", map[string]any{"cedula": "1714307103"})
		var f *interop.SOAPFault
		if r.Outcome != interop.Unavailable || !errors.As(r.Err, &f) || f.Code != "Client" || len(srv.requests) != 0 {
			t.Errorf("Outcome %q, Err %v, %d calls reached the back-end", r.Outcome, r.Err, len(srv.requests))
		}
	})
}

// Mistakes in a soap block stop the load at their key.
func TestSOAPConfigErrors(t *testing.T) {
	vars := env(map[string]string{"URL": "http://127.0.0.1", "SECRET": "s"})
	const head = "services:\n  a:\n    kind: soap\n    base_url: ${URL}\n"
	const ok = "    soap:\n      operation: consultar\n      namespace: urn:x\n"
	for _, tt := range []struct{ name, yaml, want string }{
		{"no soap block", head,
			"services.yaml:2:3: services.a.soap.operation: required: the local name of the body's element, e.g. consultarCiudadano\n" +
				"services.yaml:2:3: services.a.soap.namespace: required: the namespace of the operation's element"},
		{"misspelled key", head + "    soap:\n      operatoin: consultar\n      namespace: urn:x\n",
			"services.yaml:5:5: services.a.soap.operation: required: the local name of the body's element, e.g. consultarCiudadano\n" +
				`services.yaml:6:7: services.a.soap.operatoin: unknown field "operatoin" (did you mean "operation"?)`},
		{"unknown version", head + ok + "      version: \"1.3\"\n",
			`services.yaml:8:7: services.a.soap.version: want "1.1" or "1.2", got "1.3"`},
		{"GET", head + "    method: GET\n" + ok,
			`services.yaml:5:5: services.a.method: a SOAP call is always POST, got GET`},
		{"soap on a REST service", "services:\n  a:\n    base_url: ${URL}\n" + ok,
			`services.yaml:4:5: services.a.soap: only for kind soap`},
		{"misspelled password type", head + ok + "      security: {password_type: digets, username: \"${SECRET}\", password: \"${SECRET}\"}\n",
			`services.yaml:8:18: services.a.soap.security.password_type: unknown password type "digets" (did you mean "digest"? known: text, digest)`},
		{"literal password", head + ok + "      security: {password_type: text, username: \"${SECRET}\", password: hunter2}\n",
			`services.yaml:8:62: services.a.soap.security.password: secrets come from the environment: write ${VARIABLE} and set it, not the secret itself`},
		{"token service with text", head + ok + "      security:\n        password_type: text\n        username: ${SECRET}\n        token: {url: \"${URL}\", operation: t, namespace: urn:t, digest: d, nonce: n, created: c, expires: e}\n",
			`services.yaml:9:9: services.a.soap.security.password_type: a token service gives a digest: password_type must be digest`},
		{"token service without paths", head + ok + "      security:\n        password_type: digest\n        username: ${SECRET}\n        token: {url: \"${URL}\", operation: t, namespace: urn:t, digest: d, nonce: n, created: c}\n",
			`services.yaml:11:9: services.a.soap.security.token.expires: required: the path of the expires in the token service's answer`},
		{"SOAPAction in headers", head + ok + "    headers:\n      SOAPAction: x\n",
			`services.yaml:9:7: services.a.headers.SOAPAction: set by the gateway on every SOAP call`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reg, err := interop.ParseRegistry("services.yaml", []byte(tt.yaml), vars)
			if err == nil {
				t.Fatalf("no error; registry has %q", reg.IDs())
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n  %v\nwant:\n  %s", err, tt.want)
			}
		})
	}
}

// BenchmarkCallSOAP is BenchmarkCall's round trip for a SOAP 1.1 service
// with a PasswordDigest: the envelope, the digest over a fresh nonce, and
// the answer's twelve slots turned into JSON for save:.
func BenchmarkCallSOAP(b *testing.B) {
	var answer strings.Builder
	answer.WriteString(`<soap:Envelope xmlns:soap="` + soap11 + `"><soap:Body><r:slotsResponse xmlns:r="urn:turnos">`)
	for _, d := range []string{"2026-11-24", "2026-11-25", "2026-11-26"} {
		for _, h := range []string{"09:00", "10:30", "14:00", "15:30"} {
			answer.WriteString(`<slot><id>` + d + "T" + h + `</id><date>` + d + `</date><time>` + h + `</time></slot>`)
		}
	}
	answer.WriteString(`</r:slotsResponse></soap:Body></soap:Envelope>`)
	url := backend(b, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = io.WriteString(w, answer.String())
	})
	reg, err := interop.ParseRegistry("services.yaml", []byte(`services:
  turnos.slots:
    kind: soap
    base_url: ${URL}
    soap:
      operation: slots
      namespace: urn:turnos
      security: {password_type: digest, username: "${USER}", password: "${PASSWORD}"}
`), env(map[string]string{"URL": url, "USER": "ventanilla", "PASSWORD": "s"}))
	if err != nil {
		b.Fatal(err)
	}
	c := interop.NewClient(reg, loopbackClient(b), interop.WithLogger(quiet))
	params := map[string]any{"office": "quito-norte", "from": "2026-11-24"}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		if r := c.Call(ctx, "turnos.slots", params); r.Outcome != interop.OK || r.Get("slot.11.time") != "15:30" {
			b.Fatalf("%q %v", r.Outcome, r.Err)
		}
	}
}
