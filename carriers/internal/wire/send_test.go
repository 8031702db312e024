package wire

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{" 5 ", 5 * time.Second},
		{"-3", 0},
		{"Mon, 23 Nov 2026 09:00:30 GMT", 30 * time.Second},
		{"Mon, 23 Nov 2026 08:59:00 GMT", 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := RetryAfter(tt.header, now); got != tt.want {
			t.Errorf("RetryAfter(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestRetryableStatus(t *testing.T) {
	for code, want := range map[int]bool{500: true, 503: true, 429: true, 408: true, 400: false, 401: false, 403: false, 404: false} {
		if got := RetryableStatus(code); got != want {
			t.Errorf("RetryableStatus(%d) = %v, want %v", code, got, want)
		}
	}
}

func TestNoAnswer(t *testing.T) {
	refused := errors.New("connection refused")
	withURL := &url.Error{Op: "Post", URL: "https://user:secret@example.test/send", Err: refused}
	cause, retryable := NoAnswer(context.Background(), withURL)
	if cause != refused || !retryable {
		t.Errorf("network fault: %v, retryable %v; want the cause without its URL, retryable", cause, retryable)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if cause, retryable := NoAnswer(ctx, withURL); !errors.Is(cause, context.Canceled) || retryable {
		t.Errorf("cancelled by the caller: %v, retryable %v", cause, retryable)
	}
	ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if cause, retryable := NoAnswer(ctx, withURL); !errors.Is(cause, context.DeadlineExceeded) || !retryable {
		t.Errorf("timed out: %v, retryable %v", cause, retryable)
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"  Success \n", 80, "Success"},
		{"bad\x00byte\tsep", 80, "bad byte sep"},
		{"inválido\xff", 80, "inválido"},
		{"añadido", 2, "a"}, // never cut inside a character
	}
	for _, tt := range tests {
		if got := Printable(tt.in, tt.max); got != tt.want {
			t.Errorf("Printable(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}
