package telegram

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// serve answers one webhook request. Only a request with the right secret
// reaches the Hopper. Once the update is read, the answer is 200 whatever
// happens next: Telegram retries an update until it gets a 2xx, and a
// retry cannot fix a failed hop or a failed sendMessage.
//
// The reply goes by sendMessage, not in the webhook's response body
// (which the Bot API also accepts): a reply in the body is fire and
// forget, so a failure (blocked bot, bad markup, flood limit) would go
// unseen, the message id needed to tell a fresh button from an old one
// would be unknown, and one update could not be answered with two
// messages (the screen, then the phone-sharing button).
func (b *Bot) serve(c echo.Context, h carrier.Hopper) error {
	req := c.Request()
	got := req.Header.Get(SecretHeader)
	if got == "" {
		return c.String(http.StatusUnauthorized, "unauthorized\n")
	}
	if !b.secretOK(got) {
		return c.String(http.StatusForbidden, "forbidden\n")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, maxBody))
	if err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			return c.String(http.StatusRequestEntityTooLarge, "update too large\n")
		}
		return c.String(http.StatusBadRequest, "unreadable body\n")
	}
	u, err := decode(body)
	if err != nil {
		return c.String(http.StatusBadRequest, "malformed update\n")
	}
	// Telegram hanging up must not cut a hop in half: the work goes on,
	// bounded, and a retried update is recognised by its id (Seq).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(req.Context()), handleTimeout)
	defer cancel()
	b.handle(ctx, h, u)
	return c.NoContent(http.StatusOK)
}

// secretOK compares the header with the secret in constant time. Both are
// hashed first so that not even the length of the secret shows in the
// timing.
func (b *Bot) secretOK(got string) bool {
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], b.secret[:]) == 1 && b.hasSecret
}

// errMalformed: the body is not an Update.
var errMalformed = errors.New("telegram: malformed update")

// decode reads one webhook body: a JSON object with a positive update_id.
func decode(body []byte) (*tgbotapi.Update, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, errMalformed
	}
	var u tgbotapi.Update
	if err := json.Unmarshal(body, &u); err != nil {
		return nil, errMalformed
	}
	if u.UpdateID <= 0 {
		return nil, errMalformed
	}
	return &u, nil
}
