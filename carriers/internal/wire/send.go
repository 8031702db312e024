package wire

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// RetryableStatus reports whether a provider's HTTP status may pass on a
// later try: 5xx and 429, and 408 from proxies. Any other 4xx (wrong
// credentials, a refused field or number) fails the same way again.
func RetryableStatus(code int) bool {
	return code >= 500 || code == http.StatusTooManyRequests || code == http.StatusRequestTimeout
}

// RetryAfter reads a Retry-After header: seconds or an HTTP date; 0 when
// absent, unreadable or past.
func RetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		return time.Duration(max(secs, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// NoAnswer is why a request to a provider got no answer: the cause inside
// net/http's *url.Error, whose URL may carry credentials, or the caller's
// context error when the context ended. Only context.Canceled is the
// caller's own doing; timeouts and network faults are worth another try.
func NoAnswer(ctx context.Context, err error) (cause error, retryable bool) {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return err, !errors.Is(err, context.Canceled)
}

// Printable keeps a provider's words fit for logs and errors: valid UTF-8,
// controls as spaces, trimmed, at most max bytes.
func Printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.TrimSpace(strings.ToValidUTF8(s, "")))
	if len(s) > max {
		s = s[:max]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}
