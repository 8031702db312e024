package interop

import (
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/tidwall/gjson"
)

// Response is how one call ended.
type Response struct {
	Outcome Outcome
	Status  int    // HTTP status of the last attempt; 0 when no response arrived
	Body    []byte // nil or valid JSON, whatever the status; shared, treat as read-only
	Elapsed time.Duration

	// Err says why the Outcome is Error, Timeout or Unavailable, or why
	// X-Road itself rejected the call (an *XRoadError), for logs; nil
	// otherwise. It never holds the request URL or params, which may carry a
	// citizen's data.
	Err error

	// CorrelationID is the X-Road-Id of an X-Road call (its last attempt),
	// the key to the Security Servers' logs: log it with the outcome. Empty
	// for other kinds.
	CorrelationID string
	Attempts      int  // tries made: 0 when the call was not attempted or came from the cache
	Cached        bool // answered from the cache, without calling
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
	if r.Attempts > 1 {
		attrs = append(attrs, slog.Int("attempts", r.Attempts))
	}
	if r.Cached {
		attrs = append(attrs, slog.Bool("cached", true))
	}
	if r.CorrelationID != "" {
		attrs = append(attrs, slog.String("correlation_id", r.CorrelationID))
	}
	if r.Err != nil {
		attrs = append(attrs, slog.String("err", r.Err.Error()))
	}
	return slog.GroupValue(attrs...)
}

var _ slog.LogValuer = Response{}
