package interop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/tidwall/gjson"
)

// Errors carried in Response.Err, for logs and errors.Is; flows see only the
// Outcome.
var (
	ErrUnknownService = errors.New("unknown service")           // Unavailable
	ErrDisabled       = errors.New("service disabled")          // Unavailable
	ErrStatus         = errors.New("unexpected status")         // Error: 5xx, or 1xx/3xx that net/http passed on
	ErrTooLarge       = errors.New("response body too large")   // Error
	ErrNotJSON        = errors.New("response body is not JSON") // Error
)

// Response is how one call ended.
type Response struct {
	Outcome Outcome
	Status  int    // HTTP status; 0 when no response arrived
	Body    []byte // nil or valid JSON, whatever the status
	Elapsed time.Duration

	// Err says why the Outcome is Error, Timeout or Unavailable, for logs;
	// nil otherwise. It never holds the request URL or params, which may
	// carry a citizen's data.
	Err error
}

// Get reads the value at a gjson path (e.g. "slots.0.id", "#.name") from the
// body, as the session stores values: string, bool, nil, int64 for integral
// numbers, float64 for the rest, []any and map[string]any. "" or "@this" is
// the whole body. A path that matches nothing gives nil.
func (r Response) Get(path string) any {
	if len(r.Body) == 0 {
		return nil
	}
	var res gjson.Result
	if path == "" {
		res = gjson.ParseBytes(r.Body)
	} else {
		res = gjson.GetBytes(r.Body, path)
	}
	if !res.Exists() {
		return nil
	}
	return value(res)
}

func value(r gjson.Result) any {
	switch r.Type {
	case gjson.String:
		return r.Str
	case gjson.Number:
		return number(r.Raw, r.Num)
	case gjson.True:
		return true
	case gjson.False:
		return false
	case gjson.JSON:
		if r.IsArray() {
			list := []any{}
			r.ForEach(func(_, v gjson.Result) bool {
				list = append(list, value(v))
				return true
			})
			return list
		}
		obj := map[string]any{}
		r.ForEach(func(k, v gjson.Result) bool {
			obj[k.Str] = value(v)
			return true
		})
		return obj
	}
	return nil
}

// number keeps integers exact: a cédula or an amount in cents must not come
// back as 1.714307103e+09.
func number(raw string, f float64) any {
	if i, err := strconv.ParseInt(raw, 10, 64); err == nil {
		return i
	}
	if f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
		return int64(f)
	}
	return f
}

// LogValue leaves the body out: it may hold a citizen's data.
func (r Response) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("outcome", string(r.Outcome)),
		slog.Int("status", r.Status),
		slog.Duration("elapsed", r.Elapsed),
	}
	if r.Err != nil {
		attrs = append(attrs, slog.String("err", r.Err.Error()))
	}
	return slog.GroupValue(attrs...)
}

var _ slog.LogValuer = Response{}

// transport performs calls for one Kind of service. Call has already looked
// the service up and bounded ctx by its timeout; the transport fills every
// field of Response but Elapsed. Retries, circuit breakers and caching wrap
// transports in Call, so every kind gets them.
type transport interface {
	call(ctx context.Context, s *Service, params map[string]any) Response
}

// Client calls the services of a Registry. It is safe for concurrent use.
type Client struct {
	reg        *Registry
	transports map[string]transport // by Service.Kind
}

// NewClient returns a Client for reg. A nil httpClient gets one that keeps
// connections to institutions alive and does not follow redirects: a
// redirect could carry a citizen's data to a host no one configured. Per-call
// deadlines come from the service's timeout, so httpClient needs no Timeout.
func NewClient(reg *Registry, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = defaultHTTPClient()
	}
	return &Client{
		reg: reg,
		transports: map[string]transport{
			KindREST: restTransport{http: httpClient},
		},
	}
}

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// The gateway sends all its calls to a handful of institution hosts.
	t.MaxIdleConnsPerHost = 64
	return &http.Client{
		Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Call calls service with params, the call step's evaluated params. It never
// returns a Go error: every failure is an Outcome a flow can route on, with
// the reason in Response.Err. The call ends by the service's timeout or ctx's
// deadline, whichever comes first.
func (c *Client) Call(ctx context.Context, service string, params map[string]any) Response {
	start := time.Now()
	var r Response
	s, ok := c.reg.Lookup(service)
	switch {
	case !ok:
		r = Response{Outcome: Unavailable, Err: fmt.Errorf("%w %q", ErrUnknownService, service)}
	case s.Disabled:
		r = Response{Outcome: Unavailable, Err: fmt.Errorf("%w %q", ErrDisabled, service)}
	default:
		t, ok := c.transports[s.Kind]
		if !ok {
			// The registry accepts only known kinds; this is a Client built
			// without the kind's transport.
			r = Response{Outcome: Unavailable, Err: fmt.Errorf("no transport for kind %q", s.Kind)}
			break
		}
		ctx, cancel := context.WithTimeout(ctx, s.Timeout)
		r = t.call(ctx, s, params)
		cancel()
	}
	r.Elapsed = time.Since(start)
	return r
}
