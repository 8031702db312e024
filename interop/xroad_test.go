package interop_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/ventanilla-gob/ventanilla/interop"
)

// securityServer behaves as the X-Road message protocol for REST (r1)
// documents a consumer Security Server behaving: it routes
// /r1/{INSTANCE}/{CLASS}/{MEMBER}/{SUBSYSTEM}/{SERVICECODE}/{path}, requires
// X-Road-Client, echoes X-Road-Id (making one up when the client sent
// none), and answers X-Road's own errors with an X-Road-Error header and a
// JSON {type, message, detail} body. The provider behind it is played by
// service codes:
//
//	citizen      the provider answers 200 with the citizen's record
//	missing      the provider answers 404 (no X-Road-Error: an answer)
//	broken       the provider answers 500 (no X-Road-Error)
//	failing      X-Road: Server.ServerProxy.ServiceFailed (500)
//	network      X-Road: Server.ServerProxy.NetworkError (500)
//	outdated     X-Road: Server.ClientProxy.OutdatedGlobalConf (500)
//	denied       X-Road: Server.ServerProxy.AccessDenied (500)
//	unknown      X-Road: Server.ClientProxy.UnknownService (500)
//	slow         X-Road: Server.ServerProxy.ServiceFailed.Timeout (500)
//	headeronly   X-Road: Server.ServerProxy.DatabaseError, the body not JSON
//	badrequest   X-Road: Client.BadRequest (400)
type securityServer struct {
	t      *testing.T
	url    string
	client string // the X-Road-Client it expects

	mu   sync.Mutex
	seen []xroadRequest
}

type xroadRequest struct {
	Service, Path, Query, Client, ID, UserID string
}

func newSecurityServer(t *testing.T, client string) *securityServer {
	ss := &securityServer{t: t, client: client}
	ss.url = backend(t, ss.serve)
	return ss
}

func (ss *securityServer) requests() []xroadRequest {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return append([]xroadRequest(nil), ss.seen...)
}

func (ss *securityServer) serve(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("X-Road-Id")
	if id == "" {
		id = uuid.NewString()
	}
	w.Header().Set("X-Road-Id", id)

	xroadError := func(status int, typ string) {
		w.Header().Set("X-Road-Error", typ)
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"type": typ, "message": "Connect to 10.0.0.7:8080 failed for /citizens/1714307103", "detail": "3c4d0f08-440f-417f-b935-bc801e103d51",
		})
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	if len(parts) < 6 || parts[0] != "r1" {
		xroadError(400, "Client.BadRequest")
		return
	}
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			xroadError(400, "Client.BadRequest")
			return
		}
		parts[i] = u
	}
	client := r.Header.Get("X-Road-Client")
	if client == "" {
		xroadError(400, "Client.BadRequest")
		return
	}
	if client != ss.client {
		xroadError(500, "Server.ClientProxy.InvalidClientIdentifier")
		return
	}
	ss.mu.Lock()
	ss.seen = append(ss.seen, xroadRequest{
		Service: strings.Join(parts[1:6], "/"), Path: "/" + strings.Join(parts[6:], "/"), Query: r.URL.RawQuery,
		Client: client, ID: r.Header.Get("X-Road-Id"), UserID: r.Header.Get("X-Road-UserId"),
	})
	ss.mu.Unlock()
	w.Header().Set("X-Road-Client", client)
	w.Header().Set("X-Road-Service", strings.Join(parts[1:6], "/"))

	switch code := parts[5]; code {
	case "citizen":
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		_, _ = io.WriteString(w, `{"cedula":"1714307103","name":"María"}`)
	case "missing":
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(404)
		_, _ = io.WriteString(w, `{"error":"no_such_citizen"}`)
	case "broken":
		w.WriteHeader(500)
	case "failing":
		xroadError(500, "Server.ServerProxy.ServiceFailed")
	case "network":
		xroadError(500, "Server.ServerProxy.NetworkError")
	case "outdated":
		xroadError(500, "Server.ClientProxy.OutdatedGlobalConf")
	case "denied":
		xroadError(500, "Server.ServerProxy.AccessDenied")
	case "unknown":
		xroadError(500, "Server.ClientProxy.UnknownService")
	case "slow":
		xroadError(500, "Server.ServerProxy.ServiceFailed.Timeout")
	case "badrequest":
		xroadError(400, "Client.BadRequest")
	case "headeronly":
		w.Header().Set("X-Road-Error", "Server.ServerProxy.DatabaseError")
		w.WriteHeader(500)
		_, _ = io.WriteString(w, "database down")
	default:
		xroadError(500, "Server.ServerProxy.UnknownService")
	}
}

const gatewayClient = "EC/GOB/1760001550001/VENTANILLA"

// xroadClient declares one xroad-rest service per code, each with the ID
// of its code.
func xroadClient(t *testing.T, ss *securityServer, client string, codes ...string) *interop.Client {
	var services []interop.Service
	for _, code := range codes {
		services = append(services, interop.Service{
			ID: code, Kind: interop.KindXRoadREST, BaseURL: ss.url, Path: "/v1/citizens/{cedula}",
			XRoad: interop.XRoad{Client: client, Service: "EC/GOB/1760013210001/REGISTRO/" + code},
		})
	}
	return interop.NewClient(interop.NewRegistry(services...), loopbackClient(t), interop.WithLogger(quiet))
}

func TestXRoadCall(t *testing.T) {
	ss := newSecurityServer(t, gatewayClient)
	c := xroadClient(t, ss, gatewayClient, "citizen")
	ctx := interop.WithUserID(context.Background(), "EC1714307103")

	r := c.Call(ctx, "citizen", map[string]any{"cedula": "1714307103", "fields": "name"})
	if r.Outcome != interop.OK || r.Get("name") != "María" {
		t.Fatalf("Outcome %q, Err %v, body %s", r.Outcome, r.Err, r.Body)
	}
	seen := ss.requests()
	if len(seen) != 1 {
		t.Fatalf("%d requests", len(seen))
	}
	want := xroadRequest{
		Service: "EC/GOB/1760013210001/REGISTRO/citizen", Path: "/v1/citizens/1714307103", Query: "fields=name",
		Client: gatewayClient, ID: r.CorrelationID, UserID: "EC1714307103",
	}
	if seen[0] != want {
		t.Errorf("the Security Server saw\n  %+v\nwant\n  %+v", seen[0], want)
	}
	if _, err := uuid.Parse(r.CorrelationID); err != nil {
		t.Errorf("CorrelationID %q is not a UUID", r.CorrelationID)
	}

	// A fresh X-Road-Id per call; no X-Road-UserId without a citizen.
	r2 := c.Call(context.Background(), "citizen", map[string]any{"cedula": "1714307103"})
	if seen := ss.requests(); r2.CorrelationID == r.CorrelationID || seen[1].ID != r2.CorrelationID || seen[1].UserID != "" {
		t.Errorf("second call: id %q (first %q), seen %+v", r2.CorrelationID, r.CorrelationID, seen[1])
	}
}

func TestXRoadUserID(t *testing.T) {
	ss := newSecurityServer(t, gatewayClient)
	c := xroadClient(t, ss, gatewayClient, "citizen")
	for _, tt := range []struct{ id, sent string }{
		{"EC1714307103", "EC1714307103"},
		{"EE12345678901", "EE12345678901"},
		{"1714307103", ""},        // no country prefix
		{"ec1714307103", ""},      // the prefix is upper case
		{"EC17143\r\nX-A: b", ""}, // never a header injection
		{"EC", ""},
	} {
		c.Call(interop.WithUserID(context.Background(), tt.id), "citizen", map[string]any{"cedula": "1"})
		seen := ss.requests()
		if got := seen[len(seen)-1].UserID; got != tt.sent {
			t.Errorf("WithUserID(%q): sent %q, want %q", tt.id, got, tt.sent)
		}
	}
}

func TestXRoadErrors(t *testing.T) {
	ss := newSecurityServer(t, gatewayClient)
	codes := []string{"missing", "broken", "failing", "network", "outdated", "denied", "unknown", "slow", "headeronly", "badrequest"}
	c := xroadClient(t, ss, gatewayClient, codes...)
	tests := []struct {
		code      string
		want      interop.Outcome
		xroadType string // "" when the provider answered
	}{
		{"missing", interop.NotFound, ""},
		{"broken", interop.Error, ""},
		{"failing", interop.Error, "Server.ServerProxy.ServiceFailed"},
		{"network", interop.Error, "Server.ServerProxy.NetworkError"},
		{"outdated", interop.Error, "Server.ClientProxy.OutdatedGlobalConf"},
		{"denied", interop.Unavailable, "Server.ServerProxy.AccessDenied"},
		{"unknown", interop.Unavailable, "Server.ClientProxy.UnknownService"},
		{"slow", interop.Timeout, "Server.ServerProxy.ServiceFailed.Timeout"},
		{"headeronly", interop.Error, "Server.ServerProxy.DatabaseError"},
		{"badrequest", interop.Rejected, "Client.BadRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			r := c.Call(context.Background(), tt.code, map[string]any{"cedula": "1714307103"})
			if r.Outcome != tt.want || r.Status == 0 || r.CorrelationID == "" {
				t.Errorf("Outcome %q (want %q), Status %d, CorrelationID %q, Err %v", r.Outcome, tt.want, r.Status, r.CorrelationID, r.Err)
			}
			var xe *interop.XRoadError
			switch {
			case tt.xroadType == "" && errors.As(r.Err, &xe):
				t.Errorf("the provider answered, yet Err is %v", r.Err)
			case tt.xroadType != "" && (!errors.As(r.Err, &xe) || xe.Type != tt.xroadType):
				t.Errorf("Err %v, want an XRoadError of type %s", r.Err, tt.xroadType)
			case tt.xroadType != "" && strings.Contains(r.Err.Error(), "1714307103"):
				t.Errorf("Err repeats X-Road's message, which may name the citizen: %v", r.Err)
			}
		})
	}

	t.Run("an identity X-Road does not know is unavailable", func(t *testing.T) {
		// The Security Server does not know this client identity.
		other := xroadClient(t, ss, "EC/GOB/9999999999001/OTRO", "citizen")
		r := other.Call(context.Background(), "citizen", map[string]any{"cedula": "1"})
		var xe *interop.XRoadError
		if r.Outcome != interop.Unavailable || !errors.As(r.Err, &xe) || xe.Type != "Server.ClientProxy.InvalidClientIdentifier" {
			t.Errorf("Outcome %q, Err %v", r.Outcome, r.Err)
		}
	})
}

func TestXRoadOutcomeMapping(t *testing.T) {
	for typ, want := range map[string]interop.Outcome{
		"Client.BadRequest":                          interop.Rejected,
		"Client.InvalidHttpMethod":                   interop.Rejected,
		"Client":                                     interop.Rejected,
		"Server.ServerProxy.ServiceFailed":           interop.Error,
		"Server.ServerProxy.ServiceFailed.HttpError": interop.Error,
		"Server.ServerProxy.NetworkError":            interop.Error,
		"Server.ClientProxy.NetworkError":            interop.Error,
		"Server.ServerProxy.DatabaseError":           interop.Error,
		"Server.ClientProxy.SslAuthenticationFailed": interop.Error,
		"Server.ServerProxy.Timeout":                 interop.Timeout,
		"Server.ClientProxy.ReadTimeout":             interop.Timeout,
		"Server.ServerProxy.AccessDenied":            interop.Unavailable,
		"Server.ServerProxy.ServiceDisabled":         interop.Unavailable,
		"Server.ClientProxy.UnknownMember":           interop.Unavailable,
		"Signer.KeyNotFound":                         interop.Error,
		"":                                           interop.Error,
	} {
		t.Run(typ, func(t *testing.T) {
			ss := backend(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Road-Error", cmpOr(typ, "x"))
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(500)
				fmt.Fprintf(w, `{"type":%q}`, typ)
			})
			c := interop.NewClient(interop.NewRegistry(interop.Service{
				ID: "s", Kind: interop.KindXRoadREST, BaseURL: ss,
				XRoad: interop.XRoad{Client: "EC/GOB/1", Service: "EC/GOB/2/svc"},
			}), loopbackClient(t), interop.WithLogger(quiet))
			if r := c.Call(context.Background(), "s", nil); r.Outcome != want {
				t.Errorf("%q → %q, want %q", typ, r.Outcome, want)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestXRoadIdentifiersAreEscaped(t *testing.T) {
	seen := make(chan string, 2)
	url := backend(t, func(w http.ResponseWriter, r *http.Request) {
		seen <- r.URL.EscapedPath()
		seen <- r.Header.Get("X-Road-Client")
		w.WriteHeader(204)
	})
	c := interop.NewClient(interop.NewRegistry(interop.Service{
		ID: "s", Kind: interop.KindXRoadREST, BaseURL: url + "/", Path: "/v1/x",
		XRoad: interop.XRoad{Client: "EC/GOB/ACME SA", Service: "EC/GOB/1760013210001/consulta ciudadano"},
	}), loopbackClient(t), interop.WithLogger(quiet))
	if r := c.Call(context.Background(), "s", nil); r.Outcome != interop.OK {
		t.Fatalf("%q %v", r.Outcome, r.Err)
	}
	if path, client := <-seen, <-seen; path != "/r1/EC/GOB/1760013210001/consulta%20ciudadano/v1/x" || client != "EC/GOB/ACME%20SA" {
		t.Errorf("path %s, X-Road-Client %s", path, client)
	}
}

func TestXRoadRetriesAndBreaker(t *testing.T) {
	ss := newSecurityServer(t, gatewayClient)
	c := interop.NewClient(interop.NewRegistry(interop.Service{
		ID: "failing", Kind: interop.KindXRoadREST, BaseURL: ss.url,
		XRoad:   interop.XRoad{Client: gatewayClient, Service: "EC/GOB/1/REG/failing"},
		Retry:   interop.Retry{Attempts: 2, Backoff: 1e6, MaxBackoff: 1e6},
		Breaker: interop.Breaker{Failures: 2, OpenFor: 60e9},
	}), loopbackClient(t), interop.WithLogger(quiet))
	r := c.Call(context.Background(), "failing", nil)
	seen := ss.requests()
	if r.Attempts != 2 || len(seen) != 2 || seen[0].ID == seen[1].ID || r.CorrelationID != seen[1].ID {
		t.Errorf("Attempts %d, requests %+v, CorrelationID %q", r.Attempts, seen, r.CorrelationID)
	}
	c.Call(context.Background(), "failing", nil)
	if got := c.CircuitState("failing"); got != interop.CircuitOpen {
		t.Errorf("circuit %q after two failed calls", got)
	}
}

func TestXRoadCacheIsPerCitizen(t *testing.T) {
	ss := newSecurityServer(t, gatewayClient)
	c := interop.NewClient(interop.NewRegistry(interop.Service{
		ID: "citizen", Kind: interop.KindXRoadREST, BaseURL: ss.url, Path: "/v1/me",
		XRoad: interop.XRoad{Client: gatewayClient, Service: "EC/GOB/1/REG/citizen"},
		Cache: 60e9,
	}), loopbackClient(t), interop.WithLogger(quiet))
	ana := interop.WithUserID(context.Background(), "EC1714307103")
	luis := interop.WithUserID(context.Background(), "EC0926687856")
	for _, ctx := range []context.Context{ana, luis, ana, luis} {
		if r := c.Call(ctx, "citizen", nil); r.Outcome != interop.OK {
			t.Fatalf("%q %v", r.Outcome, r.Err)
		}
	}
	if n := len(ss.requests()); n != 2 {
		t.Errorf("%d requests, want one per citizen", n)
	}
}
