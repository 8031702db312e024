package kannel_test

import (
	"bufio"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/carriers/kannel"
	"github.com/ventanilla-gob/ventanilla/carriers/kannel/conf"
)

// group is one "group = x" block of a kannel.conf.
type group map[string]string

// readConf reads Kannel's config syntax: "key = value" lines, groups
// separated by blank lines, # comments, values optionally quoted.
func readConf(t *testing.T, name string) []group {
	t.Helper()
	f, err := conf.Files.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var groups []group
	var cur group
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			if line == "" {
				cur = nil
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: not key = value: %q", name, line)
		}
		k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"`)
		if k == "group" {
			cur = group{}
			groups = append(groups, cur)
		} else if cur == nil {
			t.Fatalf("%s: %q outside a group", name, line)
		}
		cur[k] = v
	}
	return groups
}

func find(groups []group, kind, key, value string) group {
	for _, g := range groups {
		if g["group"] == kind && (key == "" || g[key] == value) {
			return g
		}
	}
	return nil
}

// The shipped files are what kanneltest runs Kannel from; this holds the
// settings the adapters rely on, named, so that a change to one of them
// says what it breaks.
func TestShippedConfiguration(t *testing.T) {
	expect := func(t *testing.T, g group, kv ...string) {
		t.Helper()
		if g == nil {
			t.Fatal("group missing")
		}
		for i := 0; i < len(kv); i += 2 {
			if g[kv[i]] != kv[i+1] {
				t.Errorf("%s group: %s = %q, want %q", g["group"], kv[i], g[kv[i]], kv[i+1])
			}
		}
	}
	main := readConf(t, "kannel.conf")
	t.Run("ussd", func(t *testing.T) {
		c := readConf(t, "ussd-smsbox.conf")
		svc := find(c, "sms-service", "", "")
		if !strings.HasSuffix(svc["get-url"], "/ussd/kannel?"+kannel.Query) {
			t.Errorf("get-url %q does not end in /ussd/kannel?%s", svc["get-url"], kannel.Query)
		}
		// omit-empty: the 202 that answers a release sends nothing.
		// One message a screen, never split or cut.
		expect(t, svc, "accept-x-kannel-headers", "true", "omit-empty", "true", "max-messages", "1", "concatenation", "false")
		expect(t, find(c, "smsbox", "", ""), "smsbox-id", "ussdbox", "sms-length", "160")
		expect(t, find(c, "core", "", ""), "smsbox-port", find(main, "core", "", "")["smsbox-port"])
		expect(t, find(main, "smpp-tlv", "name", "ussd_service_op"), "tag", "0x0501", "type", "octetstring", "length", "1", "smsc-id", "ussd")
		expect(t, find(main, "smpp-tlv", "name", "its_session_info"), "tag", "0x1383", "type", "octetstring", "length", "2", "smsc-id", "ussd")
		expect(t, find(main, "smsc", "smsc-id", "ussd"), "smsc", "smpp", "max-sms-octets", "160", "allowed-smsc-id", "ussd")
		expect(t, find(main, "smsbox-route", "", ""), "smsbox-id", "ussdbox", "smsc-id", "ussd")
	})
	t.Run("sms", func(t *testing.T) {
		svc := find(main, "sms-service", "", "")
		if !strings.HasSuffix(svc["get-url"], "/sms/kannel?"+kannel.Query) {
			t.Errorf("get-url %q does not end in /sms/kannel?%s", svc["get-url"], kannel.Query)
		}
		expect(t, svc, "accept-x-kannel-headers", "true", "omit-empty", "true", "concatenation", "true")
		if svc["max-messages"] == "" || svc["max-messages"] == "1" {
			t.Errorf("sms-service max-messages %q: Kannel's default of 1 cuts long replies", svc["max-messages"])
		}
		expect(t, find(main, "smsc", "smsc-id", "sms"), "denied-smsc-id", "ussd")
		if find(main, "sendsms-user", "username", "ventanilla") == nil {
			t.Error("no sendsms-user for kannel.Sender")
		}
		// bearerbox reads the smsbox group of its own file too.
		if find(main, "smsbox", "", "") == nil {
			t.Error("kannel.conf has no smsbox group")
		}
	})
}
