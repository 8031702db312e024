package telegram

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v5"
	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// The waits between failed getUpdates: 1s, doubling up to 30s, back to
// 1s after a call that worked; longer when Telegram's retry_after says so.
const (
	minBackoff = time.Second
	maxBackoff = 30 * time.Second
)

// Poll gets updates by long polling until ctx is done, then returns nil.
// It is the alternative to the webhook for a gateway that Telegram cannot
// reach (a laptop, a network without an inbound HTTPS port); a bot uses
// one or the other, so Poll fails with ErrBothModes on a mounted bot, and
// starts by deleting any webhook (Telegram refuses getUpdates while one is
// set). Run one Poll per bot token: Telegram ends a getUpdates when
// another one starts.
//
// It does not use the library's GetUpdatesChan: that loop cannot be
// cancelled while a request waits, logs the request URL (with the token)
// on errors, and confirms updates before they are handled. Here updates
// are handled one at a time, in order, and confirmed (the next getUpdates'
// offset) only after they were; on return, the ones handled are confirmed
// with a last short call. An update being handled when ctx ends is
// finished first.
//
// Errors that will not pass (the token is rejected) end Poll; the rest
// (network, Telegram's 5xx, 409 from a second poller) are logged and
// retried with backoff.
func (b *Bot) Poll(ctx context.Context, h carrier.Hopper) error {
	if !b.mode.CompareAndSwap(modeIdle, modePolling) {
		return ErrBothModes
	}
	defer b.mode.Store(modeIdle)

	call, cancel := context.WithTimeout(ctx, sendTimeout)
	_, err := b.api(call).Request(tgbotapi.DeleteWebhookConfig{})
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return b.fatal("deleteWebhook", err)
	}

	cfg := tgbotapi.UpdateConfig{Timeout: int(b.poll / time.Second), AllowedUpdates: allowedUpdates}
	defer func() { b.confirm(ctx, cfg) }() // cfg as it is on return
	waits := &backoff.ExponentialBackOff{InitialInterval: minBackoff, Multiplier: 2, MaxInterval: maxBackoff}
	for ctx.Err() == nil {
		call, cancel := context.WithTimeout(ctx, b.poll+sendTimeout)
		updates, err := b.api(call).GetUpdates(cfg)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if code, _ := apiError(err); code == http.StatusUnauthorized || code == http.StatusNotFound {
				return b.fatal("getUpdates", err)
			}
			code, retry := apiError(err)
			wait := max(waits.NextBackOff(), time.Duration(retry)*time.Second)
			b.log.Warn("getUpdates failed; retrying", "code", code, "in", wait, "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			continue
		}
		waits.Reset()
		for i := range updates {
			if ctx.Err() != nil {
				break
			}
			if updates[i].UpdateID < cfg.Offset {
				continue
			}
			b.handleDetached(ctx, h, &updates[i])
			cfg.Offset = updates[i].UpdateID + 1
		}
	}
	return nil
}

// handleDetached handles an update to the end even if ctx ends meanwhile.
func (b *Bot) handleDetached(ctx context.Context, h carrier.Hopper, u *tgbotapi.Update) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), handleTimeout)
	defer cancel()
	b.handle(ctx, h, u)
}

// confirm tells Telegram that the updates before cfg.Offset were handled,
// so that the next Poll does not get them again.
func (b *Bot) confirm(ctx context.Context, cfg tgbotapi.UpdateConfig) {
	if cfg.Offset == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	cfg.Timeout, cfg.Limit = 0, 1
	if _, err := b.api(ctx).GetUpdates(cfg); err != nil {
		b.log.Warn("last updates not confirmed; they will be handled again", "err", err)
	}
}

func (b *Bot) fatal(method string, err error) error {
	if code, _ := apiError(err); code == http.StatusUnauthorized || code == http.StatusNotFound {
		return fmt.Errorf("%w (%s answered %d)", ErrTokenRejected, method, code)
	}
	return fmt.Errorf("telegram: %s: %w", method, err)
}
