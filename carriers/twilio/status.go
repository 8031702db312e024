package twilio

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/wire"
)

// Status is one delivery status callback.
type Status struct {
	MessageSID string // the message's SID, as SendID returned it
	// State is MessageStatus as Twilio sent it: queued, sending, sent,
	// delivered, undelivered, failed, read, … (Twilio adds states, e.g.
	// read for WhatsApp, so any short lower-case word is taken).
	State string
	// ErrorCode is Twilio's error code for undelivered and failed
	// messages (e.g. "30003"); "" when none.
	ErrorCode string
}

// maxState bounds MessageStatus; the longest today is
// "partially_delivered".
const maxState = 32

// ParseStatus validates a status callback's fields. It is pure and does
// not check the signature; unknown fields are ignored.
func ParseStatus(v url.Values) (Status, error) {
	var st Status
	s, err := wire.Field(v, "MessageSid")
	if err != nil {
		return st, err
	}
	if st.MessageSID, err = sid("MessageSid", s, "SM", "MM"); err != nil {
		return st, err
	}
	if st.State, err = wire.Field(v, "MessageStatus"); err != nil {
		return st, err
	}
	switch {
	case st.State == "":
		return st, &wire.FieldError{Field: "MessageStatus", Reason: "missing"}
	case len(st.State) > maxState || !isWord(st.State):
		return st, &wire.FieldError{Field: "MessageStatus", Reason: "not a message status"}
	}
	if st.ErrorCode, err = wire.Field(v, "ErrorCode"); err != nil {
		return st, err
	}
	if len(st.ErrorCode) > 10 || !isDigits(st.ErrorCode) {
		return st, &wire.FieldError{Field: "ErrorCode", Reason: "not an error code"}
	}
	return st, nil
}

// isWord: lower-case ASCII letters and underscores, as Twilio's states.
func isWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// serveStatus takes a status callback: 403 unsigned, 400 malformed, 500
// when the sink failed (the status is lost unless Twilio retries), and 204
// otherwise.
func (h *Handler) serveStatus(c echo.Context) error {
	values, err := wire.ReadForm(c, maxBody)
	if err != nil {
		return wire.Refuse(c, err)
	}
	if !h.verify(c, h.opts.StatusURL, values) {
		return forbidden(c)
	}
	st, err := ParseStatus(values)
	if err != nil {
		return wire.Refuse(c, err)
	}
	if st.ErrorCode != "" {
		h.log.Info("message not delivered", "sid", st.MessageSID, "status", st.State, "error_code", st.ErrorCode)
	}
	if h.opts.Status != nil {
		if err := h.opts.Status.MarkDelivered(c.Request().Context(), st.MessageSID, st.State); err != nil {
			h.log.Error("delivery status not recorded", "sid", st.MessageSID, "status", st.State, "err", err)
			return c.String(http.StatusInternalServerError, "status not recorded\n")
		}
	}
	return c.NoContent(http.StatusNoContent)
}
