package main

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/indicators"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// documentedKeys reads the table of Redis keys in docs/privacy.md: each
// key pattern as a regular expression.
func documentedKeys(t *testing.T) map[string]*regexp.Regexp {
	t.Helper()
	doc, err := os.ReadFile("../../docs/privacy.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "### What Redis holds")
	if !ok {
		t.Fatal(`docs/privacy.md has no "What Redis holds" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	placeholders := map[string]string{
		"<citizen>": `[0-9a-f]{32}`,
		"<window>":  `[0-9]+`,
		"<channel>": `(ussd|sms|chat)`,
	}
	keys := map[string]*regexp.Regexp{}
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		pattern := strings.TrimPrefix(line, "| `")
		pattern, _, _ = strings.Cut(pattern, "`")
		re := regexp.QuoteMeta(pattern)
		for p, sub := range placeholders {
			re = strings.ReplaceAll(re, regexp.QuoteMeta(p), sub)
		}
		re = regexp.MustCompile(`<[a-z-]+>`).ReplaceAllString(re, `[^{}:]+`)
		keys[pattern] = regexp.MustCompile("^" + re + "$")
	}
	if len(keys) < 10 {
		t.Fatalf("docs/privacy.md lists %d Redis keys; the table was not read", len(keys))
	}
	return keys
}

// Written by parts of the gateway this test does not run; their own tests
// (named here) write them.
var keysWrittenElsewhere = map[string]string{
	"ventanilla:link:telegram:<chat>":              "channels/telegram",
	"ventanilla:notify:<id>":                       "channels/notify",
	"{ventanilla:outbound}:stream:<carrier>":       "channels/outbound",
	"{ventanilla:outbound}:delayed:<carrier>":      "channels/outbound",
	"{ventanilla:outbound}:msg:<id>":               "channels/outbound",
	"{ventanilla:outbound}:provider:<provider-id>": "channels/outbound",
	"{ventanilla:outbound}:finished":               "channels/outbound",
	"{ventanilla:reminders}:due":                   "internal/reminders",
	"{ventanilla:reminders}:r:<id>":                "internal/reminders",
	"{ventanilla:reminders}:key:<key>":             "internal/reminders",
	"{ventanilla:callbacks}:due":                   "channels/notify/callbacks",
	"{ventanilla:callbacks}:d:<id>":                "channels/notify/callbacks",
}

// Every key the gateway writes in Redis is in docs/privacy.md's table,
// every row of the table is a key the gateway writes, and no key holds a
// citizen's number: a copy of Redis names no one by their keys.
func TestRedisKeysAreDocumentedAndNameNoOne(t *testing.T) {
	client := redistest.Start(t)
	_, a := gatewayLogging(t, &config{
		RedisURL: "redis://" + client.Options().Addr + "/0", NearSessions: 1000, RedisBatch: true,
		SharedLimits: true, LimitPhone: 100, LimitCarrier: 1000,
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := t.Context()
	hop := func(in carrier.Inbound) {
		t.Helper()
		if _, err := a.gateway.Hop(ctx, in); err != nil {
			t.Fatalf("hop %+v: %v", in, err)
		}
	}
	ussd := carrier.Inbound{Channel: "ussd", Carrier: "africastalking", SessionID: "s1", Phone: "+593991234501", ServiceCode: "*384#", Cumulative: true}
	hop(ussd)
	ussd.Input = "2" // English: remembered in the profile; the conversation goes on
	hop(ussd)
	hop(carrier.Inbound{Channel: "sms", Carrier: "twilio", Phone: "+593991234502", Input: "hola"})
	hop(carrier.Inbound{Channel: "chat", Carrier: "whatsapp", Phone: "+593991234503", Input: "hola"})
	hop(carrier.Inbound{Channel: "ussd", Carrier: "africastalking", SessionID: "no-number", ServiceCode: "*384#", Cumulative: true})
	if err := (gateway.Pending{Store: a.store}).Notify(ctx, "+593991234504", "", "Su turno T-0001"); err != nil {
		t.Fatal(err)
	}
	pins := gateway.PINs{Store: a.store, Cost: 2}
	if err := pins.Set(ctx, "+593991234505", "1234"); err != nil {
		t.Fatal(err)
	}
	if ok, err := pins.Check(ctx, "+593991234505", "0000"); ok || err != nil {
		t.Fatalf("a wrong PIN: %v, %v", ok, err)
	}
	if ok, err := (gateway.Ratings{Store: a.store}).Ask(ctx, "+593991234506", "buzon", time.Hour); !ok || err != nil {
		t.Fatalf("asking to rate: %v, %v", ok, err)
	}
	if err := a.gateway.Questions.Ask(ctx, "+593991234507", gateway.Question{ID: "T-0001/24h", Kind: "reminder", Flow: "turnos"}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	a.counter.Started(indicators.Dims{Flow: "buzon", Channel: "ussd", Carrier: "africastalking", Locale: "es"})
	if err := a.counter.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	documented := documentedKeys(t)
	seen := map[string]bool{}
	keys, err := client.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, "99123450") {
			t.Errorf("Redis key %q holds a phone number", k)
		}
		var row string
		for pattern, re := range documented {
			if re.MatchString(k) {
				row = pattern
			}
		}
		if row == "" {
			t.Errorf("Redis key %q is not in docs/privacy.md's table of keys", k)
		}
		seen[row] = true
	}
	for pattern := range documented {
		if !seen[pattern] && keysWrittenElsewhere[pattern] == "" {
			t.Errorf("docs/privacy.md lists %s, which the gateway did not write (keys: %q)", pattern, keys)
		}
	}
}

// legacyValue is a record as the store writes it: its revision, then data.
func legacyValue(data string) string {
	return string(binary.BigEndian.AppendUint64(nil, 1)) + data
}

// Upgrading from a version that kept numbers in clear in keys: the first
// start moves every record to its digested key, keeping its TTL, and a
// returning citizen is greeted in their language with the result kept
// for them — on one server and on a Cluster, where keys lie on every
// master.
func TestUpgradeMovesRecordsKeyedByNumber(t *testing.T) {
	t.Run("server", func(t *testing.T) {
		client := redistest.Start(t)
		upgrade(t, client, &config{RedisURL: "redis://" + client.Options().Addr + "/0", NearSessions: 1000, RedisBatch: true})
	})
	t.Run("cluster", func(t *testing.T) {
		client := redistest.StartCluster(t)
		upgrade(t, client, &config{RedisAddrs: strings.Join(redistest.ClusterAddrs(t), ","), NearSessions: 1000, RedisBatch: true})
	})
}

func upgrade(t *testing.T, client redis.UniversalClient, c *config) {
	ctx := t.Context()
	const citizens = 300
	phone := func(i int) string { return "+5939910" + strings.Repeat("0", 5-len(itoa(i))) + itoa(i) }
	for i := range citizens {
		p := phone(i)
		for k, v := range map[string]string{"profile:" + p: "en", "pref:" + p: "sms"} {
			if err := client.Set(ctx, "ventanilla:"+k, legacyValue(v), 300*24*time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := client.Set(ctx, "ventanilla:pending:"+phone(7), legacyValue("Your appointment T-0007 is booked."), time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	srv := gatewayFor(t, c)

	var left []string
	for _, pattern := range []string{"ventanilla:profile:+*", "ventanilla:pref:+*", "ventanilla:pending:+*"} {
		keys := scanAll(t, client, pattern)
		left = append(left, keys...)
	}
	if len(left) > 0 {
		t.Errorf("%d keys with a number in clear left after the start: %q", len(left), left[:min(5, len(left))])
	}
	if n := len(scanAll(t, client, "ventanilla:profile:{*}")); n != citizens {
		t.Errorf("%d profiles under digested keys, want %d", n, citizens)
	}
	for _, k := range scanAll(t, client, "ventanilla:profile:{*}") {
		if ttl := client.PTTL(ctx, k).Val(); ttl < 299*24*time.Hour || ttl > 300*24*time.Hour {
			t.Fatalf("%s moved with TTL %v, want the 300 days it had", k, ttl)
		}
	}
	for _, i := range []int{0, 7, citizens - 1} {
		d := &dialer{t: t, url: srv.URL, session: "back-" + itoa(i), phone: phone(i)}
		r := d.send("")
		if !strings.Contains(r, "Citizen services") {
			t.Errorf("citizen %d after the upgrade: %q, want the English menu", i, r)
		}
		if i == 7 && !strings.Contains(r, "T-0007") {
			t.Errorf("citizen 7 after the upgrade: %q, want the result kept for them", r)
		}
	}

	// An instance of the earlier version, still running during a rolling
	// upgrade, keeps writing old keys: the next start moves them, in the
	// background now that a complete pass is recorded.
	if n, _ := client.Exists(ctx, "ventanilla:rekeyed").Result(); n != 1 {
		t.Fatal("the complete move is not recorded")
	}
	late := "ventanilla:profile:" + phone(citizens)
	if err := client.Set(ctx, late, legacyValue("qu"), time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	gatewayFor(t, c)
	testutil.WaitFor(t, "a key written by the earlier version after the first move to be moved", func() bool {
		return client.Exists(ctx, late).Val() == 0
	})
}

func scanAll(t *testing.T, client redis.UniversalClient, pattern string) []string {
	t.Helper()
	var (
		mu   sync.Mutex
		keys []string
	)
	scan := func(ctx context.Context, c *redis.Client) error {
		ks, err := c.Keys(ctx, pattern).Result()
		mu.Lock()
		keys = append(keys, ks...)
		mu.Unlock()
		return err
	}
	var err error
	if cc, ok := client.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(t.Context(), func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(t.Context(), client.(*redis.Client))
	}
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// Two instances started without VENTANILLA_PSEUDONYM_KEY on one Cluster
// name a citizen alike (the key kept in Redis), so a conversation goes on
// from one to the other and a language chosen on one is known to the
// other.
func TestTwoInstancesOnAClusterNameCitizensAlike(t *testing.T) {
	client := redistest.StartCluster(t)
	c := func() *config {
		return &config{RedisAddrs: strings.Join(redistest.ClusterAddrs(t), ","), NearSessions: 1000, RedisBatch: true}
	}
	a, b := gatewayFor(t, c()), gatewayFor(t, c())
	d := &dialer{t: t, url: a.URL, session: "two", phone: "+593991234599"}
	expect(t, d.send(""), "CON Bienvenido a Ventanilla")
	d.url = b.URL
	expect(t, d.send("2"), "Citizen services")
	d.url = a.URL
	expect(t, d.send("1"), "Appointments")

	// Dialling again: the conversation dropped mid-trámite, offered in
	// the language chosen.
	d = &dialer{t: t, url: b.URL, session: "again", phone: "+593991234599"}
	expect(t, d.send(""), "CON You have an unfinished procedure: Appointments.")
	if n := len(scanAll(t, client, "ventanilla:keyspace")); n != 1 {
		t.Errorf("%d keys that name citizens, want the one both instances share", n)
	}
}
