package telegram

import (
	"context"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// event is what the adapter needs from one update.
type event struct {
	update int    // update_id: the hop's Seq, so a retried update is a retry
	chat   int64  // private chat id; 0 for a callback from anywhere else
	user   int64  // sender's user id
	lang   string // sender's language_code
	input  string // what goes to the gateway

	start bool // "/start": the first screen of a chat
	typed bool // plain text, which may be a reply keyboard's label

	callback string // callback query id, for answerCallbackQuery
	pressed  int    // id of the message whose inline button was pressed

	contact *tgbotapi.Contact
}

// parse turns an update into an event. It reports false for updates the
// adapter ignores: anything but messages and callback queries, edited
// messages, messages from bots, and chats that are not private — a
// conversation may show a citizen's data, which has no place in a group.
func parse(u *tgbotapi.Update) (event, bool) {
	ev := event{update: u.UpdateID}
	switch {
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		if q.ID == "" || q.From == nil {
			return ev, false
		}
		ev.callback, ev.user, ev.lang = q.ID, q.From.ID, q.From.LanguageCode
		if m := q.Message; m != nil && m.Chat != nil && m.Chat.ID != 0 && m.Chat.Type == "private" && !q.From.IsBot {
			ev.chat, ev.pressed, ev.input = m.Chat.ID, m.MessageID, q.Data
		}
		return ev, true
	case u.Message != nil:
		m := u.Message
		if m.Chat == nil || m.Chat.ID == 0 || m.Chat.Type != "private" || m.From == nil || m.From.ID == 0 || m.From.IsBot {
			return ev, false
		}
		ev.chat, ev.user, ev.lang = m.Chat.ID, m.From.ID, m.From.LanguageCode
		switch {
		case m.Contact != nil:
			ev.contact = m.Contact
		case strings.HasPrefix(m.Text, "/"):
			ev.input, ev.start = command(m.Text)
			ev.typed = ev.input == m.Text
		default:
			// A photo, a sticker or a voice note has no text: an empty
			// answer, which the gateway answers with the current screen.
			ev.input, ev.typed = m.Text, true
		}
		return ev, true
	}
	return ev, false
}

// command reads "/name[@bot] [args]" as the keyword "name [args]", so
// that Telegram's commands (/ayuda, /estado 1002) are the gateway's
// keywords. "/start" is "start": on a chat with no conversation the
// gateway opens its root flow for any first message, and a START keyword
// makes /start go back to it mid-conversation too. "/start <payload>"
// (a t.me/<bot>?start=<payload> deep link) is the payload, with "_" for
// spaces: ?start=estado_1002 reads "estado 1002". Text that is not a
// well-formed command is returned as it is.
func command(text string) (input string, start bool) {
	word, args, _ := strings.Cut(text[1:], " ")
	word, bot, at := strings.Cut(word, "@")
	if word == "" || at && bot == "" || len(word) > 32 || strings.ContainsFunc(word, notCommandRune) {
		return text, false
	}
	args = strings.TrimSpace(args)
	word = strings.ToLower(word)
	if word == "start" {
		if args != "" {
			return strings.ReplaceAll(args, "_", " "), true
		}
		return "start", true
	}
	if args == "" {
		return word, false
	}
	return word + " " + args, false
}

// notCommandRune: Telegram's commands are Latin letters, digits and _.
func notCommandRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
}

// handle runs one update: one read of the chat's record, one hop, the
// replies, and a write of the record when a number was linked or buttons
// were sent. Failures are logged and end the update; nothing is retried
// (a retried hop could apply the citizen's answer twice).
func (b *Bot) handle(ctx context.Context, h carrier.Hopper, u *tgbotapi.Update) {
	ev, ok := parse(u)
	if !ok {
		return
	}
	if ev.chat == 0 {
		b.answer(ctx, ev, "")
		return
	}
	loc := adapterLocale(ev.lang)
	l := b.loadLink(ctx, ev.chat)
	if ev.callback != "" && l.stale(ev.pressed, ev.update) {
		b.answer(ctx, ev, msgStale.in(loc))
		return
	}
	in := carrier.Inbound{
		Channel:   "chat",
		Carrier:   name,
		SessionID: strconv.FormatInt(ev.chat, 10),
		Phone:     l.Phone,
		Input:     ev.input,
		Seq:       ev.update,
	}
	switch {
	case ev.contact != nil && b.opts.Links == nil:
		// Nowhere to keep a link: the contact is an empty answer.
		in.Input = ""
	case ev.contact != nil:
		phone, ok := b.link(ctx, ev, &l, loc)
		if !ok {
			return
		}
		// The conversation is now keyed by the number: it starts anew
		// there, in the language remembered for it, if any.
		in.Phone, in.Input = phone, ""
	case ev.typed && b.opts.Keyboard == KeyboardReply:
		in.Input = l.data(ev.input)
	}
	r, err := h.Hop(ctx, in)
	if err != nil {
		// The gateway still gives a localised reply; send it.
		b.log.Warn("hop failed", "update", ev.update, "err", err)
	}
	offer := ev.start && l.Phone == "" && b.opts.Links != nil
	sent, keys := b.reply(ctx, ev, r, loc, offer)
	if ev.callback != "" {
		// Answered after the reply, so the button spins until the next
		// screen is there: a citizen waiting for it does not press again.
		b.answer(ctx, ev, "")
	}
	if sent != 0 {
		b.remember(ctx, ev.chat, &l, sent, ev.update, keys)
	}
}
