package ussd

import "strings"

// MaxShortcut bounds how many answers a dialled string may carry.
const MaxShortcut = 8

// Dialled splits what a citizen dialled into the flow it opens and the
// answers it carries: with routes {"*384#": "inicio", "*384*2#":
// "estado-tramite"}, "*384*2*1002#" opens estado-tramite and answers
// "1002", and "*384*1*2#" opens inicio and answers "1" then "2". The
// longest route wins. A code without a route opens "" (the root flow) and
// everything after its first segment counts as answers. Strings that are
// not USSD codes give no answers.
func Dialled(code string, routes map[string]string) (flow string, answers []string) {
	segs := segments(code)
	if len(segs) == 0 {
		return "", nil
	}
	best := 0
	for route, f := range routes {
		rs := segments(route)
		if len(rs) > best && len(rs) <= len(segs) && prefix(rs, segs) {
			best, flow = len(rs), f
		}
	}
	if best == 0 {
		best = 1
	}
	answers = segs[best:]
	if len(answers) > MaxShortcut {
		answers = answers[:MaxShortcut]
	}
	return flow, answers
}

// segments returns the parts of "*384*2*1#" between the stars: 384, 2, 1.
func segments(code string) []string {
	code = strings.TrimSpace(code)
	if !strings.HasPrefix(code, "*") && !strings.HasPrefix(code, "#") {
		return nil
	}
	code = strings.Trim(code, "*#")
	if code == "" || len(code) > 64 {
		return nil
	}
	parts := strings.Split(code, "*")
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return nil
		}
	}
	return parts
}

func prefix(p, s []string) bool {
	for i := range p {
		if p[i] != s[i] {
			return false
		}
	}
	return true
}
