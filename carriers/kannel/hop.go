package kannel

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/wire"
)

// refuse answers a call that cannot be parsed. Kannel then sends the
// citizen its reply-couldnotfetch text; the README says to set it.
func refuse(c echo.Context, log *slog.Logger, err error) error {
	status := http.StatusBadRequest
	if se, ok := errors.AsType[*wire.StatusError](err); ok {
		status = se.Status
	}
	// The reason names a field, never a value: safe to log.
	log.Warn("call refused", "status", status, "reason", err.Error())
	return wire.Refuse(c, err)
}
