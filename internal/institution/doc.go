// Package institution loads institution packages: one folder per
// institution with a manifest (institution.yaml), its flows, its services,
// its notification templates and its own words for some system messages
// (messages.yaml). A Set of packages checks them together
// (ids, keywords and short codes claimed twice, calls to another
// institution's services, secrets outside the institution's prefix) and
// composes the national menu from their catalogue entries.
//
// It reads files and checks them; it never serves a hop: the gateway runs
// what a Set produces (flow sources, services, keywords, routes).
package institution
