// Package validate holds the built-in validators of input steps: Ecuadorian
// cédula and RUC, phone numbers, dates, integer ranges, patterns, lengths and
// digit strings. Kinds() is the one description of them that the loader, the
// lint and the docs read; Compile turns a spec into a Validator once, when the
// flow loads, so that Check on every hop compiles nothing and rarely allocates.
// A validator never talks to the citizen: it names a message id and its data.
package validate
