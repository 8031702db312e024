package africastalking

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/wire"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

const (
	maxStatus       = 32
	maxErrorMessage = 512
	// logErrorMessage bounds how much of Africa's Talking's error text
	// goes to the log.
	logErrorMessage = 200
)

// serveEvent takes Africa's Talking's end-of-session notification: it
// tells the gateway the session is over and acknowledges with 200 and an
// empty body. The acknowledgement does not depend on the gateway: the
// notification shows the citizen nothing, an unrecorded end only leaves a
// session to expire, and an error status would only invite retries of a
// report we already logged.
func (h *Handler) serveEvent(c echo.Context, hop carrier.Hopper) error {
	values, err := wire.ReadForm(c, wire.MaxBody)
	if err != nil {
		return wire.Refuse(c, err)
	}
	in, err := h.ParseEvent(values)
	if err != nil {
		return wire.Refuse(c, err)
	}
	if in.EndStatus == "Failed" {
		msg, _ := wire.Field(values, "errorMessage")
		msg, _ = wire.CleanInput("errorMessage", msg, maxErrorMessage)
		h.log.Warn("ussd session failed at the carrier", "error", wire.Fit(msg, logErrorMessage))
	}
	wire.Hop(c.Request().Context(), hop, in, h.log)
	return c.NoContent(http.StatusOK)
}

// ParseEvent validates one end-of-session notification and builds an
// EventEnd Inbound for the same session key as the hops (same carrier
// name and session id). The notification's fields vary (date, cost,
// durationInSeconds, hopsCount, input, lastAppResponse, errorMessage…)
// and only sessionId, phoneNumber, serviceCode and status are read; the
// rest is ignored. Its input is the history of answers already delivered
// hop by hop, so it is not passed on as an answer.
//
// status is Success, Incomplete or Failed in the documentation; any other
// short word is passed on too, for the record, because refusing a status
// Africa's Talking adds later would lose the end of real sessions.
func (h *Handler) ParseEvent(v url.Values) (carrier.Inbound, error) {
	in, err := h.ParseForm(url.Values{
		"sessionId":   v["sessionId"],
		"phoneNumber": v["phoneNumber"],
		"serviceCode": v["serviceCode"],
	})
	if err != nil {
		return carrier.Inbound{}, err
	}
	status, err := wire.Field(v, "status")
	if err != nil {
		return carrier.Inbound{}, err
	}
	status = strings.TrimSpace(status)
	switch {
	case status == "":
		return carrier.Inbound{}, &wire.FieldError{Field: "status", Reason: "missing"}
	case len(status) > maxStatus || !wire.VisibleASCII(status):
		return carrier.Inbound{}, &wire.FieldError{Field: "status", Reason: "not a session status"}
	}
	in.Event = carrier.EventEnd
	in.EndStatus = status
	in.Cumulative = false
	return in, nil
}
