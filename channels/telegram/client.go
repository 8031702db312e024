package telegram

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// boundClient is what the library sends its requests through. The
// library builds every request without a context (MakeRequest uses
// http.NewRequest), so a request could outlive a shutdown or a hop's
// budget; binding a context here is how cancellation and deadlines reach
// it. It also keeps the bot token out of errors: Go's *url.Error quotes
// the URL, and the token is part of the URL's path.
type boundClient struct {
	c     *http.Client
	ctx   context.Context
	token string
}

func (b *boundClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := b.c.Do(req.WithContext(b.ctx))
	if err != nil {
		return nil, redactToken(err, b.token)
	}
	return resp, nil
}

// redactToken returns err with every occurrence of token replaced.
func redactToken(err error, token string) error {
	if token == "" {
		return err
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return &url.Error{Op: ue.Op, URL: strings.ReplaceAll(ue.URL, token, "<token>"), Err: ue.Err}
	}
	if msg := err.Error(); strings.Contains(msg, token) {
		return errors.New(strings.ReplaceAll(msg, token, "<token>"))
	}
	return err
}

// api returns the library bound to ctx. The copy is shallow and cheap
// (a token, the bot's own User, two strings); it shares nothing mutable
// with b.bot that this package uses.
func (b *Bot) api(ctx context.Context) *tgbotapi.BotAPI {
	api := *b.bot
	api.Client = &boundClient{c: b.client, ctx: ctx, token: b.opts.Token}
	return &api
}

// apiError returns the Bot API's error code for err (401, 403, 429…), or
// 0 when the failure was not an answer from the Bot API.
func apiError(err error) (code int, retryAfter int) {
	if e, ok := errors.AsType[*tgbotapi.Error](err); ok {
		return e.Code, e.RetryAfter
	}
	if e, ok := errors.AsType[tgbotapi.Error](err); ok {
		return e.Code, e.RetryAfter
	}
	return 0, 0
}
