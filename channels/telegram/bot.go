package telegram

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

const (
	name = "telegram"

	// DefaultPath is the webhook route.
	DefaultPath = "/chat/telegram"
	// SecretHeader is where Telegram puts the secret_token given to
	// setWebhook.
	SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

	// Keyboard kinds.
	KeyboardInline = "inline" // buttons under the message; a press is a callback query
	KeyboardReply  = "reply"  // buttons replace the phone's keyboard; a press sends the label

	// LinkTTL is how long a chat's link to a phone number is kept after
	// the chat was last used: as long as the gateway remembers the
	// language chosen for that number.
	LinkTTL = 400 * 24 * time.Hour

	maxBody = 1 << 20 // bytes of one webhook update
	// sendTimeout bounds one call to the Bot API made while handling an
	// update.
	sendTimeout = 10 * time.Second
	// handleTimeout bounds all the work of one update (the hop, then the
	// replies), well inside the time Telegram waits for a webhook answer.
	handleTimeout = 30 * time.Second
	// longPoll is how long one getUpdates waits for updates.
	longPoll = 25 * time.Second
)

// allowedUpdates are the update kinds the adapter handles; asking for
// only these keeps Telegram from sending the rest.
var allowedUpdates = []string{"message", "callback_query"}

var (
	// ErrTokenRejected: the Bot API refused the token (401 or 404): it
	// was revoked, mistyped, or belongs to no bot.
	ErrTokenRejected = errors.New("telegram: bot token rejected")
	// ErrBothModes: a bot gets updates by webhook or by long polling,
	// never both; Telegram refuses getUpdates while a webhook is set.
	ErrBothModes = errors.New("telegram: webhook and long polling are exclusive")
)

var (
	tokenRe  = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{1,100}$`)
	secretRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
)

// Options configures a Bot. Token is required; zero values of the rest
// take the defaults.
type Options struct {
	// Token is the bot's token from @BotFather ("123456:ABC-DEF…").
	Token string
	// WebhookSecret is the secret_token given to setWebhook (1–256
	// characters of A-Z, a-z, 0-9, _ and -). Webhook requests must carry
	// it in SecretHeader. Leave it empty only for long polling: a mounted
	// webhook without a secret refuses every request.
	WebhookSecret string
	// Path is the webhook route (DefaultPath).
	Path string
	// APIEndpoint is the Bot API URL pattern with the token and the method
	// as its two %s (tgbotapi.APIEndpoint, "https://api.telegram.org/bot%s/%s").
	APIEndpoint string
	// HTTPClient makes the calls to the Bot API. Every call also carries
	// its own deadline; a Timeout, if set, shortens the long-poll wait to
	// half of it. Default: a client with no Timeout of its own.
	HTTPClient *http.Client
	// Links keeps each chat's record (the linked phone number and the last
	// keyboard); the gateway's session store is the natural place
	// (sessions.Plain). Nil disables phone linking and the check for
	// presses on old buttons, and is not allowed with reply keyboards.
	Links Links
	// Keyboard is KeyboardInline (default) or KeyboardReply.
	Keyboard string
	// DefaultRegion is the ISO 3166 region a shared number without country
	// code is read in (default "EC"). Telegram sends the account's number
	// in international form, so this is a fallback.
	DefaultRegion string
	// Log receives operational events; it never gets personal data.
	Log *slog.Logger
}

// Bot is the Telegram adapter: a carrier.Carrier for webhook mode, and
// Poll for long polling.
type Bot struct {
	opts   Options
	bot    *tgbotapi.BotAPI // as built by the library; used through api()
	client *http.Client
	log    *slog.Logger

	secret    [sha256.Size]byte
	hasSecret bool
	poll      time.Duration

	mode atomic.Int32
}

const (
	modeIdle int32 = iota
	modeWebhook
	modePolling
)

var _ carrier.Carrier = (*Bot)(nil)

// New checks opts and the token: it calls getMe once, so an unknown or
// revoked token fails here (wrapping ErrTokenRejected) rather than on the
// first citizen's message. That call needs the Bot API to be reachable.
func New(opts Options) (*Bot, error) {
	if !tokenRe.MatchString(opts.Token) {
		return nil, errors.New(`telegram: the token is not a bot token ("<digits>:<letters, digits, _ or ->")`)
	}
	if opts.WebhookSecret != "" && !secretRe.MatchString(opts.WebhookSecret) {
		return nil, errors.New("telegram: the webhook secret must be 1–256 characters of A-Z, a-z, 0-9, _ and -")
	}
	if opts.Path == "" {
		opts.Path = DefaultPath
	}
	if !strings.HasPrefix(opts.Path, "/") {
		return nil, fmt.Errorf("telegram: path %q does not start with /", opts.Path)
	}
	if opts.APIEndpoint == "" {
		opts.APIEndpoint = tgbotapi.APIEndpoint
	}
	if strings.Count(opts.APIEndpoint, "%s") != 2 || strings.Count(opts.APIEndpoint, "%") != 2 {
		return nil, fmt.Errorf("telegram: API endpoint %q must hold exactly two %%s (token, method)", opts.APIEndpoint)
	}
	switch opts.Keyboard {
	case "":
		opts.Keyboard = KeyboardInline
	case KeyboardInline:
	case KeyboardReply:
		if opts.Links == nil {
			return nil, errors.New("telegram: reply keyboards need Links to map a pressed label back to its choice")
		}
	default:
		return nil, fmt.Errorf("telegram: keyboard %q is neither %q nor %q", opts.Keyboard, KeyboardInline, KeyboardReply)
	}
	if opts.DefaultRegion == "" {
		opts.DefaultRegion = "EC"
	}
	b := &Bot{opts: opts, client: opts.HTTPClient, poll: longPoll}
	if b.client == nil {
		b.client = &http.Client{}
	}
	if t := b.client.Timeout; t > 0 {
		b.poll = max(min(b.poll, t/2), time.Second)
	}
	b.log = opts.Log
	if b.log == nil {
		b.log = slog.Default()
	}
	b.log = b.log.With("carrier", name)
	if opts.WebhookSecret != "" {
		b.secret, b.hasSecret = sha256.Sum256([]byte(opts.WebhookSecret)), true
	}

	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	client := &boundClient{c: b.client, ctx: ctx, token: opts.Token}
	bot, err := tgbotapi.NewBotAPIWithClient(opts.Token, opts.APIEndpoint, client)
	if err != nil {
		if code, _ := apiError(err); code == http.StatusUnauthorized || code == http.StatusNotFound {
			return nil, fmt.Errorf("%w (getMe answered %d)", ErrTokenRejected, code)
		}
		return nil, fmt.Errorf("telegram: getMe: %w", err)
	}
	b.bot = bot
	return b, nil
}

// Name returns "telegram".
func (b *Bot) Name() string { return name }

// Username is the bot's @username as getMe reported it.
func (b *Bot) Username() string { return b.bot.Self.UserName }

// Mount registers the webhook route, POST Path. A bot that is polling is
// not mounted.
func (b *Bot) Mount(r carrier.Router, h carrier.Hopper) {
	if b.mode.Swap(modeWebhook) == modePolling {
		b.mode.Store(modePolling)
		b.log.Error("webhook not mounted: the bot is long polling", "err", ErrBothModes)
		return
	}
	if !b.hasSecret {
		b.log.Error("telegram webhook mounted without a secret; every update will be refused")
	}
	r.Add(http.MethodPost, b.opts.Path, func(c echo.Context) error { return b.serve(c, h) })
}

// SetWebhook tells Telegram to deliver updates to url (https, on port
// 443, 80, 88 or 8443) with the webhook secret, and only the update
// kinds the adapter handles. The library's WebhookConfig (v5.5.1)
// predates secret_token, so the call is made with raw parameters.
func (b *Bot) SetWebhook(ctx context.Context, url string) error {
	if !b.hasSecret {
		return errors.New("telegram: setWebhook needs a webhook secret")
	}
	if !strings.HasPrefix(url, "https://") {
		return fmt.Errorf("telegram: webhook URL %q is not https", url)
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	params := tgbotapi.Params{"url": url, "secret_token": b.opts.WebhookSecret}
	if err := params.AddInterface("allowed_updates", allowedUpdates); err != nil {
		return err
	}
	if _, err := b.api(ctx).MakeRequest("setWebhook", params); err != nil {
		return fmt.Errorf("telegram: setWebhook: %w", err)
	}
	return nil
}
