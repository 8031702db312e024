package wire

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
)

// FieldError says which request field was rejected and why. Its text is
// what the 400 response says, so it never repeats the offending value:
// values are personal data, and may be anything at all.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// StatusError is a request refused as a whole, before its fields are
// read, with the status that says why: 415 for the wrong media type, 413
// for a body over the limit, 400 for one that cannot be read.
type StatusError struct {
	Status int
	Field  string
	Reason string
}

func (e *StatusError) Error() string { return e.Field + ": " + e.Reason }

// Refuse answers a refused request with the error's text as plain text:
// the status a *StatusError carries, 400 for anything else. Carriers log
// and display these bodies, so they stay one short line.
func Refuse(c echo.Context, err error) error {
	status := http.StatusBadRequest
	if se, ok := errors.AsType[*StatusError](err); ok {
		status = se.Status
	}
	return c.String(status, err.Error()+"\n")
}
