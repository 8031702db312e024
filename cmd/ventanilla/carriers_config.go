package main

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"ventanilla/channels"
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
	Disabled         bool          `yaml:"disabled"`
	Limit            int           `yaml:"limit"`
	Budget           time.Duration `yaml:"budget"`
	AllowIPs         []string      `yaml:"allow_ips"`
	BasicUser        string        `yaml:"basic_user"`
	BasicPasswordEnv string        `yaml:"basic_password_env"`
	PathTokenEnv     string        `yaml:"path_token_env"`
}

type carriersFile struct {
	Carriers map[string]carrierConfig `yaml:"carriers"`
}

// loadCarriers reads the carriers file ("" means every carrier with its
// defaults and no callback authentication).
func loadCarriers(path string, getenv func(string) (string, bool)) (map[string]carrierConfig, error) {
	if path == "" {
		return map[string]carrierConfig{}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("carriers: %w", err)
	}
	var f carriersFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("carriers: %s: %w", path, err)
	}
	for name, c := range f.Carriers {
		if _, err := c.auth(getenv); err != nil {
			return nil, fmt.Errorf("carriers: %s: %s: %w", path, name, err)
		}
	}
	return f.Carriers, nil
}

// auth builds the callback authentication, reading secrets from getenv.
func (c carrierConfig) auth(getenv func(string) (string, bool)) (channels.Auth, error) {
	var a channels.Auth
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
