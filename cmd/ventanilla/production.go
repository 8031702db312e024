package main

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// minTokenBits is the entropy production asks of every secret that
// guards an endpoint: 128 bits, what `openssl rand -hex 16` gives.
const minTokenBits = 128

// tokenBits estimates a secret's entropy from its length and the smallest
// usual alphabet that holds it: digits, hexadecimal, one-case letters and
// digits, letters and digits, base64 (url-safe or not), printable ASCII.
// Generated tokens are uniform over such an alphabet; a secret that uses
// far fewer of its alphabet's characters than a random one would
// ("kkkk…", "abab…") counts only the characters it uses.
func tokenBits(s string) float64 {
	in := func(set string) bool {
		for _, r := range s {
			if !strings.ContainsRune(set, r) {
				return false
			}
		}
		return true
	}
	const (
		digits = "0123456789"
		lower  = "abcdefghijklmnopqrstuvwxyz"
		upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	)
	alphabet := 95.0 // printable ASCII and beyond
	switch {
	case in(digits):
		alphabet = 10
	case in(digits+"abcdef") || in(digits+"ABCDEF"):
		alphabet = 16
	case in(digits+lower) || in(digits+upper):
		alphabet = 36
	case in(digits + lower + upper):
		alphabet = 62
	case in(digits+lower+upper+"-_=") || in(digits+lower+upper+"+/="):
		alphabet = 64
	}
	distinct := map[rune]bool{}
	n := 0
	for _, r := range s {
		distinct[r] = true
		n++
	}
	// A random string of n characters over the alphabet shows at least a
	// quarter of min(n, alphabet) distinct ones, with overwhelming odds.
	if d := float64(len(distinct)); d < math.Min(float64(n), alphabet)/4 {
		alphabet = math.Max(d, 1)
	}
	return float64(n) * math.Log2(alphabet)
}

// weakToken says what is wrong with a secret for production, or "".
func weakToken(name, value string) string {
	if bits := tokenBits(value); bits < minTokenBits {
		return fmt.Sprintf("%s has about %.0f bits of entropy, production needs %d (e.g. openssl rand -hex 32)", name, bits, minTokenBits)
	}
	return ""
}

// productionProblems lists what production mode refuses once the gateway
// is built: a carrier whose callbacks anyone may call, and a secret that
// guards an endpoint but could be guessed.
func (a *app) productionProblems() []string {
	var out []string
	for _, m := range a.mounted {
		if len(m.checks) == 0 {
			out = append(out, fmt.Sprintf("carrier %s has no callback authentication: set allow_ips, basic_user with basic_password_env, or path_token_env for it in the carriers file (VENTANILLA_CARRIERS), or disable it there", m.name))
		}
		cc := a.carrierCfg[m.name]
		if m.auth.BasicPassword != "" {
			out = append(out, weakToken(fmt.Sprintf("%s (basic_password_env of %s)", cc.BasicPasswordEnv, m.name), m.auth.BasicPassword))
		}
		if m.auth.PathToken != "" {
			out = append(out, weakToken(fmt.Sprintf("%s (path_token_env of %s)", cc.PathTokenEnv, m.name), m.auth.PathToken))
		}
		if m.own.secret != "" {
			out = append(out, weakToken(m.own.secretVar, m.own.secret))
		}
	}
	if a.cfg.AdminToken != "" {
		out = append(out, weakToken("VENTANILLA_ADMIN_TOKEN", a.cfg.AdminToken))
	}
	if a.cfg.NotifyTemplates != "" {
		v, _ := a.getenv("VENTANILLA_NOTIFY_TOKENS")
		tokens, _ := pairs("VENTANILLA_NOTIFY_TOKENS", v)
		for _, inst := range slices.Sorted(maps.Keys(tokens)) {
			out = append(out, weakToken(fmt.Sprintf("VENTANILLA_NOTIFY_TOKENS (%s)", inst), tokens[inst]))
		}
	}
	var problems []string
	for _, p := range out {
		if p != "" {
			problems = append(problems, p)
		}
	}
	return problems
}
