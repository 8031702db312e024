// Package nalo adapts Nalo Solutions' USSD callback: a JSON POST per hop
// (USERID, MSISDN, USERDATA, MSGTYPE, NETWORK, SESSIONID) answered with
// JSON {USERID, MSISDN, MSG, MSGTYPE}, where MSGTYPE true keeps the
// session open and false ends it.
//
// It only translates: MSGTYPE true in a request marks the first hop, whose
// USERDATA is what the citizen dialled; later hops carry one answer each.
// Nalo documents no end-of-session notification. It must not render
// screens or keep state.
package nalo
