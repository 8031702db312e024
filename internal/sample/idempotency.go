package sample

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"sync"
	"time"
)

// HeaderIdempotencyKey is the header a client sets on a request that
// changes something, so that sending it again does not change it twice:
// the gateway sends one on every POST, the same for every attempt of one
// step of one conversation.
const HeaderIdempotencyKey = "Idempotency-Key"

// keyTTL is how long the answer to a key is kept: far longer than any
// conversation, its retries and a citizen's dialling back.
const keyTTL = 24 * time.Hour

// maxKey bounds a key's length, as the gateway does.
const maxKey = 255

// keyed is the first request made with one key and, once it is done,
// its answer.
type keyed struct {
	done        chan struct{} // closed when the answer is known
	fingerprint [sha256.Size]byte
	status      int
	header      http.Header
	body        []byte
	expires     time.Time
}

// idempotency keeps, per key, the answer to the first request made with
// it: a request with the same key and the same method, path and body gets
// that answer again and runs nothing; one with a different request gets
// 422 idempotency_key_reused; one made while the first still runs waits
// for it. Answers of 5xx are not kept, so a retry can try again.
type idempotency struct {
	mu    sync.Mutex
	keys  map[string]*keyed
	now   func() time.Time
	swept time.Time // when expired keys were last dropped
}

// serve runs next for r once per key; r's body must not have been read.
func (k *idempotency) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	key := r.Header.Get(HeaderIdempotencyKey)
	if key == "" || r.Method == http.MethodGet {
		next.ServeHTTP(w, r)
		return
	}
	if len(key) > maxKey {
		writeError(w, http.StatusBadRequest, "invalid_idempotency_key")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h := sha256.New()
	io.WriteString(h, r.Method+" "+r.URL.RequestURI()+"\n")
	h.Write(body)
	var fp [sha256.Size]byte
	h.Sum(fp[:0])

	for {
		k.mu.Lock()
		if now := k.now(); now.Sub(k.swept) > time.Minute {
			k.swept = now
			for key, e := range k.keys {
				if !e.expires.IsZero() && now.After(e.expires) {
					delete(k.keys, key)
				}
			}
		}
		e, ok := k.keys[key]
		if !ok {
			e = &keyed{done: make(chan struct{}), fingerprint: fp}
			k.keys[key] = e
			k.mu.Unlock()
			k.first(w, r, next, key, e)
			return
		}
		k.mu.Unlock()
		if e.fingerprint != fp {
			writeError(w, http.StatusUnprocessableEntity, "idempotency_key_reused")
			return
		}
		select {
		case <-e.done:
		case <-r.Context().Done():
			return
		}
		if e.status == 0 {
			continue // the first one failed: this one runs instead
		}
		for name, v := range e.header {
			w.Header()[name] = v
		}
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(e.status)
		_, _ = w.Write(e.body)
		return
	}
}

// first runs the first request of key and keeps its answer.
func (k *idempotency) first(w http.ResponseWriter, r *http.Request, next http.Handler, key string, e *keyed) {
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		k.mu.Lock()
		if rec.status >= 500 {
			delete(k.keys, key)
		} else {
			e.status, e.header, e.body = rec.status, w.Header().Clone(), rec.body.Bytes()
			e.expires = k.now().Add(keyTTL)
		}
		k.mu.Unlock()
		close(e.done)
	}()
	next.ServeHTTP(rec, r)
}

// recorder passes an answer on and keeps a copy.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}
