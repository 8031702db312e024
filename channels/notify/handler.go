package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/internal/bearer"
	"github.com/ventanilla-gob/ventanilla/internal/suggest"

	"github.com/ventanilla-gob/ventanilla/internal/keys"

	"github.com/labstack/echo/v4"
	"github.com/nyaruka/phonenumbers"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/notify/callbacks"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
	"github.com/ventanilla-gob/ventanilla/channels/sms"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// Limits.
const (
	MaxBody           = 16 << 10 // bytes of a request body
	MaxParam          = 300      // characters of one param value
	MaxIdempotencyKey = 255
	DefaultRetain     = 7 * 24 * time.Hour
	// DefaultMaxSegments is the longest SMS a notification may be; a
	// notice longer than that belongs in another medium.
	DefaultMaxSegments = 6
	// DefaultMaxChars is the longest chat notification (WhatsApp and
	// Telegram both stop at 4096).
	DefaultMaxChars = 4096
)

// Channels an institution may ask for; "auto" picks for the citizen.
var Channels = []string{"sms", "whatsapp", "telegram"}

// Options configures New.
type Options struct {
	Queue outbound.Queue
	// Store is where the citizen's remembered locale and channel are read.
	Store sessions.Store
	// Records is where what the API keeps about each notification lives
	// (RecordKey): with the queue, so that a restart that loses the
	// sessions does not lose the statuses. Default: Store.
	Records sessions.Store

	Templates *Templates
	// Owners maps a template id to the institution that owns it (the
	// templates of its package): only that institution may send it; to
	// any other it does not exist. A template without an owner may be
	// sent by every institution.
	Owners map[string]string
	// Tokens are the bearer tokens by institution; each at least 16
	// characters.
	Tokens map[string]string
	// Carriers maps a channel ("sms", "whatsapp", "telegram") to the
	// carrier whose Sender carries it. A channel without one is refused.
	Carriers map[string]string
	// Retain is how long a notification can be looked up and its
	// idempotency key is remembered (default 7 days; match the queue's).
	Retain time.Duration
	// Transliterate folds SMS texts to GSM-7 with sms.Transliterate (á í ó
	// ú lose their accent; é ñ ü stay): 160 characters a segment instead
	// of 70. Use the gateway's setting for SMS replies.
	Transliterate bool
	MaxSegments   int // longest SMS, in segments (default 6)
	MaxChars      int // longest chat message, in characters (default 4096)
	Now           func() time.Time
	// IDs makes the id of a notification sent without an idempotency key.
	IDs func() string
	Log *slog.Logger
	// Later, when set, keeps notifications asked for later (send_at)
	// until then; without it send_at is refused.
	Later Later
	// Asker, when set with ReplyFlows, keeps the question of a
	// notification that asks (reply): its answer runs a flow.
	Asker Asker
	// ReplyFlows returns the flows a notification's reply may run.
	ReplyFlows func() []string
	// MaxAhead is how far ahead send_at may be (default 90 days).
	MaxAhead time.Duration
	// Observer, when set, hears the outcome of every request to send a
	// notification, for metrics.
	Observer Observer
	// Reminders, when set, lets institutions read, cancel and move the
	// reminders flows scheduled, by booking key (/v1/reminders/:key).
	Reminders Reminders
	// Callbacks, when set, pushes each notification's outcome (delivered
	// or failed) to its institution's callback, and GET shows how that
	// push goes. The queue's Finished must call Finished.
	Callbacks Callbacks
}

// Callbacks is where the outcomes of notifications are pushed to the
// institutions that asked for them (*callbacks.Callbacks).
type Callbacks interface {
	Push(ctx context.Context, institution string, ev callbacks.Event) error
	Status(ctx context.Context, eventID string) (callbacks.Status, error)
}

// Observer hears what the API does with each request to send: the
// institution whose token asked ("" when none did) and the outcome:
// "accepted" (queued or scheduled, a repeat included), "refused" (4xx),
// "unauthorized" (no valid token), "unavailable" (5xx).
type Observer interface {
	Notification(institution, outcome string)
}

// Later keeps a message until a time and then hands it to the queue. Its
// handover is idempotent on the message's id, as the queue is.
type Later interface {
	// Schedule keeps m until at; scheduling an id again replaces it.
	Schedule(ctx context.Context, at time.Time, m carrier.Message, validFor time.Duration) error
	// Cancel forgets the message with id; false when it is not kept (sent
	// already, or never scheduled).
	Cancel(ctx context.Context, id string) (bool, error)
}

// DefaultMaxAhead is how far ahead send_at may be.
const DefaultMaxAhead = 90 * 24 * time.Hour

// Handler serves the notifications API.
type Handler struct {
	o      Options
	tokens []tokenEntry
	// templates are Options.Templates and Owners, or what SetTemplates
	// put in their place: a request reads them once, whole.
	templates atomic.Pointer[templateSet]
}

type templateSet struct {
	all    *Templates
	owners map[string]string
}

// SetTemplates replaces the templates and their owners (see Options), as
// a reload of the institutions' packages does: requests already past
// their check finish with the templates they were checked against.
func (h *Handler) SetTemplates(t *Templates, owners map[string]string) error {
	if t == nil {
		return errors.New("notify: no templates")
	}
	h.templates.Store(&templateSet{all: t, owners: owners})
	return nil
}

// template returns the template id as inst may send it: its own, or one
// without an owner.
func (h *Handler) template(inst, id string) (*Template, bool) {
	ts := h.templates.Load()
	tp, ok := ts.all.Get(id)
	if owner, owned := ts.owners[id]; !ok || owned && owner != inst {
		return nil, false
	}
	return tp, true
}

// meant is " (did you mean …?)" for a misspelt template id, among the
// templates inst may send only: another institution's ids are not told.
func (h *Handler) meant(inst, id string) string {
	ts := h.templates.Load()
	var mine []string
	for _, t := range ts.all.IDs() {
		if owner, owned := ts.owners[t]; !owned || owner == inst {
			mine = append(mine, t)
		}
	}
	if s := suggest.Closest(id, mine); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

type tokenEntry struct {
	institution string
	sum         [sha256.Size]byte
}

// New checks opts and returns the handler.
func New(opts Options) (*Handler, error) {
	switch {
	case opts.Queue == nil:
		return nil, errors.New("notify: no queue")
	case opts.Store == nil:
		return nil, errors.New("notify: no store")
	case opts.Templates == nil:
		return nil, errors.New("notify: no templates")
	case len(opts.Tokens) == 0:
		return nil, errors.New("notify: no institution tokens: nobody could call the API")
	case len(opts.Carriers) == 0:
		return nil, errors.New("notify: no carriers for any channel")
	}
	h := &Handler{o: opts}
	h.templates.Store(&templateSet{all: opts.Templates, owners: opts.Owners})
	if h.o.Records == nil {
		h.o.Records = h.o.Store
	}
	for inst, tok := range opts.Tokens {
		if inst == "" || len(tok) < 16 {
			return nil, fmt.Errorf("notify: the token of institution %q must have at least 16 characters", inst)
		}
		h.tokens = append(h.tokens, tokenEntry{inst, sha256.Sum256([]byte(tok))})
	}
	for ch, carrier := range opts.Carriers {
		if !slices.Contains(Channels, ch) {
			return nil, fmt.Errorf("notify: carriers: unknown channel %q (want sms, whatsapp or telegram)", ch)
		}
		if carrier == "" {
			return nil, fmt.Errorf("notify: carriers: no carrier for channel %q", ch)
		}
	}
	if h.o.Retain <= 0 {
		h.o.Retain = DefaultRetain
	}
	if h.o.MaxSegments <= 0 {
		h.o.MaxSegments = DefaultMaxSegments
	}
	if h.o.MaxChars <= 0 {
		h.o.MaxChars = DefaultMaxChars
	}
	if h.o.Now == nil {
		h.o.Now = time.Now
	}
	if h.o.IDs == nil {
		h.o.IDs = func() string { return "ntf_" + strings.ToLower(rand.Text()) }
	}
	if h.o.Log == nil {
		h.o.Log = slog.Default()
	}
	if h.o.MaxAhead <= 0 {
		h.o.MaxAhead = DefaultMaxAhead
	}
	return h, nil
}

// Mount adds POST /v1/notifications, GET /v1/notifications/:id and, for
// notifications sent later, DELETE /v1/notifications/:id; and the
// reminders of bookings by key: GET and DELETE /v1/reminders/:key, POST
// /v1/reminders/:key/move.
func (h *Handler) Mount(r carrier.Router) {
	r.Add(http.MethodPost, "/v1/notifications", h.counted(h.create))
	r.Add(http.MethodGet, "/v1/notifications/:id", h.get)
	r.Add(http.MethodDelete, "/v1/notifications/:id", h.cancel)
	h.mountReminders(r)
}

// RecordKey is the store key of what the handler keeps about notification
// id: who asked for it, the channel and locale chosen, and a fingerprint of
// the request for its idempotency key.
func RecordKey(id string) string { return "notify:" + id }

type record struct {
	Institution string `json:"i"`
	Channel     string `json:"c"`
	Locale      string `json:"l"`
	Fingerprint string `json:"f"`
	Created     int64  `json:"t"`
	SendAt      int64  `json:"s,omitempty"` // unix ms; 0: at once
	Cancelled   bool   `json:"x,omitempty"`
}

type request struct {
	To             string                     `json:"to"`
	Template       string                     `json:"template"`
	Params         map[string]json.RawMessage `json:"params"`
	Channel        string                     `json:"channel"`
	Locale         string                     `json:"locale"`
	IdempotencyKey string                     `json:"idempotency_key"`
	// ValidFor is how long the message is worth sending ("2h"); it
	// overrides the template's.
	ValidFor string `json:"valid_for"`
	// SendAt is when to send it (RFC 3339); empty: at once.
	SendAt string `json:"send_at"`
	// Reply is the flow the citizen's answer runs, with ReplyVars, for
	// ReplyWithin ("72h"); see reply.go.
	Reply       string            `json:"reply"`
	ReplyVars   map[string]string `json:"reply_vars"`
	ReplyWithin string            `json:"reply_within"`
}

// apiError is a 4xx answer naming the field at fault.
type apiError struct {
	status int
	Error  string `json:"error"`
	Field  string `json:"field,omitempty"`
}

func bad(field, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, Error: fmt.Sprintf(format, args...), Field: field}
}

func (h *Handler) fail(c echo.Context, e *apiError) error {
	return c.JSON(e.status, e)
}

func (h *Handler) unavailable(c echo.Context, what string, err error) error {
	h.o.Log.Error("notify: "+what, "err", err)
	c.Response().Header().Set("Retry-After", "5")
	return c.JSON(http.StatusServiceUnavailable, apiError{Error: "temporarily unavailable; retry with the same idempotency key"})
}

// institution returns who the bearer token belongs to, comparing with
// every token in constant time.
func (h *Handler) institution(r *http.Request) (string, bool) {
	tok, ok := bearer.Token(r.Header.Get(echo.HeaderAuthorization))
	if !ok {
		return "", false
	}
	sum := sha256.Sum256([]byte(tok))
	found := ""
	for _, t := range h.tokens {
		if subtle.ConstantTimeCompare(sum[:], t.sum[:]) == 1 {
			found = t.institution
		}
	}
	return found, found != ""
}

func (h *Handler) unauthorized(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="ventanilla"`)
	return h.fail(c, &apiError{status: http.StatusUnauthorized, Error: "missing or invalid bearer token", Field: "Authorization"})
}

type accepted struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// institutionKey is where create leaves the caller's institution for
// counted.
const institutionKey = "notify.institution"

// counted tells the Observer how a request to send ended.
func (h *Handler) counted(next echo.HandlerFunc) echo.HandlerFunc {
	if h.o.Observer == nil {
		return next
	}
	return func(c echo.Context) error {
		err := next(c)
		status := c.Response().Status
		var he *echo.HTTPError
		if errors.As(err, &he) {
			status = he.Code
		} else if err != nil {
			status = http.StatusInternalServerError
		}
		inst, _ := c.Get(institutionKey).(string)
		outcome := "unavailable"
		switch {
		case status == http.StatusUnauthorized:
			outcome = "unauthorized"
		case status >= 200 && status < 300:
			outcome = "accepted"
		case status >= 400 && status < 500:
			outcome = "refused"
		}
		h.o.Observer.Notification(inst, outcome)
		return err
	}
}

func (h *Handler) create(c echo.Context) error {
	inst, ok := h.institution(c.Request())
	if !ok {
		return h.unauthorized(c)
	}
	c.Set(institutionKey, inst)
	req, apiErr := h.decode(c)
	if apiErr != nil {
		return h.fail(c, apiErr)
	}
	if key := strings.TrimSpace(c.Request().Header.Get("Idempotency-Key")); key != "" {
		if req.IdempotencyKey != "" && req.IdempotencyKey != key {
			return h.fail(c, bad("idempotency_key", "idempotency_key differs from the Idempotency-Key header"))
		}
		req.IdempotencyKey = key
	}
	ctx := c.Request().Context()
	n, apiErr := h.prepare(ctx, inst, req)
	if apiErr != nil {
		return h.fail(c, apiErr)
	}

	rec := record{Institution: inst, Channel: n.channel, Locale: n.locale, Fingerprint: n.fingerprint, Created: h.o.Now().UnixMilli()}
	if !n.sendAt.IsZero() {
		rec.SendAt = n.sendAt.UnixMilli()
	}
	data, _ := json.Marshal(rec)
	_, err := h.o.Records.Put(ctx, RecordKey(n.id), data, 0, h.o.Retain)
	switch {
	case errors.Is(err, sessions.ErrConflict):
		// A repeat: the same notification unless the key was reused for
		// another. It is enqueued again, which the queue ignores unless a
		// crash came between the record and the queue the first time.
		prev, err := h.previous(ctx, n.id, inst)
		if err != nil {
			return h.unavailable(c, "reading a notification record", err)
		}
		if prev.Fingerprint != n.fingerprint {
			return h.fail(c, &apiError{status: http.StatusUnprocessableEntity, Error: "this idempotency key was used for a different notification", Field: "idempotency_key"})
		}
		if prev.Cancelled {
			// Repeating the request does not undo its cancellation.
			return c.JSON(http.StatusAccepted, accepted{ID: n.id, Status: StateCancelled})
		}
		if prev.Channel != n.channel || prev.Locale != n.locale {
			// The citizen's preferences changed since: keep the first choice.
			if n, apiErr = h.prepareAs(inst, req, prev.Channel, prev.Locale, n.id); apiErr != nil {
				return h.fail(c, apiErr)
			}
		}
	case err != nil:
		return h.unavailable(c, "storing a notification record", err)
	}

	if !n.sendAt.IsZero() {
		var err error
		if q := h.question(inst, req, n, n.sendAt); q != nil {
			err = h.o.Later.(AskingLater).ScheduleAsking(ctx, n.sendAt, n.msg, n.validFor, *q) // checked in checkReply
		} else {
			err = h.o.Later.Schedule(ctx, n.sendAt, n.msg, n.validFor)
		}
		if err != nil {
			return h.unavailable(c, "scheduling a notification", err)
		}
		c.Response().Header().Set(echo.HeaderLocation, "/v1/notifications/"+n.id)
		return c.JSON(http.StatusAccepted, accepted{ID: n.id, Status: StateScheduled})
	}
	if q := h.question(inst, req, n, h.o.Now()); q != nil {
		// Kept before the message goes out: the answer may come at once.
		if err := h.o.Asker.Ask(ctx, *q); err != nil {
			return h.unavailable(c, "keeping a notification's question", err)
		}
	}
	if _, err := h.o.Queue.Enqueue(ctx, n.msg); err != nil {
		return h.unavailable(c, "queueing a notification", err)
	}
	state := outbound.StateQueued
	if st, err := h.o.Queue.Status(ctx, n.id); err == nil {
		state = st.State
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/notifications/"+n.id)
	return c.JSON(http.StatusAccepted, accepted{ID: n.id, Status: state})
}

// previous reads the record a repeated request collided with.
func (h *Handler) previous(ctx context.Context, id, inst string) (record, error) {
	got, err := h.o.Records.Get(ctx, RecordKey(id))
	if err != nil {
		return record{}, err
	}
	var prev record
	if err := json.Unmarshal(got.Data, &prev); err != nil {
		return record{}, fmt.Errorf("notification record unreadable: %w", err)
	}
	if prev.Institution != inst {
		// Ids of keyed requests are per institution; this is a random id
		// colliding, which is not worth more than a retry.
		return record{}, errors.New("notification id collision")
	}
	return prev, nil
}

// decode reads the body strictly: at most MaxBody bytes, one JSON object,
// no unknown fields.
func (h *Handler) decode(c echo.Context) (request, *apiError) {
	var req request
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return req, &apiError{status: http.StatusRequestEntityTooLarge, Error: fmt.Sprintf("body over %d KiB", MaxBody>>10), Field: "body"}
	}
	if err != nil {
		return req, bad("body", "body could not be read")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return req, bad(typeErr.Field, "%s must be a %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			if field == "" {
				return req, bad("body", "unknown field %q", field)
			}
			return req, bad(field, "unknown field %q", field)
		}
		return req, bad("body", "body is not a JSON object: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return req, bad("body", "body has more than one JSON value")
	}
	return req, nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "map", "struct":
		return "JSON object"
	}
	return goKind
}

// notification is a validated request, ready to store and queue.
type notification struct {
	id, channel, locale, fingerprint string
	msg                              carrier.Message
	sendAt                           time.Time // zero: at once
	validFor                         time.Duration
}

// States of a notification sent later, before and instead of the queue's.
const (
	StateScheduled = "scheduled" // waiting for its send_at
	StateCancelled = "cancelled" // cancelled before its send_at
)

// prepare validates a request and resolves what it leaves open: the
// locale, the channel and the id.
func (h *Handler) prepare(ctx context.Context, inst string, req request) (notification, *apiError) {
	if apiErr := h.check(inst, req); apiErr != nil {
		return notification{}, apiErr
	}
	locale := req.Locale
	if locale == "" {
		locale = h.rememberedLocale(ctx, req.To)
	}
	channel := req.Channel
	if channel == "" || channel == "auto" {
		channel = h.preferredChannel(ctx, req.To)
	}
	id := h.o.IDs()
	if req.IdempotencyKey != "" {
		id = keyedID(inst, req.IdempotencyKey)
	}
	return h.prepareAs(inst, req, channel, locale, id)
}

// prepareAs renders the request for channel and locale, and checks the
// result's size.
func (h *Handler) prepareAs(inst string, req request, channel, locale, id string) (notification, *apiError) {
	tp, ok := h.template(inst, req.Template)
	if !ok {
		// Removed by a reload since the request was checked.
		return notification{}, bad("template", "unknown template %q", req.Template)
	}
	params := map[string]string{}
	for _, name := range tp.Params {
		var v string
		_ = json.Unmarshal(req.Params[name], &v) // checked in check
		params[name] = v
	}
	text, used, err := tp.Render(locale, params)
	if err != nil {
		return notification{}, bad("params", "%v", err)
	}
	switch channel {
	case "sms":
		if h.o.Transliterate {
			text = sms.Transliterate(text)
		}
		if n, _ := sms.Segments(text); n > h.o.MaxSegments {
			return notification{}, bad("params", "the text is %d SMS segments long; at most %d", n, h.o.MaxSegments)
		}
	default:
		if n := utf8.RuneCountInString(text); n > h.o.MaxChars {
			return notification{}, bad("params", "the text is %d characters long; at most %d", n, h.o.MaxChars)
		}
	}
	kind := "chat"
	if channel == "sms" {
		kind = "sms"
	}
	validFor := tp.ValidFor
	if req.ValidFor != "" {
		validFor, _ = ParseValidFor(req.ValidFor) // checked in check
	}
	var deadline time.Time // zero: the queue's default
	if validFor > 0 {
		deadline = h.o.Now().Add(validFor)
	}
	var sendAt time.Time
	if req.SendAt != "" {
		sendAt, _ = time.Parse(time.RFC3339, req.SendAt) // checked in check
		deadline = time.Time{}                           // from the send, by the scheduler
	}
	return notification{
		sendAt:      sendAt,
		validFor:    validFor,
		id:          id,
		channel:     channel,
		locale:      used,
		fingerprint: fingerprint(req),
		msg:         carrier.Message{ID: id, Channel: kind, Carrier: h.o.Carriers[channel], To: req.To, Text: text, Deadline: deadline},
	}, nil
}

// check validates the fields, in the order a reader fills them in.
func (h *Handler) check(inst string, req request) *apiError {
	if req.To == "" {
		return bad("to", "to is required: the citizen's number in E.164, like +593991234567")
	}
	if !isE164(req.To) {
		return bad("to", "to must be a valid number in E.164, like +593991234567")
	}
	if req.Template == "" {
		return bad("template", "template is required")
	}
	tp, ok := h.template(inst, req.Template)
	if !ok {
		return bad("template", "unknown template %q%s", req.Template, h.meant(inst, req.Template))
	}
	switch {
	case req.Channel == "" || req.Channel == "auto":
	case !slices.Contains(Channels, req.Channel):
		return bad("channel", "unsupported channel %q (want sms, whatsapp, telegram or auto)", req.Channel)
	case h.o.Carriers[req.Channel] == "":
		return bad("channel", "channel %q is not available here", req.Channel)
	}
	if req.Locale != "" && !slices.Contains(Locales, req.Locale) {
		return bad("locale", "unsupported locale %q (want es, en or qu)", req.Locale)
	}
	for _, name := range tp.Params {
		raw, ok := req.Params[name]
		if !ok {
			return bad("params."+name, "template %s needs params.%s", tp.ID, name)
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return bad("params."+name, "params.%s must be a string", name)
		}
		if utf8.RuneCountInString(v) > MaxParam {
			return bad("params."+name, "params.%s is over %d characters", name, MaxParam)
		}
		if strings.IndexFunc(v, unicode.IsControl) >= 0 {
			return bad("params."+name, "params.%s has control characters", name)
		}
	}
	if req.ValidFor != "" {
		if _, err := ParseValidFor(req.ValidFor); err != nil {
			return bad("valid_for", "%v", err)
		}
	}
	if req.SendAt != "" {
		if h.o.Later == nil {
			return bad("send_at", "send_at is not available here: notifications are sent at once")
		}
		at, err := time.Parse(time.RFC3339, req.SendAt)
		now := h.o.Now()
		switch {
		case err != nil:
			return bad("send_at", "send_at must be a time in RFC 3339, like 2026-12-24T09:00:00-05:00")
		case !at.After(now):
			return bad("send_at", "send_at is in the past; leave it out to send at once")
		case at.After(now.Add(h.o.MaxAhead)):
			return bad("send_at", "send_at is more than %d days ahead", int(h.o.MaxAhead/(24*time.Hour)))
		}
	}
	if apiErr := h.checkReply(req); apiErr != nil {
		return apiErr
	}
	if k := req.IdempotencyKey; len(k) > MaxIdempotencyKey || strings.IndexFunc(k, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
		return bad("idempotency_key", "idempotency_key must be at most %d visible ASCII characters", MaxIdempotencyKey)
	}
	return nil
}

// isE164 accepts only a valid number written exactly in E.164.
func isE164(s string) bool {
	if !strings.HasPrefix(s, "+") {
		return false
	}
	num, err := phonenumbers.Parse(s, "")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return false
	}
	return phonenumbers.Format(num, phonenumbers.E164) == s
}

// rememberedLocale is the locale the citizen chose in a conversation, or
// DefaultLocale. A store that fails does not stop a notification.
func (h *Handler) rememberedLocale(ctx context.Context, phone string) string {
	rec, err := h.o.Store.Get(ctx, keys.Profile(phone))
	switch {
	case err == nil && slices.Contains(Locales, string(rec.Data)):
		return string(rec.Data)
	case err != nil && !errors.Is(err, sessions.ErrNotFound):
		h.o.Log.Warn("notify: citizen's locale unreadable; using the default", "err", err)
	}
	return DefaultLocale
}

// preferredChannel is the text channel the citizen last used, when it is
// available here; else sms, else the first channel available.
func (h *Handler) preferredChannel(ctx context.Context, phone string) string {
	rec, err := h.o.Store.Get(ctx, keys.Preference(phone))
	switch {
	case err == nil && h.o.Carriers[string(rec.Data)] != "":
		return string(rec.Data)
	case err != nil && !errors.Is(err, sessions.ErrNotFound):
		h.o.Log.Warn("notify: citizen's channel unreadable; using the default", "err", err)
	}
	for _, ch := range Channels {
		if h.o.Carriers[ch] != "" {
			return ch
		}
	}
	return "sms" // New refuses an empty Carriers
}

// keyedID derives a notification's id from the institution and its
// idempotency key, so that two institutions' keys never meet.
func keyedID(inst, key string) string {
	sum := sha256.Sum256([]byte(inst + "\x00" + key))
	return "ntf_" + hex.EncodeToString(sum[:16])
}

// fingerprint identifies what a request asks for, to tell a repeat from a
// reused key.
func fingerprint(req request) string {
	h := sha256.New()
	names := make([]string, 0, len(req.Params))
	for n := range req.Params {
		names = append(names, n)
	}
	sort.Strings(names)
	channel := req.Channel
	if channel == "" {
		channel = "auto"
	}
	fmt.Fprintf(h, "%q %q %q %q", req.To, req.Template, channel, req.Locale)
	for _, n := range names {
		fmt.Fprintf(h, " %q=%s", n, compact(req.Params[n]))
	}
	if req.ValidFor != "" {
		// Only when given, so that the fingerprints of requests without
		// one stay what they were.
		fmt.Fprintf(h, " valid_for=%q", req.ValidFor)
	}
	if req.SendAt != "" {
		fmt.Fprintf(h, " send_at=%q", req.SendAt)
	}
	io.WriteString(h, replyFingerprint(req))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

type statusBody struct {
	ID       string    `json:"id"`
	Status   string    `json:"status"`
	Attempts int       `json:"attempts"`
	Updated  time.Time `json:"updated"`
	Channel  string    `json:"channel"`
	// ValidUntil is when the queue stops trying.
	ValidUntil time.Time `json:"valid_until,omitzero"`
	// SendAt is when a notification sent later is (or was) due.
	SendAt time.Time `json:"send_at,omitzero"`
	// Callback is how the push of its outcome to the institution's
	// callback goes; absent before an outcome, and for an institution
	// without a callback.
	Callback *callbackBody `json:"callback,omitempty"`
}

type callbackBody struct {
	EventID     string    `json:"event_id"`
	Status      string    `json:"status"` // pending, delivered, failed
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"last_error,omitempty"`
	Updated     time.Time `json:"updated"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
}

// errNoRecord is ownRecord's answer for a notification that does not
// exist for the institution asking.
var errNoRecord = errors.New("no such notification")

// ownRecord reads the record of notification id, and its revision, for
// institution inst: another institution's notification does not exist
// for this one, any more than an unknown or malformed id does.
func (h *Handler) ownRecord(ctx context.Context, inst, id string) (record, uint64, error) {
	var rec record
	if id == "" || len(id) > 100 {
		return rec, 0, errNoRecord
	}
	got, err := h.o.Records.Get(ctx, RecordKey(id))
	if errors.Is(err, sessions.ErrNotFound) {
		return rec, 0, errNoRecord
	}
	if err != nil {
		return rec, 0, err
	}
	if err := json.Unmarshal(got.Data, &rec); err != nil || rec.Institution != inst {
		return rec, 0, errNoRecord
	}
	return rec, got.Rev, nil
}

func (h *Handler) get(c echo.Context) error {
	inst, ok := h.institution(c.Request())
	if !ok {
		return h.unauthorized(c)
	}
	id := c.Param("id")
	notFound := &apiError{status: http.StatusNotFound, Error: "no such notification", Field: "id"}
	ctx := c.Request().Context()
	rec, _, err := h.ownRecord(ctx, inst, id)
	if errors.Is(err, errNoRecord) {
		return h.fail(c, notFound)
	}
	if err != nil {
		return h.unavailable(c, "reading a notification record", err)
	}
	var sendAt time.Time
	if rec.SendAt != 0 {
		sendAt = time.UnixMilli(rec.SendAt).UTC()
	}
	st, err := h.o.Queue.Status(ctx, id)
	if errors.Is(err, outbound.ErrNotFound) && rec.SendAt != 0 {
		// Not in the queue yet: waiting for its time, or cancelled.
		state := StateCancelled
		if !rec.Cancelled {
			state = StateScheduled
		}
		return c.JSON(http.StatusOK, statusBody{ID: id, Status: state, Updated: time.UnixMilli(rec.Created).UTC(), Channel: rec.Channel, SendAt: sendAt})
	}
	if errors.Is(err, outbound.ErrNotFound) {
		return h.fail(c, notFound)
	}
	if err != nil {
		return h.unavailable(c, "reading a notification's status", err)
	}
	body := statusBody{ID: id, Status: st.State, Attempts: st.Attempts, Updated: st.Updated.UTC(), Channel: rec.Channel, SendAt: sendAt}
	if !st.Deadline.IsZero() {
		body.ValidUntil = st.Deadline.UTC()
	}
	body.Callback = h.callbackStatus(ctx, id, st.State)
	return c.JSON(http.StatusOK, body)
}

// callbackStatus is how the push of notification id's outcome goes, or
// nil when there is none to show. A store that fails hides it rather
// than the notification's own status.
func (h *Handler) callbackStatus(ctx context.Context, id, state string) *callbackBody {
	if h.o.Callbacks == nil || (state != outbound.StateDelivered && state != outbound.StateFailed) {
		return nil
	}
	ev := StatusEventID(id, state)
	cs, err := h.o.Callbacks.Status(ctx, ev)
	if err != nil {
		if !errors.Is(err, callbacks.ErrNotFound) {
			h.o.Log.Warn("notify: a callback's status unreadable", "event_id", ev, "err", err)
		}
		return nil
	}
	b := &callbackBody{EventID: ev, Status: cs.State, Attempts: cs.Attempts, LastError: cs.LastError, Updated: cs.Updated.UTC()}
	if !cs.Next.IsZero() {
		b.NextAttempt = cs.Next.UTC()
	}
	return b
}

// StatusEventID is the id of the callback event that reports
// notification id reaching state: the same for every push of that fact,
// so that the institution can dedupe on it.
func StatusEventID(id, state string) string {
	sum := sha256.Sum256([]byte(id + "\x00" + state))
	return "evt_" + hex.EncodeToString(sum[:16])
}

// Receipt is the data of a notification.status callback event.
type Receipt struct {
	NotificationID string    `json:"notification_id"`
	Status         string    `json:"status"` // delivered or failed
	Channel        string    `json:"channel"`
	Attempts       int       `json:"attempts"`
	Error          string    `json:"error,omitempty"`
	Updated        time.Time `json:"updated"`
}

// Finished is the outbound queue's Options.Finished: the outcome of a
// notification is kept for its institution's callback, under an event id
// that depends on the notification and its status alone, so that hearing
// it again (the queue hears each outcome at least once) pushes it once.
// Messages that are not notifications, and institutions without a
// callback, are left alone. An error (the records or the callbacks'
// store unavailable) makes the queue hear it again later.
func (h *Handler) Finished(ctx context.Context, st outbound.Status) error {
	if h.o.Callbacks == nil {
		return nil
	}
	got, err := h.o.Records.Get(ctx, RecordKey(st.ID))
	if errors.Is(err, sessions.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("notify: reading the record of a finished notification: %w", err)
	}
	var rec record
	if err := json.Unmarshal(got.Data, &rec); err != nil {
		h.o.Log.Warn("notify: a finished notification's record unreadable; its institution is not told", "message_id", st.ID, "err", err)
		return nil
	}
	data, _ := json.Marshal(Receipt{NotificationID: st.ID, Status: st.State, Channel: rec.Channel, Attempts: st.Attempts, Error: st.LastError, Updated: st.Updated.UTC()})
	ev := callbacks.Event{ID: StatusEventID(st.ID, st.State), Type: callbacks.TypeNotificationStatus, Created: st.Updated, Data: data}
	err = h.o.Callbacks.Push(ctx, rec.Institution, ev)
	if err != nil && !errors.Is(err, callbacks.ErrNoEndpoint) {
		return fmt.Errorf("notify: keeping the outcome of %s for institution %s: %w", st.ID, rec.Institution, err)
	}
	return nil
}

// cancel serves DELETE /v1/notifications/:id: a notification sent later
// is forgotten while it waits; one handed to the queue is 409.
func (h *Handler) cancel(c echo.Context) error {
	inst, ok := h.institution(c.Request())
	if !ok {
		return h.unauthorized(c)
	}
	id := c.Param("id")
	notFound := &apiError{status: http.StatusNotFound, Error: "no such notification", Field: "id"}
	if h.o.Later == nil {
		return h.fail(c, notFound)
	}
	ctx := c.Request().Context()
	rec, rev, err := h.ownRecord(ctx, inst, id)
	if errors.Is(err, errNoRecord) {
		return h.fail(c, notFound)
	}
	if err != nil {
		return h.unavailable(c, "reading a notification record", err)
	}
	if rec.Cancelled {
		return c.JSON(http.StatusOK, accepted{ID: id, Status: StateCancelled})
	}
	cancelled, err := h.o.Later.Cancel(ctx, id)
	if err != nil {
		return h.unavailable(c, "cancelling a notification", err)
	}
	if !cancelled {
		return h.fail(c, &apiError{status: http.StatusConflict, Error: "the notification has been sent already (or was never scheduled): it cannot be cancelled", Field: "id"})
	}
	rec.Cancelled = true
	data, _ := json.Marshal(rec)
	if _, err := h.o.Records.Put(ctx, RecordKey(id), data, rev, h.o.Retain); err != nil {
		h.o.Log.Warn("notify: cancelled notification not marked; it reads as scheduled until it expires", "err", err)
	}
	return c.JSON(http.StatusOK, accepted{ID: id, Status: StateCancelled})
}
