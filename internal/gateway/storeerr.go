package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/sessions"
)

// storeErrorEvery is how often one kind of store error is logged: the
// first at once, then one line a minute with how many there were since,
// so that a Redis answering every hop with the same error (CROSSSLOT on a
// misconfigured Cluster) shows in the log without flooding it.
const storeErrorEvery = time.Minute

// storeErrors logs failures the gateway survives — a profile that cannot
// be read leaves the default language, a preference that cannot be kept
// is kept next time — once per kind per storeErrorEvery. The zero value
// is ready to use.
type storeErrors struct {
	mu    sync.Mutex
	kinds map[string]*storeErrorKind
}

type storeErrorKind struct {
	last   time.Time
	missed int // since last
}

// maxStoreErrorKinds bounds the kinds remembered; errors beyond are
// lumped under one.
const maxStoreErrorKinds = 64

// log logs err, which happened doing what (a short phrase: "reading the
// citizen's profile"), unless one of its kind was logged less than
// storeErrorEvery before now.
func (s *storeErrors) log(log *slog.Logger, now time.Time, what string, err error) {
	kind := what + ": " + errorKind(err)
	s.mu.Lock()
	if s.kinds == nil {
		s.kinds = make(map[string]*storeErrorKind)
	}
	k, ok := s.kinds[kind]
	if !ok && len(s.kinds) >= maxStoreErrorKinds {
		kind = what + ": other"
		k, ok = s.kinds[kind]
	}
	if !ok {
		k = &storeErrorKind{}
		s.kinds[kind] = k
	}
	if !k.last.IsZero() && now.Sub(k.last) < storeErrorEvery {
		k.missed++
		s.mu.Unlock()
		return
	}
	missed := k.missed
	k.last, k.missed = now, 0
	s.mu.Unlock()
	log.Error("session store failed; the hop goes on without it", "doing", what, "kind", errorKind(err), "since_last_logged", missed, "err", err)
}

// errorKind classes a store error: a Redis error by its code (CROSSSLOT,
// MOVED, NOSCRIPT, READONLY…), a timeout, a network error (a dropped
// connection too), the breaker open ("unavailable"), or "other".
func errorKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &ne):
		return "network"
	case errors.Is(err, sessions.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, redis.ErrClosed):
		return "network"
	}
	// Redis errors read "CODE message"; wrapped, they follow the last ": ".
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	code, _, _ := strings.Cut(msg, " ")
	if len(code) >= 3 && strings.ToUpper(code) == code && strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" {
		return code
	}
	return "other"
}

// transientKinds are the kinds of store error (see errorKind) that pass
// with time: the store is slow or unreachable, or a Redis is loading,
// failing over or moving slots. The rest — NOPERM, CROSSSLOT, WRONGTYPE,
// NOSCRIPT… — are the deployment's and stay until it is fixed.
var transientKinds = map[string]bool{
	"timeout": true, "canceled": true, "network": true, "unavailable": true,
	"CLUSTERDOWN": true, "TRYAGAIN": true, "LOADING": true, "MASTERDOWN": true,
	"MOVED": true, "ASK": true, "READONLY": true, "BUSY": true,
}

// transient reports whether a store error passes with time. A hop that
// meets one does not go on as if the store held nothing: it answers
// "service unavailable", as when the session itself cannot be read.
func transient(err error) bool {
	return transientKinds[errorKind(err)]
}

// storeError logs a store failure the hop survives, once per kind a minute.
func (g *Gateway) storeError(what string, err error) {
	g.storeErrs.log(g.logger(), time.Now(), what, err)
}
