package telegram

import (
	"context"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// maxData is the most bytes of callback data Telegram takes.
const maxData = 64

// emptyText stands in for an empty screen body: Telegram refuses a
// message without text, and the buttons still need a message to hang on.
const emptyText = "…"

// reply sends r to the chat: the screen with its buttons, then, when
// offer is set, a second message with the phone-sharing button (in
// inline mode: a message carries one keyboard, inline or reply, never
// both). It returns the id of the message that carries the screen's
// buttons (0 when there were none or the send failed) and, for reply
// keyboards, their label → data pairs.
func (b *Bot) reply(ctx context.Context, ev event, r carrier.Reply, loc string, offer bool) (int, [][2]string) {
	if r.Text == "" && len(r.Buttons) == 0 {
		return 0, nil
	}
	msg := tgbotapi.NewMessage(ev.chat, r.Text)
	if msg.Text == "" {
		msg.Text = emptyText
	}
	var keys [][2]string
	buttons := !r.End && hasButtons(r.Buttons)
	switch {
	case b.opts.Keyboard == KeyboardReply:
		var kb *tgbotapi.ReplyKeyboardMarkup
		if buttons {
			kb, keys = replyKeyboard(r.Buttons)
		}
		if offer && !r.End {
			kb = withShareButton(kb, loc)
		}
		if kb != nil {
			msg.ReplyMarkup = *kb
		} else {
			// Nothing to press: take the last keyboard away rather than
			// leave choices that no longer apply.
			msg.ReplyMarkup = tgbotapi.NewRemoveKeyboard(false)
		}
	case buttons:
		msg.ReplyMarkup = inlineKeyboard(r.Buttons)
	}
	id := b.send(ctx, ev, msg)
	if offer && !r.End && b.opts.Keyboard == KeyboardInline {
		prompt := tgbotapi.NewMessage(ev.chat, msgSharePrompt.in(loc))
		prompt.ReplyMarkup = *withShareButton(nil, loc)
		b.send(ctx, ev, prompt)
	}
	if !buttons {
		return 0, nil
	}
	return id, keys
}

// send sends one message and returns its id, or 0 when it failed. A
// failure is logged with the Bot API's code and description (never the
// text or the chat) and not retried: the webhook must answer, and a
// citizen who sees nothing writes again.
func (b *Bot) send(ctx context.Context, ev event, msg tgbotapi.MessageConfig) int {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	m, err := b.api(ctx).Send(msg)
	if err != nil {
		code, retry := apiError(err)
		b.log.Warn("sendMessage failed", "update", ev.update, "code", code, "retry_after", retry, "err", err)
		return 0
	}
	return m.MessageID
}

// answer answers a callback query, which stops the button's spinner;
// text, if any, shows as a short notice at the top of the chat.
func (b *Bot) answer(ctx context.Context, ev event, text string) {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	// Request, not Send: answerCallbackQuery returns true, not a Message.
	if _, err := b.api(ctx).Request(tgbotapi.NewCallback(ev.callback, text)); err != nil {
		code, _ := apiError(err)
		b.log.Warn("answerCallbackQuery failed", "update", ev.update, "code", code, "err", err)
	}
}

// pressable reports whether a button can be sent: Telegram rejects the
// whole message for one button with empty or oversized callback data.
func pressable(btn carrier.Button) bool {
	return btn.Data != "" && len(btn.Data) <= maxData
}

func hasButtons(rows [][]carrier.Button) bool {
	for _, row := range rows {
		for _, btn := range row {
			if pressable(btn) {
				return true
			}
		}
	}
	return false
}

// label is what a button shows; a button without a label shows its data.
func label(btn carrier.Button) string {
	if btn.Label != "" {
		return btn.Label
	}
	return btn.Data
}

// inlineKeyboard lays the buttons out as they come; each press sends the
// button's Data as callback data.
func inlineKeyboard(rows [][]carrier.Button) tgbotapi.InlineKeyboardMarkup {
	kb := tgbotapi.InlineKeyboardMarkup{InlineKeyboard: make([][]tgbotapi.InlineKeyboardButton, 0, len(rows))}
	for _, row := range rows {
		out := make([]tgbotapi.InlineKeyboardButton, 0, len(row))
		for _, btn := range row {
			if pressable(btn) {
				out = append(out, tgbotapi.NewInlineKeyboardButtonData(label(btn), btn.Data))
			}
		}
		if len(out) > 0 {
			kb.InlineKeyboard = append(kb.InlineKeyboard, out)
		}
	}
	return kb
}

// replyKeyboard lays the buttons out as a one-time, resized reply
// keyboard. A press sends the label as text, so the labels and their data
// come back too, to be remembered for the next message. When two buttons
// share a label the first one wins.
func replyKeyboard(rows [][]carrier.Button) (*tgbotapi.ReplyKeyboardMarkup, [][2]string) {
	var keys [][2]string
	kb := tgbotapi.ReplyKeyboardMarkup{ResizeKeyboard: true, OneTimeKeyboard: true}
	for _, row := range rows {
		var out []tgbotapi.KeyboardButton
		for _, btn := range row {
			if pressable(btn) {
				out = append(out, tgbotapi.NewKeyboardButton(label(btn)))
				keys = append(keys, [2]string{label(btn), btn.Data})
			}
		}
		if len(out) > 0 {
			kb.Keyboard = append(kb.Keyboard, out)
		}
	}
	return &kb, keys
}

// withShareButton adds a row with the button that shares the citizen's
// own number (request_contact; private chats only) to kb, or makes a
// keyboard of it.
func withShareButton(kb *tgbotapi.ReplyKeyboardMarkup, loc string) *tgbotapi.ReplyKeyboardMarkup {
	if kb == nil {
		kb = &tgbotapi.ReplyKeyboardMarkup{ResizeKeyboard: true, OneTimeKeyboard: true}
	}
	kb.Keyboard = append(kb.Keyboard, []tgbotapi.KeyboardButton{tgbotapi.NewKeyboardButtonContact(msgShareLabel.in(loc))})
	return kb
}
