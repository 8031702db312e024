// Package audit keeps the access audit trail (the "registro de las
// actividades de acceso"): who — as a pseudonym —, through which channel,
// what flow and back-end service, when, with what outcome and correlation
// id. Records hold no personal data, only pseudonyms and identifiers of
// the gateway's own making. Sinks append JSON Lines to one file per UTC
// day and delete whole files past their retention; they never rewrite a
// record, and writing one never holds up a citizen's hop (see NewAsync).
package audit
