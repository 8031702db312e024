package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// Reminders reaches the reminders that flows schedule (remind steps), by
// the booking's key within an institution: another institution's
// booking of the same key is not reached.
type Reminders interface {
	Reminders(ctx context.Context, institution, key string) ([]Reminder, error)
	CancelReminders(ctx context.Context, institution, key string) (int, error)
	// MoveReminders sets the time reminded of to at: each reminder keeps
	// how long before it goes, out of the quiet hours; one whose time has
	// passed is dropped. It returns those kept.
	MoveReminders(ctx context.Context, institution, key string, at time.Time) ([]Reminder, error)
}

// Reminder is one reminder not sent yet, as the API shows it: nothing
// about the citizen.
type Reminder struct {
	Before  string    `json:"before"` // "24h"
	Due     time.Time `json:"due"`
	Event   time.Time `json:"event"`
	Channel string    `json:"channel"`
}

type remindersBody struct {
	Key       string     `json:"key"`
	Status    string     `json:"status"` // scheduled, cancelled
	Cancelled int        `json:"cancelled,omitempty"`
	Reminders []Reminder `json:"reminders"`
}

// mountReminders adds GET and DELETE /v1/reminders/:key and
// POST /v1/reminders/:key/move.
func (h *Handler) mountReminders(r carrier.Router) {
	r.Add(http.MethodGet, "/v1/reminders/:key", h.reminders)
	r.Add(http.MethodDelete, "/v1/reminders/:key", h.cancelReminders)
	r.Add(http.MethodPost, "/v1/reminders/:key/move", h.moveReminders)
}

// reminderKey reads the booking key of the path: as remind steps allow
// it, printable, without spaces or slashes, at most 100 bytes.
func reminderKey(c echo.Context) (string, *apiError) {
	key, err := url.PathUnescape(c.Param("key"))
	if err != nil || key == "" || len(key) > 100 || strings.IndexFunc(key, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) || r == '/' }) >= 0 {
		return "", &apiError{status: http.StatusNotFound, Error: "no reminders for this key", Field: "key"}
	}
	return key, nil
}

// withReminders runs do for the caller's institution and a valid key.
func (h *Handler) withReminders(c echo.Context, do func(ctx context.Context, inst, key string) error) error {
	inst, ok := h.institution(c.Request())
	if !ok {
		return h.unauthorized(c)
	}
	if h.o.Reminders == nil {
		return h.fail(c, &apiError{status: http.StatusNotFound, Error: "reminders are not available here", Field: "key"})
	}
	key, apiErr := reminderKey(c)
	if apiErr != nil {
		return h.fail(c, apiErr)
	}
	return do(c.Request().Context(), inst, key)
}

var errNoReminders = &apiError{status: http.StatusNotFound, Error: "no reminders for this key (none scheduled, all sent, or cancelled)", Field: "key"}

func (h *Handler) reminders(c echo.Context) error {
	return h.withReminders(c, func(ctx context.Context, inst, key string) error {
		rs, err := h.o.Reminders.Reminders(ctx, inst, key)
		if err != nil {
			return h.unavailable(c, "reading reminders", err)
		}
		if len(rs) == 0 {
			return h.fail(c, errNoReminders)
		}
		return c.JSON(http.StatusOK, remindersBody{Key: key, Status: StateScheduled, Reminders: rs})
	})
}

func (h *Handler) cancelReminders(c echo.Context) error {
	return h.withReminders(c, func(ctx context.Context, inst, key string) error {
		n, err := h.o.Reminders.CancelReminders(ctx, inst, key)
		if err != nil {
			return h.unavailable(c, "cancelling reminders", err)
		}
		if n == 0 {
			return h.fail(c, errNoReminders)
		}
		return c.JSON(http.StatusOK, remindersBody{Key: key, Status: StateCancelled, Cancelled: n, Reminders: []Reminder{}})
	})
}

func (h *Handler) moveReminders(c echo.Context) error {
	return h.withReminders(c, func(ctx context.Context, inst, key string) error {
		var req struct {
			At string `json:"at"`
		}
		if apiErr := h.decodeInto(c, &req); apiErr != nil {
			return h.fail(c, apiErr)
		}
		at, err := time.Parse(time.RFC3339, req.At)
		now := h.o.Now()
		switch {
		case req.At == "":
			return h.fail(c, bad("at", "at is required: the booking's new time in RFC 3339, like 2026-12-24T09:00:00-05:00"))
		case err != nil:
			return h.fail(c, bad("at", "at must be a time in RFC 3339, like 2026-12-24T09:00:00-05:00"))
		case !at.After(now):
			return h.fail(c, bad("at", "at is in the past; cancel the reminders instead"))
		case at.After(now.Add(h.o.MaxAhead)):
			return h.fail(c, bad("at", "at is more than %d days ahead", int(h.o.MaxAhead/(24*time.Hour))))
		}
		before, err := h.o.Reminders.Reminders(ctx, inst, key)
		if err != nil {
			return h.unavailable(c, "reading reminders", err)
		}
		if len(before) == 0 {
			return h.fail(c, errNoReminders)
		}
		rs, err := h.o.Reminders.MoveReminders(ctx, inst, key, at)
		if err != nil {
			return h.unavailable(c, "moving reminders", err)
		}
		if rs == nil {
			rs = []Reminder{}
		}
		return c.JSON(http.StatusOK, remindersBody{Key: key, Status: StateScheduled, Reminders: rs})
	})
}

// decodeInto reads a small JSON body strictly into v.
func (h *Handler) decodeInto(c echo.Context, v any) *apiError {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &apiError{status: http.StatusRequestEntityTooLarge, Error: "body too large", Field: "body"}
	}
	if err != nil {
		return bad("body", "body could not be read")
	}
	return strictJSON(body, v)
}

// strictJSON decodes one JSON object into v, refusing unknown fields.
func strictJSON(body []byte, v any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return bad(typeErr.Field, "%s must be a %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return bad(field, "unknown field %q", field)
		}
		return bad("body", "body is not a JSON object: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return bad("body", "body has more than one JSON value")
	}
	return nil
}
