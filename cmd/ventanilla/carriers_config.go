package main

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/diag"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/suggest"
)

// carrierConfig is one carrier's entry in the carriers file:
//
//	carriers:
//	  africastalking:
//	    limit: 182                   # characters per screen
//	    budget: 10s                  # how long the carrier waits for a reply
//	    allow_ips: [196.201.214.0/24]
//	    basic_user: at
//	    basic_password_env: AT_CALLBACK_PASSWORD
//	    path_token_env: AT_CALLBACK_TOKEN
//	  hubtel:
//	    disabled: true
//
// Secrets are read from the environment variables the file names, never
// from the file.
type carrierConfig struct {
	Disabled         bool
	Limit            int
	Budget           time.Duration
	AllowIPs         []string
	BasicUser        string
	BasicPasswordEnv string
	PathTokenEnv     string
}

// carrierKeys are the keys of a carrier's entry, in the order the docs
// list them.
var carrierKeys = []string{"disabled", "limit", "budget", "allow_ips", "basic_user", "basic_password_env", "path_token_env"}

// loadCarriers reads the carriers file ("" means every carrier with its
// defaults and no callback authentication). A
// carrier, key or value the gateway does not know stops the start, each
// with its file:line:col and, for names, the one probably meant: a
// misspelt carrier would otherwise run with no callback authentication.
func loadCarriers(path string, getenv func(string) (string, bool), list []carrierEntry) (map[string]carrierConfig, error) {
	if path == "" {
		return map[string]carrierConfig{}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("carriers file: %w", err)
	}
	p := &carriersParser{r: &diag.Report{File: path}}
	known, limited := carrierNames(list)
	out := p.parse(data, known, limited)
	for _, name := range slices.Sorted(maps.Keys(out)) {
		if _, err := out[name].auth(getenv); err != nil {
			p.r.Add(diag.Problem{Path: "carriers." + name, Message: err.Error()})
		}
	}
	if len(p.r.Problems) > 0 {
		errs := make([]error, len(p.r.Problems))
		for i, pr := range p.r.Problems {
			errs[i] = errors.New(pr.String())
		}
		return nil, fmt.Errorf("carriers file:\n%w", errors.Join(errs...))
	}
	return out, nil
}

// carriersParser reads the carriers file the way every YAML file is read
// (package diag): aliases followed, merge keys and keys given twice refused.
type carriersParser struct{ r *diag.Report }

func (p *carriersParser) errorf(n *yaml.Node, path, format string, args ...any) {
	p.r.At(n, path, format, args...)
}

// unknown reports a name that is not one of known, with the one meant.
func (p *carriersParser) unknown(n *yaml.Node, path, what string, known []string) {
	msg := fmt.Sprintf("unknown %s %q", what, n.Value)
	if s := suggest.Closest(n.Value, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	p.errorf(n, path, "%s; known: %s", msg, strings.Join(known, ", "))
}

// mapping calls fn for each key of m, refusing keys that are not plain
// names and keys given twice.
func (p *carriersParser) mapping(m *yaml.Node, path string, fn func(key, val *yaml.Node)) {
	p.r.Pairs(m, path, nil, fn)
}

func (p *carriersParser) parse(data []byte, known, limited []string) map[string]carrierConfig {
	out := map[string]carrierConfig{}
	root, bad := diag.Parse(p.r.File, data)
	if bad != nil {
		p.r.Add(*bad)
		return nil
	}
	if root = diag.Resolve(root); root == nil || root.ShortTag() == "!!null" {
		return out
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "(top)", "want a mapping with a \"carriers\" key")
		return nil
	}
	p.mapping(root, "(top)", func(key, val *yaml.Node) {
		if key.Value != "carriers" {
			p.unknown(key, key.Value, "key", []string{"carriers"})
			return
		}
		if val.ShortTag() == "!!null" {
			return
		}
		if val.Kind != yaml.MappingNode {
			p.errorf(val, "carriers", "want a mapping of carrier name to its settings")
			return
		}
		p.mapping(val, "carriers", func(name, entry *yaml.Node) {
			path := "carriers." + name.Value
			if !slices.Contains(known, name.Value) {
				p.unknown(name, path, "carrier", known)
				return
			}
			out[name.Value] = p.carrier(entry, path, slices.Contains(limited, name.Value))
		})
	})
	return out
}

// carrier reads one carrier's entry, checking each value's type.
func (p *carriersParser) carrier(n *yaml.Node, path string, limited bool) carrierConfig {
	var c carrierConfig
	if n.ShortTag() == "!!null" {
		return c
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "want a mapping of settings (%s)", strings.Join(carrierKeys, ", "))
		return c
	}
	str := func(v *yaml.Node, at string) string {
		if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
			p.errorf(v, at, "want a text value")
		}
		return v.Value
	}
	p.mapping(n, path, func(key, v *yaml.Node) {
		at := path + "." + key.Value
		switch key.Value {
		case "disabled":
			if v.ShortTag() != "!!bool" {
				p.errorf(v, at, "%q is not true or false", v.Value)
			}
			c.Disabled = v.Value == "true"
		case "limit":
			n, err := strconv.Atoi(v.Value)
			switch {
			case !limited:
				p.errorf(key, at, "this carrier has no screen limit: its replies are SMS or chat messages (see --sms-segments)")
			case v.ShortTag() != "!!int" || err != nil || n <= 0:
				p.errorf(v, at, "%q is not a positive number of characters", v.Value)
			}
			c.Limit = n
		case "budget":
			d, err := time.ParseDuration(v.Value)
			if v.ShortTag() != "!!str" || err != nil || d <= 0 {
				p.errorf(v, at, "%q is not a positive duration with its unit (10s, 1500ms)", v.Value)
			}
			c.Budget = d
		case "allow_ips":
			if v.Kind != yaml.SequenceNode {
				p.errorf(v, at, "want a list of addresses or networks ([196.201.214.0/24])")
				return
			}
			for _, ip := range v.Content {
				c.AllowIPs = append(c.AllowIPs, str(ip, at))
			}
		case "basic_user":
			c.BasicUser = str(v, at)
		case "basic_password_env":
			c.BasicPasswordEnv = str(v, at)
		case "path_token_env":
			c.PathTokenEnv = str(v, at)
		default:
			p.unknown(key, at, "key", carrierKeys)
		}
	})
	return c
}

// envNames lists the variables the carriers file names for secrets.
func envNames(cfg map[string]carrierConfig) []string {
	var out []string
	for _, c := range cfg {
		out = append(out, c.BasicPasswordEnv, c.PathTokenEnv)
	}
	return out
}

// auth builds the callback authentication, reading secrets from getenv.
func (c carrierConfig) auth(getenv func(string) (string, bool)) (gateway.Auth, error) {
	var a gateway.Auth
	for _, s := range c.AllowIPs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			addr, err2 := netip.ParseAddr(s)
			if err2 != nil {
				return a, fmt.Errorf("allow_ips: %q is neither an address nor a network", s)
			}
			p = netip.PrefixFrom(addr, addr.BitLen())
		}
		a.AllowIPs = append(a.AllowIPs, p)
	}
	secret := func(field, name string) (string, error) {
		if name == "" {
			return "", nil
		}
		v, ok := getenv(name)
		if !ok || v == "" {
			return "", fmt.Errorf("%s: environment variable %s is not set", field, name)
		}
		return v, nil
	}
	var err error
	a.BasicUser = c.BasicUser
	if a.BasicPassword, err = secret("basic_password_env", c.BasicPasswordEnv); err != nil {
		return a, err
	}
	if a.BasicUser != "" && a.BasicPassword == "" {
		return a, fmt.Errorf("basic_user is set but basic_password_env is not")
	}
	if a.BasicUser == "" && a.BasicPassword != "" {
		return a, fmt.Errorf("basic_password_env is set but basic_user is not")
	}
	if a.PathToken, err = secret("path_token_env", c.PathTokenEnv); err != nil {
		return a, err
	}
	if a.PathToken != "" && (len(a.PathToken) < 16 || !urlSafe(a.PathToken)) {
		return a, fmt.Errorf("path_token_env: the token must be at least 16 characters of A-Z a-z 0-9 _ -")
	}
	return a, nil
}

func urlSafe(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
