package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/nyaruka/phonenumbers"
)

// Links keeps each chat's record with compare-and-set. The adapter names
// no store, so that it compiles without one: sessions.Plain makes the
// gateway's session store one.
type Links interface {
	// Get returns the record under key and its revision; found is false
	// when there is none.
	Get(ctx context.Context, key string) (data []byte, rev uint64, found bool, err error)
	// Put writes data under key if the stored revision is still rev (0:
	// none) and returns the new revision; conflict is true when another
	// write came first.
	Put(ctx context.Context, key string, data []byte, rev uint64, ttl time.Duration) (newRev uint64, conflict bool, err error)
}

// errConflict: other updates of the chat kept writing its record first.
var errConflict = errors.New("telegram: chat record: revision conflict")

// chatTTL keeps the record of a chat with no linked number: only its last
// keyboard, which matters no longer than a conversation lives.
const chatTTL = 24 * time.Hour

// LinkKey is the Links key of a chat's record.
func LinkKey(chat int64) string { return "link:telegram:" + strconv.FormatInt(chat, 10) }

// record is what is kept per chat. Every update reads it (one Store.Get)
// to fill Inbound.Phone; it is written when a number is linked and after
// each reply with buttons (one Store.Put), so that a press on an older
// message's button, or a reply keyboard's label, can be told apart.
type record struct {
	Phone string `json:"phone,omitempty"` // E.164, shared by the chat's own user
	// Msg is the id of the last message sent with buttons. Buttons of
	// older messages are stale: their choices belonged to another screen.
	Msg int `json:"msg,omitempty"`
	// Update is the update_id whose answer sent Msg: Telegram delivering
	// that update again is a retry, whose press is not on an old button.
	Update int `json:"upd,omitempty"`
	// Keys are the label → data pairs of the last reply keyboard.
	Keys [][2]string `json:"keys,omitempty"`

	rev uint64 // revision read, for the compare-and-set write
}

// stale reports whether a press on message id is on an older message
// than the last one sent with buttons. A newer one than recorded is
// accepted: the record's last write may have failed. So is the update
// that sent the last buttons, delivered again: the press it carries was
// on the screen before them.
func (r *record) stale(id, update int) bool {
	return r.Msg != 0 && id < r.Msg && update != r.Update
}

// data maps a reply keyboard's label back to what it stands for; other
// text is returned as typed.
func (r *record) data(text string) string {
	t := strings.TrimSpace(text)
	for _, k := range r.Keys {
		if k[0] == t {
			return k[1]
		}
	}
	return text
}

// loadLink reads the chat's record. A failed read is logged and treated
// as no record: the conversation goes on keyed by chat, without a number.
func (b *Bot) loadLink(ctx context.Context, chat int64) record {
	if b.opts.Links == nil {
		return record{}
	}
	data, rev, found, err := b.opts.Links.Get(ctx, LinkKey(chat))
	switch {
	case err != nil:
		b.log.Warn("chat record not read; going on without the linked number", "err", err)
		return record{}
	case !found:
		return record{}
	}
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		b.log.Warn("chat record unreadable; it will be replaced", "err", err)
		r = record{}
	}
	r.rev = rev
	return r
}

// save applies change to the chat's record and writes it with
// compare-and-set; when another update wrote in between, it reads the
// record again and reapplies change.
func (b *Bot) save(ctx context.Context, chat int64, r *record, change func(*record)) error {
	var err error
	for range 3 {
		change(r)
		data, merr := json.Marshal(r)
		if merr != nil {
			return merr
		}
		ttl := chatTTL
		if r.Phone != "" {
			ttl = LinkTTL
		}
		rev, conflict, perr := b.opts.Links.Put(ctx, LinkKey(chat), data, r.rev, ttl)
		switch {
		case perr != nil:
			return perr
		case !conflict:
			r.rev = rev
			return nil
		}
		err = errConflict
		*r = b.loadLink(ctx, chat)
	}
	return err
}

// remember records the message that carries the latest buttons, sent in
// answer to update.
func (b *Bot) remember(ctx context.Context, chat int64, r *record, msg, update int, keys [][2]string) {
	if b.opts.Links == nil {
		return
	}
	err := b.save(ctx, chat, r, func(r *record) {
		if msg >= r.Msg {
			r.Msg, r.Update, r.Keys = msg, update, keys
		}
	})
	if err != nil {
		b.log.Warn("chat record not written; older buttons stay pressable", "err", err)
	}
}

// link handles a shared contact: only the sender's own number is
// accepted — Telegram sets the contact's user_id to the sender's id when
// the request_contact button shares it, and to someone else's (or
// nothing) when a citizen forwards another person's card. The number is
// linked to the chat for LinkTTL. It reports false, after telling the
// citizen why, when the contact is refused.
func (b *Bot) link(ctx context.Context, ev event, r *record, loc string) (string, bool) {
	refuse := func(m text) (string, bool) {
		msg := tgbotapi.NewMessage(ev.chat, m.in(loc))
		msg.ReplyMarkup = *withShareButton(nil, loc)
		b.send(ctx, ev, msg)
		return "", false
	}
	if ev.contact.UserID == 0 || ev.contact.UserID != ev.user {
		b.log.Info("contact refused: not the sender's own number", "update", ev.update)
		return refuse(msgNotYours)
	}
	phone, ok := e164(ev.contact.PhoneNumber, b.opts.DefaultRegion)
	if !ok {
		b.log.Info("contact refused: not a phone number", "update", ev.update)
		return refuse(msgBadNumber)
	}
	if err := b.save(ctx, ev.chat, r, func(r *record) { r.Phone = phone }); err != nil {
		// The number is still used for this hop; the citizen can share
		// it again next time.
		b.log.Warn("chat link not written", "err", err)
	}
	done := tgbotapi.NewMessage(ev.chat, msgLinked.in(loc))
	done.ReplyMarkup = tgbotapi.NewRemoveKeyboard(false)
	b.send(ctx, ev, done)
	return phone, true
}

const (
	maxPhone = 20 // "+", at most 15 digits (E.164), slack for a trunk prefix
	maxE164  = 16
)

// e164 normalises a shared contact's number. Telegram sends the
// account's number in international form, with or without "+"; a number
// that does not read as international is read in region. Possible, not
// valid, is required: libphonenumber's ranges lag behind operators.
func e164(raw, region string) (string, bool) {
	s := strings.TrimSpace(raw)
	digits, plus := strings.CutPrefix(s, "+")
	if digits == "" || len(s) > maxPhone || strings.ContainsFunc(digits, notDigit) {
		return "", false
	}
	try := []string{"+" + digits}
	if !plus {
		try = append(try, digits)
	}
	for _, t := range try {
		num, err := phonenumbers.Parse(t, region)
		if err != nil || !phonenumbers.IsPossibleNumber(num) {
			continue
		}
		if e := phonenumbers.Format(num, phonenumbers.E164); len(e) <= maxE164 {
			return e, true
		}
	}
	return "", false
}

func notDigit(r rune) bool { return r < '0' || r > '9' }
