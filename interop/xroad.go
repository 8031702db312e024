package interop

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/tidwall/gjson"
	"gopkg.in/yaml.v3"
)

// X-Road headers (message protocol for REST, r1).
const (
	headerXRoadClient = "X-Road-Client"
	headerXRoadID     = "X-Road-Id"
	headerXRoadUserID = "X-Road-Userid" // canonical form of X-Road-UserId
	headerXRoadError  = "X-Road-Error"
)

// xroadOwnHeaders are set by the gateway on every X-Road call; a services
// file may not set them (X-Road-Issue or X-Road-Security-Server it may).
var xroadOwnHeaders = []string{headerXRoadClient, headerXRoadID, headerXRoadUserID}

// xroadIDs is a compiled XRoad.
type xroadIDs struct {
	client string // X-Road-Client value, parts percent-encoded
}

// xroadProtocol calls KindXRoadREST services: the REST protocol, sent to
// the Security Server with the X-Road headers, and X-Road's own errors told
// apart from the provider's answers.
type xroadProtocol struct{}

var _ protocol = xroadProtocol{}

func (xroadProtocol) kind() string { return KindXRoadREST }

func (xroadProtocol) fields() map[string]func(d *serviceDecoder, v *yaml.Node) {
	return map[string]func(d *serviceDecoder, v *yaml.Node){
		"xroad": func(d *serviceDecoder, v *yaml.Node) {
			x := &d.s.XRoad
			d.block(v, "xroad", map[string]func(*yaml.Node){
				"client":  func(v *yaml.Node) { x.Client = d.str(v, "xroad.client", true) },
				"service": func(v *yaml.Node) { x.Service = d.str(v, "xroad.service", true) },
			})
		},
	}
}

// prepare checks the identities and puts the service's id in the URL
// prefix: {security server}/r1/{INSTANCE}/{CLASS}/{MEMBER}[/{SUBSYSTEM}]/{SERVICECODE}.
func (xroadProtocol) prepare(s *Service, bad func(field, format string, args ...any)) {
	if s.Kind != KindXRoadREST {
		if s.XRoad != (XRoad{}) {
			bad("xroad", "only for kind %s", KindXRoadREST)
		}
		return
	}
	for _, name := range sortedKeys(s.Headers) {
		if canon := http.CanonicalHeaderKey(name); slices.Contains(xroadOwnHeaders, canon) {
			bad("headers."+name, "set by the gateway on every X-Road call")
			s.header.Del(canon)
		}
	}
	client, errC := xroadID(s.XRoad.Client, 3, 4, "INSTANCE/CLASS/MEMBER/SUBSYSTEM")
	if errC != nil {
		bad("xroad.client", "%v", errC)
	}
	service, errS := xroadID(s.XRoad.Service, 4, 5, "INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICECODE")
	if errS != nil {
		bad("xroad.service", "%v", errS)
	}
	if errC != nil || errS != nil {
		return
	}
	s.xroad = &xroadIDs{client: client}
	if s.prefix != "" {
		s.prefix += "/r1/" + service
	}
}

// xroadID checks an identifier of min to max "/"-separated parts and
// returns it with each part percent-encoded, as the protocol asks.
func xroadID(id string, min, max int, form string) (string, error) {
	if id == "" {
		return "", fmt.Errorf("required, as %s", form)
	}
	parts := strings.Split(id, "/")
	if len(parts) < min || len(parts) > max {
		return "", fmt.Errorf("want %s (the subsystem may be left out), got %q", form, id)
	}
	for i, p := range parts {
		if p == "" || strings.TrimSpace(p) != p {
			return "", fmt.Errorf("part %d of %q is empty or padded with spaces", i+1, id)
		}
		for _, r := range p {
			if r < 0x20 || r == 0x7f {
				return "", fmt.Errorf("part %d of %q has a control character", i+1, id)
			}
		}
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/"), nil
}

type userIDKey struct{}

// WithUserID returns a context that carries the citizen on whose behalf
// calls are made, as X-Road wants it: an ISO 3166 two-letter country code
// and the person's id, e.g. "EC1714307103". X-Road services send it as
// X-Road-UserId; other kinds ignore it. A value that is not of that form
// is not sent.
func WithUserID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, userIDKey{}, id)
}

// userID returns the context's user id when it is fit to send.
func userID(ctx context.Context) string {
	id, _ := ctx.Value(userIDKey{}).(string)
	if len(id) < 3 || len(id) > 64 {
		return ""
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case i < 2 && 'A' <= c && c <= 'Z':
		case i >= 2 && c > ' ' && c < 0x7f:
		default:
			return ""
		}
	}
	return id
}

// cacheKey adds the citizen on whose behalf the call is made: the provider
// may answer each differently.
func (xroadProtocol) cacheKey(ctx context.Context, s *Service, params map[string]any) (string, error) {
	key, err := restProtocol{}.cacheKey(ctx, s, params)
	if err != nil {
		return "", err
	}
	return key + "\x00" + userID(ctx), nil
}

func (xroadProtocol) call(ctx context.Context, hc *http.Client, s *Service, params map[string]any) Response {
	id := uuid.NewString()
	req, err := s.request(ctx, params)
	if err != nil {
		return Response{Outcome: Error, Err: err, CorrelationID: id}
	}
	req.Header.Set(headerXRoadClient, s.xroad.client)
	req.Header.Set(headerXRoadID, id)
	if u := userID(ctx); u != "" {
		req.Header.Set(headerXRoadUserID, u)
	}
	r := exchange(ctx, hc, req, func(resp *http.Response) Response {
		if resp.Header.Get(headerXRoadError) != "" {
			return s.xroadError(ctx, resp)
		}
		return s.response(ctx, resp)
	})
	r.CorrelationID = id
	return r
}

// XRoadError is an error raised by X-Road itself (a Security Server), not
// by the provider: the response carried an X-Road-Error header. It is
// Response.Err of such calls; errors.As finds it.
type XRoadError struct {
	Type   string // e.g. "Server.ServerProxy.ServiceFailed"
	Detail string // X-Road's reference for its logs, usually a UUID

	// Message is X-Road's explanation. It stays out of Error(), which goes
	// to logs: it may quote hosts or the request.
	Message string
}

func (e *XRoadError) Error() string {
	if e.Detail == "" {
		return "x-road error " + e.Type
	}
	return "x-road error " + e.Type + " (detail " + e.Detail + ")"
}

// xroadError reads an X-Road error response: JSON {type, message, detail},
// the type also in the X-Road-Error header.
func (s *Service) xroadError(ctx context.Context, resp *http.Response) Response {
	r := Response{Status: resp.StatusCode}
	e := &XRoadError{Type: resp.Header.Get(headerXRoadError)}
	body, err := readBody(resp.Body, resp.ContentLength, s.MaxBody)
	if err != nil {
		// A Security Server that stalls mid-error is still X-Road failing.
		r = failure(ctx, err)
		r.Status = resp.StatusCode
		return r
	}
	if len(body) > 0 && gjson.ValidBytes(body) {
		r.Body = body
		fields := gjson.GetManyBytes(body, "type", "message", "detail")
		if t := fields[0].String(); t != "" {
			e.Type = t
		}
		e.Message, e.Detail = fields[1].String(), fields[2].String()
	}
	r.Outcome, r.Err = xroadOutcome(e.Type), e
	return r
}

// xroadOutcome maps an X-Road error type to an Outcome:
//
//   - Client.*: the request broke the protocol (Client.BadRequest, an
//     invalid client id, a missing header): Rejected, as any refusal of the
//     request; retrying the same request cannot help.
//   - Server.{ClientProxy,ServerProxy}.* whose code names a timeout
//     (…Timeout…): Timeout.
//   - Server.*.AccessDenied, UnknownService, UnknownMember,
//     ServiceDisabled, ServiceMissingUrl, ServiceMalformedUrl,
//     InvalidClientIdentifier: Unavailable. X-Road will not route this
//     gateway to this service until someone changes configuration or
//     access rights; for the citizen the service is not available, and
//     neither a retry nor other input changes that.
//   - every other Server.* (ServiceFailed, NetworkError, DatabaseError,
//     InternalError, OutdatedGlobalConf, SslAuthenticationFailed, …) and
//     any unknown type: Error, as a failing back-end. X-Road reports a
//     provider that timed out as NetworkError or ServiceFailed, so these
//     are Error, not Timeout.
func xroadOutcome(typ string) Outcome {
	if typ == "Client" || strings.HasPrefix(typ, "Client.") {
		return Rejected
	}
	if !strings.HasPrefix(typ, "Server.") {
		return Error
	}
	for _, code := range strings.Split(typ, ".")[1:] {
		switch {
		case strings.Contains(code, "Timeout"):
			return Timeout
		case xroadUnavailable[code]:
			return Unavailable
		}
	}
	return Error
}

var xroadUnavailable = map[string]bool{
	"AccessDenied":            true,
	"UnknownService":          true,
	"UnknownMember":           true,
	"ServiceDisabled":         true,
	"ServiceMissingUrl":       true,
	"ServiceMalformedUrl":     true,
	"InvalidClientIdentifier": true,
}
