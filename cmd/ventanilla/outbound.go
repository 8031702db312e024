package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"ventanilla/carriers/atsms"
	"ventanilla/carriers/kannel"
	"ventanilla/carriers/twilio"
	"ventanilla/channels"
	"ventanilla/channels/notify"
	"ventanilla/channels/outbound"
	"ventanilla/sessions"
)

// outboundPath is the queue of messages the gateway sends on its own, the
// carriers that need it, and the notifications API.
type outboundPath struct {
	queue   outbound.Queue
	stopRun context.CancelFunc
	done    sync.WaitGroup
	sms     string // the carrier that sends SMS, "" when none
}

// textChannels sets up the outbound path from the environment: senders
// for the carriers whose credentials are set, the queue (durable in Redis
// when sessions are), the Twilio and Africa's Talking SMS callbacks, the
// notifications API when templates are configured, and the engine's
// notifier for late results.
func (a *app) textChannels(e *echo.Echo, getenv func(string) (string, bool), carrierCfg map[string]carrierConfig, store sessions.Store) error {
	get := func(k string) string { v, _ := getenv(k); return v }
	public := strings.TrimRight(get("VENTANILLA_PUBLIC_URL"), "/")
	senders := map[string]channels.Sender{}
	statusURL := ""
	if public != "" {
		statusURL = public + "/sms/twilio/status"
	}
	if sid, token := get("TWILIO_ACCOUNT_SID"), get("TWILIO_AUTH_TOKEN"); sid != "" && token != "" {
		if from, svc := get("TWILIO_FROM"), get("TWILIO_MESSAGING_SERVICE_SID"); from != "" || svc != "" {
			s, err := twilio.NewSender(twilio.SenderOptions{AccountSID: sid, AuthToken: token, From: from, MessagingServiceSID: svc, StatusCallback: statusURL, BaseURL: get("TWILIO_API_URL")})
			if err != nil {
				return fmt.Errorf("twilio sender: %w", err)
			}
			senders[s.Name()] = s
		}
		if from := get("TWILIO_WHATSAPP_FROM"); from != "" {
			s, err := twilio.NewSender(twilio.SenderOptions{AccountSID: sid, AuthToken: token, From: from, WhatsApp: true, StatusCallback: statusURL, BaseURL: get("TWILIO_API_URL")})
			if err != nil {
				return fmt.Errorf("whatsapp sender: %w", err)
			}
			senders[s.Name()] = s
		}
	}
	if user, key := get("AT_USERNAME"), get("AT_API_KEY"); user != "" && key != "" {
		s, err := atsms.NewSender(atsms.SenderOptions{Username: user, APIKey: key, From: get("AT_SMS_FROM"), BaseURL: get("AT_SMS_BASE_URL")})
		if err != nil {
			return fmt.Errorf("africa's talking sms sender: %w", err)
		}
		senders[s.Name()] = s
	}

	if base := get("KANNEL_SENDSMS_URL"); base != "" {
		s := kannel.Outbound{Sender: &kannel.Sender{BaseURL: base, Username: get("KANNEL_USERNAME"), Password: get("KANNEL_PASSWORD"), From: get("KANNEL_FROM"), SMSC: get("KANNEL_SMSC")}}
		senders[s.Name()] = s
	}
	if len(senders) == 0 {
		if a.cfg.NotifyTemplates != "" {
			return errors.New("--notify-templates: notifications need a sender; set the credentials of an SMS carrier (Twilio or Africa's Talking)")
		}
		return nil // replies travel in the carriers' responses; nothing to send on our own
	}
	rates, err := parseRates(a.cfg.OutboundRates)
	if err != nil {
		return err
	}
	opts := outbound.Options{Senders: senders, Rates: rates, Log: a.log}
	p := &outboundPath{}
	if r, ok := sessions.Unwrap(store).(*sessions.Redis); ok {
		p.queue, err = outbound.NewRedis(r.Client(), opts, outbound.RedisOptions{})
		if err == nil && a.breaker != nil {
			p.queue = outbound.WithBreaker(p.queue, a.breaker)
		}
	} else {
		p.queue, err = outbound.NewMemory(opts)
	}
	if err != nil {
		return fmt.Errorf("outbound queue: %w", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	p.stopRun = stop
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		if err := p.queue.Run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error("outbound queue stopped", "err", err)
		}
	}()
	a.outbound = p
	a.metrics.Gauge("outbound_queue_depth", "Messages waiting in the outbound queue.", func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		n, _ := p.queue.Depth(ctx)
		return float64(n)
	})
	for _, name := range []string{"kannel-sms", "twilio", "africastalking-sms"} {
		if _, ok := senders[name]; ok && p.sms == "" {
			p.sms = name
		}
	}
	if p.sms != "" {
		// Results of slow async calls, and one-time codes of level 2
		// flows, go out by SMS.
		a.gateway.Engine.Notifier = smsNotifier{queue: p.queue, carrier: p.sms}
		a.gateway.Engine.OTP = smsNotifier{queue: p.queue, carrier: p.sms}
		a.gateway.Engine.PINs = channels.PINs{Store: store}
	}

	// Inbound SMS and WhatsApp.
	if token := get("TWILIO_AUTH_TOKEN"); token != "" && public != "" && !carrierCfg["twilio"].Disabled {
		h, err := twilio.New(twilio.Options{PublicURL: public + "/sms/twilio", StatusURL: statusURL, AuthToken: token, Status: statusSink{p.queue}})
		if err != nil {
			return fmt.Errorf("twilio: %w", err)
		}
		if err := a.mount(e, h, carrierCfg["twilio"], getenv); err != nil {
			return err
		}
	}
	if _, ok := senders["africastalking-sms"]; ok && !carrierCfg["africastalking-sms"].Disabled {
		h, err := atsms.New(atsms.Options{Outbox: p.queue})
		if err != nil {
			return fmt.Errorf("africa's talking sms: %w", err)
		}
		if err := a.mount(e, h, carrierCfg["africastalking-sms"], getenv); err != nil {
			return err
		}
	}

	// The notifications API, when templates are configured.
	if a.cfg.NotifyTemplates == "" {
		return nil
	}
	tpl, err := notify.LoadTemplates(a.cfg.NotifyTemplates)
	if err != nil {
		return err
	}
	tokens, err := pairs("VENTANILLA_NOTIFY_TOKENS", get("VENTANILLA_NOTIFY_TOKENS"))
	if err != nil {
		return err
	}
	routes, err := pairs("--notify-carriers", a.cfg.NotifyCarriers)
	if err != nil {
		return err
	}
	if len(routes) == 0 && p.sms != "" {
		routes = map[string]string{"sms": p.sms}
		if _, ok := senders["whatsapp"]; ok {
			routes["whatsapp"] = "whatsapp"
		}
	}
	h, err := notify.New(notify.Options{Queue: p.queue, Store: store, Templates: tpl, Tokens: tokens, Carriers: routes, Transliterate: a.cfg.SMSTranslit, Log: a.log})
	if err != nil {
		return fmt.Errorf("notifications: %w", err)
	}
	h.Mount(e)
	return nil
}

// mount mounts a carrier behind the authentication its configuration sets.
func (a *app) mount(e *echo.Echo, c channels.Carrier, cc carrierConfig, getenv func(string) (string, bool)) error {
	auth, err := cc.auth(getenv)
	if err != nil {
		return fmt.Errorf("carrier %s: %w", c.Name(), err)
	}
	channels.Mount(e, c, auth, a.gateway)
	return nil
}

// close drains the queue (within ctx) and stops its workers.
func (p *outboundPath) close(ctx context.Context) error {
	if p == nil {
		return nil
	}
	err := p.queue.Close(ctx)
	p.stopRun()
	p.done.Wait()
	return err
}

// statusSink hands Twilio's delivery reports to the queue. Reports of
// replies sent inside Twilio's own webhook response are unknown to the
// queue and ignored.
type statusSink struct{ q outbound.Queue }

func (s statusSink) MarkDelivered(ctx context.Context, providerID, state string) error {
	if err := s.q.MarkDelivered(ctx, providerID, state); err != nil && !errors.Is(err, outbound.ErrNotFound) {
		return err
	}
	return nil
}

// smsNotifier sends results of slow async calls by SMS.
type smsNotifier struct {
	queue   outbound.Queue
	carrier string
}

func (n smsNotifier) Notify(ctx context.Context, phone, _ string, text string) error {
	_, err := n.queue.Enqueue(ctx, channels.Message{
		// Random: ids are logged and name Redis keys, so no number in them.
		ID:      "async_" + strings.ToLower(rand.Text()),
		Channel: "sms", Carrier: n.carrier, To: phone, Text: text,
	})
	return err
}

// parseRates reads "twilio=1,africastalking-sms=10".
func parseRates(s string) (map[string]float64, error) {
	out := map[string]float64{}
	kv, err := pairs("--outbound-rates", s)
	if err != nil {
		return nil, err
	}
	for k, v := range kv {
		var r float64
		if _, err := fmt.Sscanf(v, "%g", &r); err != nil || r <= 0 {
			return nil, fmt.Errorf("--outbound-rates: %s=%q is not a positive number of segments per second", k, v)
		}
		out[k] = r
	}
	return out, nil
}

// pairs reads "a=b,c=d".
func pairs(what, s string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("%s: %q is not name=value", what, p)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}
