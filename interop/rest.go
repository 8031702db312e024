package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"gopkg.in/yaml.v3"
)

// restProtocol calls KindREST services: HTTP with JSON both ways, read
// entirely from the common fields.
type restProtocol struct{}

var _ protocol = restProtocol{}

func (restProtocol) kind() string { return KindREST }

func (restProtocol) fields() map[string]func(d *serviceDecoder, v *yaml.Node) { return nil }

func (restProtocol) prepare(*Service, func(field, format string, args ...any)) {}

// cacheKey is the service and its rendered URL: path and sorted query,
// every param of a GET.
func (restProtocol) cacheKey(_ context.Context, s *Service, params map[string]any) (string, error) {
	u, err := s.url(params)
	if err != nil {
		return "", err
	}
	return s.ID + "\x00" + u, nil
}

// drainLimit is how much of an unread body is discarded so the connection
// can be reused; past it, closing the connection is cheaper.
const drainLimit = 4 << 10

func (restProtocol) call(ctx context.Context, hc *http.Client, s *Service, params map[string]any) Response {
	req, err := s.request(ctx, params)
	if err != nil {
		return Response{Outcome: Error, Err: err}
	}
	return exchange(ctx, hc, req, func(resp *http.Response) Response { return s.response(ctx, resp) })
}

// exchange sends req and classifies the response with classify, which may
// read the body. The body is then drained a little and closed, whatever
// happened, so no connection or goroutine outlives the call.
func exchange(ctx context.Context, hc *http.Client, req *http.Request, classify func(*http.Response) Response) Response {
	resp, err := hc.Do(req)
	if err != nil {
		return failure(ctx, err)
	}
	defer func() {
		_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
		_ = resp.Body.Close()
	}()
	return classify(resp)
}

// request builds the HTTP request: path params fill the template, the other
// params go in the query (GET, DELETE) or a JSON object body (POST, PUT).
func (s *Service) request(ctx context.Context, params map[string]any) (*http.Request, error) {
	target, err := s.url(params)
	if err != nil {
		return nil, err
	}
	var body io.Reader
	if s.Method == http.MethodPost || s.Method == http.MethodPut {
		data, err := s.jsonBody(params)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, s.Method, target, body)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", unwrapURL(err))
	}
	req.Header = s.header.Clone()
	if s.host != "" {
		req.Host = s.host
	}
	if key := idempotencyKey(ctx); key != "" && s.Method != http.MethodGet {
		req.Header.Set(HeaderIdempotencyKey, key)
	}
	return req, nil
}

// HeaderIdempotencyKey carries the key of a call that changes something at
// the back-end (every method but GET). The key is the same however often
// the call is made for one step of one conversation — a retry, another
// instance, a resumed conversation — so a back-end that keeps each key's
// first answer and gives it again books nothing twice.
const HeaderIdempotencyKey = "Idempotency-Key"

type idempotencyKeyKey struct{}

// WithIdempotencyKey returns a context whose calls that change something
// (every method but GET) carry key in the Idempotency-Key header. A key
// that is not 1 to 255 visible ASCII characters is not sent.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKeyKey{}, key)
}

func idempotencyKey(ctx context.Context) string {
	key, _ := ctx.Value(idempotencyKeyKey{}).(string)
	if len(key) == 0 || len(key) > 255 {
		return ""
	}
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] >= 0x7f {
			return ""
		}
	}
	return key
}

// url renders the request URL. For GET and DELETE it carries every param,
// keys in order, so it also names the call for the cache.
func (s *Service) url(params map[string]any) (string, error) {
	var u strings.Builder
	u.Grow(len(s.prefix) + s.tmpl.size + 64)
	u.WriteString(s.prefix)
	if err := s.tmpl.render(&u, params); err != nil {
		return "", err
	}
	if s.Method == http.MethodPost || s.Method == http.MethodPut {
		if s.query != "" {
			u.WriteString("?" + s.query)
		}
	} else if err := s.writeQuery(&u, params); err != nil {
		return "", err
	}
	return u.String(), nil
}

// jsonBody encodes the params the path did not use as one JSON object.
func (s *Service) jsonBody(params map[string]any) ([]byte, error) {
	rest := params
	if len(s.tmpl.params) > 0 {
		rest = make(map[string]any, len(params))
		for k, v := range params {
			if !s.tmpl.uses(k) {
				rest[k] = v
			}
		}
	}
	if len(rest) == 0 {
		return []byte("{}"), nil
	}
	data, err := json.Marshal(rest)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadParam, err)
	}
	return data, nil
}

// writeQuery appends the params the path did not use as a query string,
// keys sorted so the same call is always the same URL (the cache keys on
// it). Nil values are left out; a list repeats its key.
func (s *Service) writeQuery(u *strings.Builder, params map[string]any) error {
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if v != nil && !s.tmpl.uses(k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 && s.query == "" {
		return nil
	}
	slices.Sort(keys)
	u.WriteByte('?')
	u.WriteString(s.query)
	sep := s.query != ""
	add := func(k string, v any) error {
		str, ok := scalar(v)
		if !ok {
			return fmt.Errorf("%w: %s is a %T, not a string, number, bool or list of them", ErrBadParam, k, v)
		}
		if sep {
			u.WriteByte('&')
		}
		sep = true
		u.WriteString(url.QueryEscape(k))
		u.WriteByte('=')
		u.WriteString(url.QueryEscape(str))
		return nil
	}
	for _, k := range keys {
		var err error
		switch v := params[k].(type) {
		case []any:
			for _, e := range v {
				if err = add(k, e); err != nil {
					break
				}
			}
		case []string:
			for _, e := range v {
				_ = add(k, e)
			}
		default:
			err = add(k, v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// scalar formats a param value for a path or query. Numbers are written in
// full ("1714307103", never "1.714307103e+09").
func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case int64:
		return strconv.FormatInt(v, 10), true
	case int:
		return strconv.Itoa(v), true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", false
		}
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	case json.Number:
		return string(v), true
	case int32:
		return strconv.FormatInt(int64(v), 10), true
	case uint64:
		return strconv.FormatUint(v, 10), true
	case uint:
		return strconv.FormatUint(uint64(v), 10), true
	case uint32:
		return strconv.FormatUint(uint64(v), 10), true
	case float32:
		return scalar(float64(v))
	}
	return "", false
}

// response classifies an HTTP response into an Outcome. The body is read
// whatever the status, up to MaxBody, and kept only when it is valid JSON:
// a 409 {"error":"slot_taken"} is something a flow may want to save.
func (s *Service) response(ctx context.Context, resp *http.Response) Response {
	r := Response{Status: resp.StatusCode}
	body, readErr := readBody(resp.Body, resp.ContentLength, s.MaxBody)
	if readErr == nil && len(body) > 0 && gjson.ValidBytes(body) {
		r.Body = body
	}
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		switch {
		case readErr != nil:
			r = failure(ctx, readErr)
			r.Status = code
		case len(body) == 0:
			r.Outcome = OK // 204, or a 200 with nothing to save
		case !jsonContentType(resp.Header.Get("Content-Type")):
			r.Outcome, r.Err = Error, fmt.Errorf("%w: content type %q", ErrNotJSON, resp.Header.Get("Content-Type"))
		case r.Body == nil:
			r.Outcome, r.Err = Error, fmt.Errorf("%w: invalid JSON", ErrNotJSON)
		default:
			r.Outcome = OK
		}
	default:
		r.Outcome, r.Err = statusOutcome(code)
	}
	return r
}

// statusOutcome is the outcome of an answer whose status is not 2xx, for
// every protocol over HTTP: 404 is NotFound, another 4xx the back-end
// refusing the request, anything else its failure.
func statusOutcome(code int) (Outcome, error) {
	switch {
	case code == http.StatusNotFound:
		return NotFound, nil
	case code >= 400 && code < 500:
		return Rejected, nil
	}
	return Error, fmt.Errorf("%w %d", ErrStatus, code)
}

// jsonContentType accepts application/json and any +json type. A missing
// content type is tolerated: the body is then checked to be valid JSON.
func jsonContentType(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(mt)
	const suffix = "+json"
	return strings.EqualFold(mt, "application/json") ||
		len(mt) > len(suffix) && strings.EqualFold(mt[len(mt)-len(suffix):], suffix)
}

// readBody reads at most limit bytes; a longer body is ErrTooLarge, found
// from Content-Length without reading when the server declares it.
func readBody(r io.Reader, length, limit int64) ([]byte, error) {
	if length > limit {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, length, limit)
	}
	size := int64(512)
	if length >= 0 {
		size = length + 1 // room to see EOF without growing
	}
	buf := make([]byte, 0, size)
	lr := io.LimitReader(r, limit+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(len(buf)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, limit)
	}
	return buf, nil
}

// failure classifies a transport error: the deadline (the service's timeout
// or the caller's) is Timeout, anything else is Error.
func failure(ctx context.Context, err error) Response {
	err = unwrapURL(err)
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		errors.As(err, &ne) && ne.Timeout() {
		return Response{Outcome: Timeout, Err: err}
	}
	return Response{Outcome: Error, Err: err}
}

// unwrapURL drops net/http's *url.Error wrapper, whose message repeats the
// request URL: a path such as /citizens/1714307103 must not reach the logs.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
