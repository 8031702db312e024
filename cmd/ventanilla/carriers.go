package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/ventanilla-gob/ventanilla/carriers/africastalking"
	"github.com/ventanilla-gob/ventanilla/carriers/atsms"
	"github.com/ventanilla-gob/ventanilla/carriers/generic"
	"github.com/ventanilla-gob/ventanilla/carriers/hubtel"
	"github.com/ventanilla-gob/ventanilla/carriers/kannel"
	"github.com/ventanilla-gob/ventanilla/carriers/nalo"
	"github.com/ventanilla-gob/ventanilla/carriers/twilio"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
	"github.com/ventanilla-gob/ventanilla/channels/telegram"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// registry is the one list of carriers the gateway serves, registered
// here explicitly rather than by init() side effects, so that a test can
// build a gateway with exactly the carriers it wants. Everything else that
// names carriers comes from it: the carriers file's names and "did you
// mean", the SMS carriers' order of preference (their order here), the
// names --outbound-rates and --notify-carriers accept, the start-up log,
// the environment section of `serve --help` and the carriers' part of
// docs/operations.md (`make docs`).
//
// Adding a carrier is its package under carriers/ plus its entry here.
var registry = []carrierEntry{
	{name: "africastalking", title: "Africa's Talking", kind: kindUSSD,
		handler: func(b *carrierBuild) (inbound, error) {
			return inbound{carrier: africastalking.New(africastalking.Options{Limit: b.cfg.Limit, Log: b.log})}, nil
		}},
	{name: "hubtel", title: "Hubtel", kind: kindUSSD,
		handler: func(b *carrierBuild) (inbound, error) {
			return inbound{carrier: hubtel.New(hubtel.Options{Limit: b.cfg.Limit, Log: b.log})}, nil
		}},
	{name: "nalo", title: "Nalo", kind: kindUSSD,
		handler: func(b *carrierBuild) (inbound, error) {
			return inbound{carrier: nalo.New(nalo.Options{Limit: b.cfg.Limit, Log: b.log})}, nil
		}},
	{name: "generic", title: "the generic USSD protocol", kind: kindUSSD,
		handler: func(b *carrierBuild) (inbound, error) {
			return inbound{carrier: generic.New(generic.Options{Limit: b.cfg.Limit, Log: b.log})}, nil
		}},
	{name: "kannel-ussd", title: "Kannel", kind: kindUSSD,
		handler: func(b *carrierBuild) (inbound, error) {
			return inbound{carrier: kannel.NewUSSD(kannel.USSDOptions{Limit: b.cfg.Limit, Log: b.log})}, nil
		}},
	kannelSMS,
	twilioSMS,
	africasTalkingSMS,
	telegramChat,
}

// carrierKind is what a carrier carries.
type carrierKind string

const (
	kindUSSD carrierKind = "USSD"
	kindSMS  carrierKind = "SMS"
	kindChat carrierKind = "chat"
)

// envVar is one environment variable a carrier reads. Carriers' secrets
// come only from the environment: a flag would show them in the process
// list.
type envVar struct {
	name     string
	doc      string // what it is, for --help and docs/operations.md
	secret   bool   // a credential, never logged
	required bool   // the carrier is off without it
}

// carrierEntry is one carrier the gateway can serve.
type carrierEntry struct {
	name  string // in the carriers file, the log and the metrics; the name its adapter and its SMS sender go by
	title string // as people write it: "Africa's Talking"
	kind  carrierKind
	// screen says its replies are screens with a length limit, which the
	// carriers file's limit: sets, though it is not USSD (Kannel's SMS).
	screen bool
	env    []envVar
	// senders names the senders sender may build: the one named as the
	// carrier is its SMS sender; others carry chat (Twilio's WhatsApp).
	senders []string
	// sender builds its senders from its variables; none when they leave
	// it off. Nil: it sends nothing on its own.
	sender func(b *carrierBuild) ([]carrier.Sender, error)
	// handler builds what serves its callbacks; the zero inbound when its
	// variables leave it off. It runs after every sender is built, with
	// the outbound queue when there is one.
	handler func(b *carrierBuild) (inbound, error)
}

// limited says the carrier's replies are screens with a length limit:
// every USSD carrier's, and those of carriers that say so.
func (c *carrierEntry) limited() bool { return c.kind == kindUSSD || c.screen }

// inbound is what a carrier's handler gives the mount path.
type inbound struct {
	carrier carrier.Carrier // nil: off
	own     ownCheck        // the check the adapter makes itself, if any
	// poll says its hops arrive by polling the carrier (Telegram without
	// a webhook): nothing is mounted, serve runs it.
	poll bool
}

// poller is a carrier that fetches its hops itself.
type poller interface {
	Poll(ctx context.Context, h carrier.Hopper) error
}

// carrierBuild is what a carrier's entry builds from: its variables, its
// entry in the carriers file, and the gateway's logger, queue and store.
type carrierBuild struct {
	entry  *carrierEntry
	getenv func(string) (string, bool)
	cfg    carrierConfig
	log    *slog.Logger
	public string         // VENTANILLA_PUBLIC_URL, without a trailing slash
	queue  outbound.Queue // nil without senders, and while senders are built
	store  sessions.Store
	on     map[string]carrier.Sender // the senders built
}

// get reads one of the entry's variables. Reading one it does not declare
// is a mistake in the entry: --help and the docs would not list it.
func (b *carrierBuild) get(name string) string {
	if !slices.ContainsFunc(b.entry.env, func(v envVar) bool { return v.name == name }) {
		panic(fmt.Sprintf("carrier %s reads %s, which its entry does not declare", b.entry.name, name))
	}
	v, _ := b.getenv(name)
	return v
}

// given lists those of names that are set.
func (b *carrierBuild) given(names ...string) []string {
	var out []string
	for _, n := range names {
		if b.get(n) != "" {
			out = append(out, n)
		}
	}
	return out
}

// needs reports whether the required variables are set; when they are
// not while others of the entry are, it warns that what (the "carrier" or
// its "sender") is off for want of them.
func (b *carrierBuild) needs(what string, required ...string) bool {
	var missing, others []string
	for _, v := range b.entry.env {
		switch {
		case slices.Contains(required, v.name) && b.get(v.name) == "":
			missing = append(missing, v.name)
		case !slices.Contains(required, v.name) && b.get(v.name) != "":
			others = append(others, v.name)
		}
	}
	if len(missing) == 0 {
		return true
	}
	if len(others) > 0 {
		verb := " is not set"
		if len(missing) > 1 {
			verb = " are not set"
		}
		b.log.Warn(what+" off: "+strings.Join(missing, " and ")+verb, "carrier", b.entry.name, "set", strings.Join(others, ","))
	}
	return false
}

// kannelSMS is Kannel's SMS route: replies in smsbox's get-url answer,
// messages the gateway starts through smsbox's sendsms.
var kannelSMS = carrierEntry{
	name: "kannel-sms", title: "Kannel", kind: kindSMS, screen: true,
	env: []envVar{
		{name: "KANNEL_SENDSMS_URL", doc: "smsbox's `sendsms` URL (`http://127.0.0.1:13013`, with or without `/cgi-bin/sendsms`): messages the gateway starts go out through Kannel", required: true},
		{name: "KANNEL_USERNAME", doc: "the `sendsms-user`"},
		{name: "KANNEL_PASSWORD", doc: "the `sendsms-user`'s password", secret: true},
		{name: "KANNEL_FROM", doc: "sender of those messages"},
		{name: "KANNEL_SMSC", doc: "SMSC of those messages"},
	},
	senders: []string{"kannel-sms"},
	sender: func(b *carrierBuild) ([]carrier.Sender, error) {
		if !b.needs("sender", "KANNEL_SENDSMS_URL") {
			return nil, nil
		}
		return []carrier.Sender{kannel.Outbound{Sender: &kannel.Sender{BaseURL: b.get("KANNEL_SENDSMS_URL"),
			Username: b.get("KANNEL_USERNAME"), Password: b.get("KANNEL_PASSWORD"), From: b.get("KANNEL_FROM"), SMSC: b.get("KANNEL_SMSC")}}}, nil
	},
	handler: func(b *carrierBuild) (inbound, error) {
		return inbound{carrier: kannel.NewSMS(kannel.SMSOptions{Limit: b.cfg.Limit, Log: b.log})}, nil
	},
}

// twilioSMS is Twilio's SMS and WhatsApp. Inbound needs only the auth
// token and the public URL: replies travel in the webhook's TwiML answer.
var twilioSMS = carrierEntry{
	name: twilio.Name, title: "Twilio", kind: kindSMS,
	env: []envVar{
		{name: "TWILIO_AUTH_TOKEN", doc: "with `VENTANILLA_PUBLIC_URL`: inbound SMS and WhatsApp at `/sms/twilio`, replies as TwiML", secret: true, required: true},
		{name: "TWILIO_ACCOUNT_SID", doc: "with the auth token and a sender: messages the gateway starts go out by Twilio's REST API"},
		{name: "TWILIO_FROM", doc: "the SMS sender: our number"},
		{name: "TWILIO_MESSAGING_SERVICE_SID", doc: "the SMS sender: a Messaging Service, instead of `TWILIO_FROM`"},
		{name: "TWILIO_WHATSAPP_FROM", doc: "the WhatsApp sender number"},
		{name: "TWILIO_API_URL", doc: "base URL of Twilio's REST API instead of `https://api.twilio.com` (a regional edge, or a test server)"},
	},
	senders: []string{twilio.Name, twilio.WhatsApp},
	sender: func(b *carrierBuild) ([]carrier.Sender, error) {
		sid, token := b.get("TWILIO_ACCOUNT_SID"), b.get("TWILIO_AUTH_TOKEN")
		if sid == "" || token == "" {
			if given := b.given("TWILIO_ACCOUNT_SID", "TWILIO_FROM", "TWILIO_MESSAGING_SERVICE_SID", "TWILIO_WHATSAPP_FROM", "TWILIO_API_URL"); len(given) > 0 {
				missing := "TWILIO_ACCOUNT_SID"
				if token == "" {
					missing = "TWILIO_AUTH_TOKEN"
				}
				b.log.Warn("sender off: "+missing+" is not set", "carrier", twilio.Name, "set", strings.Join(given, ","))
			}
			return nil, nil
		}
		var out []carrier.Sender
		if from, svc := b.get("TWILIO_FROM"), b.get("TWILIO_MESSAGING_SERVICE_SID"); from != "" || svc != "" {
			s, err := twilio.NewSender(twilio.SenderOptions{AccountSID: sid, AuthToken: token, From: from, MessagingServiceSID: svc, StatusCallback: b.twilioStatusURL(), BaseURL: b.get("TWILIO_API_URL"), Log: b.log})
			if err != nil {
				return nil, fmt.Errorf("twilio sender: %w", err)
			}
			out = append(out, s)
		}
		if from := b.get("TWILIO_WHATSAPP_FROM"); from != "" {
			s, err := twilio.NewSender(twilio.SenderOptions{AccountSID: sid, AuthToken: token, From: from, WhatsApp: true, StatusCallback: b.twilioStatusURL(), BaseURL: b.get("TWILIO_API_URL"), Log: b.log})
			if err != nil {
				return nil, fmt.Errorf("whatsapp sender: %w", err)
			}
			out = append(out, s)
		}
		if len(out) == 0 {
			b.log.Warn("sender off: set TWILIO_FROM, TWILIO_MESSAGING_SERVICE_SID or TWILIO_WHATSAPP_FROM", "carrier", twilio.Name)
		}
		return out, nil
	},
	handler: func(b *carrierBuild) (inbound, error) {
		token := b.get("TWILIO_AUTH_TOKEN")
		switch {
		case token != "" && b.public == "":
			b.log.Warn("carrier off: VENTANILLA_PUBLIC_URL is not set, so no Twilio signature can be checked", "carrier", twilio.Name)
			return inbound{}, nil
		case token == "":
			if b.public != "" {
				b.log.Warn("carrier off: TWILIO_AUTH_TOKEN is not set", "carrier", twilio.Name)
			}
			return inbound{}, nil
		}
		opts := twilio.Options{PublicURL: b.public + "/sms/twilio", StatusURL: b.twilioStatusURL(), AuthToken: token, Log: b.log}
		if b.queue != nil {
			opts.Status = statusSink{b.queue}
		}
		h, err := twilio.New(opts)
		if err != nil {
			return inbound{}, fmt.Errorf("twilio: %w", err)
		}
		return inbound{carrier: h, own: ownCheck{name: "twilio signature"}}, nil
	},
}

// twilioStatusURL is where Twilio reports deliveries: "" without a
// public URL.
func (b *carrierBuild) twilioStatusURL() string {
	if b.public == "" {
		return ""
	}
	return b.public + "/sms/twilio/status"
}

// africasTalkingSMS is Africa's Talking's two-way SMS: replies go out
// through its API, so the callback is on only with the sender.
var africasTalkingSMS = carrierEntry{
	name: atsms.Name, title: "Africa's Talking", kind: kindSMS,
	env: []envVar{
		{name: "AT_USERNAME", doc: "Africa's Talking SMS: the account (`sandbox` for the sandbox); with the API key, the sender and the inbound callback `/sms/africastalking`", required: true},
		{name: "AT_API_KEY", doc: "the account's API key", secret: true, required: true},
		{name: "AT_SMS_FROM", doc: "our short code or alphanumeric sender id"},
		{name: "AT_SMS_BASE_URL", doc: "base URL of Africa's Talking's API (default production; the sandbox when `AT_USERNAME=sandbox`)"},
	},
	senders: []string{atsms.Name},
	sender: func(b *carrierBuild) ([]carrier.Sender, error) {
		if !b.needs("carrier", "AT_USERNAME", "AT_API_KEY") {
			return nil, nil
		}
		s, err := atsms.NewSender(atsms.SenderOptions{Username: b.get("AT_USERNAME"), APIKey: b.get("AT_API_KEY"), From: b.get("AT_SMS_FROM"), BaseURL: b.get("AT_SMS_BASE_URL")})
		if err != nil {
			return nil, fmt.Errorf("africa's talking sms sender: %w", err)
		}
		return []carrier.Sender{s}, nil
	},
	handler: func(b *carrierBuild) (inbound, error) {
		if b.on[atsms.Name] == nil {
			return inbound{}, nil
		}
		h, err := atsms.New(atsms.Options{Outbox: b.queue, Log: b.log})
		if err != nil {
			return inbound{}, fmt.Errorf("africa's talking sms: %w", err)
		}
		return inbound{carrier: h}, nil
	},
}

// telegramChat is the Telegram bot: by webhook with a secret, else by
// long polling. A bot that cannot start is logged and left off, so that
// an outage there never keeps the USSD and SMS channels down.
var telegramChat = carrierEntry{
	name: "telegram", title: "Telegram", kind: kindChat,
	env: []envVar{
		{name: "TELEGRAM_BOT_TOKEN", doc: "the bot's token: Telegram is on", secret: true, required: true},
		{name: "TELEGRAM_WEBHOOK_SECRET", doc: "the webhook's secret: updates arrive at `/chat/telegram`; without it, long polling", secret: true},
		{name: "TELEGRAM_API_ENDPOINT", doc: "Bot API URL pattern with two `%s` (token, method) instead of `https://api.telegram.org/bot%s/%s` (a local Bot API server, or a test server)"},
	},
	handler: func(b *carrierBuild) (inbound, error) {
		if !b.needs("carrier", "TELEGRAM_BOT_TOKEN") {
			return inbound{}, nil
		}
		secret := b.get("TELEGRAM_WEBHOOK_SECRET")
		bot, err := telegram.New(telegram.Options{Token: b.get("TELEGRAM_BOT_TOKEN"), WebhookSecret: secret, APIEndpoint: b.get("TELEGRAM_API_ENDPOINT"), Links: sessions.Plain{Store: b.store}, Log: b.log})
		if err != nil {
			b.log.Error("carrier off: the Telegram bot could not start", "carrier", "telegram", "err", err)
			return inbound{}, nil
		}
		if secret == "" {
			return inbound{carrier: bot, poll: true}, nil
		}
		return inbound{carrier: bot, own: ownCheck{name: "webhook secret", secretVar: "TELEGRAM_WEBHOOK_SECRET", secret: secret}}, nil
	},
}
