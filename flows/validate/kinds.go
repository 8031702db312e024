package validate

import (
	"slices"
	"time"
)

// KindSpec describes one validator kind. It is the one description the
// loader, the lint, the generated docs and the JSON Schema for editors read,
// and Compile checks argument names and types against it.
type KindSpec struct {
	Name    string
	Doc     string
	Args    []ArgSpec
	Example string // the validate: field of an input step, as YAML
	// Saves is what the answer is saved as: TypeString, TypeInt, or
	// TypeDate (a "YYYY-MM-DD" string). The lint types expressions by it.
	Saves string
}

// ArgSpec describes one argument of a validator kind.
type ArgSpec struct {
	Name     string
	Type     string // TypeInt, TypeString, TypeBool or TypeDate
	Doc      string
	Required bool
	Default  any // nil when there is none
}

// Argument types as flow authors write them.
const (
	TypeInt    = "integer" // a whole number
	TypeString = "string"
	TypeBool   = "boolean"
	TypeDate   = "date" // "2026-01-31", "today", "today+30d", "today-18y" (d, m or y)
)

// Kinds lists the validator kinds and their arguments, in documentation
// order. The result is a copy; changing it changes nothing.
func Kinds() []KindSpec {
	out := make([]KindSpec, len(registry))
	for i := range registry {
		out[i] = registry[i].spec
		out[i].Args = slices.Clone(registry[i].spec.Args)
	}
	return out
}

func (k *KindSpec) arg(name string) *ArgSpec {
	for i := range k.Args {
		if k.Args[i].Name == name {
			return &k.Args[i]
		}
	}
	return nil
}

type kind struct {
	spec  KindSpec
	build func(a args, now func() time.Time) (Validator, error)
}

func kindByName(name string) *kind {
	for i := range registry {
		if registry[i].spec.Name == name {
			return &registry[i]
		}
	}
	return nil
}

var registry = []kind{
	{
		spec: KindSpec{
			Name:  "cedula",
			Saves: TypeString,
			Doc: "Ecuadorian cédula (national id): 10 digits, province 01–24, 30 (abroad) or 50 (foreigners), " +
				"third digit 0–6 and the check digit. Spaces and dashes are ignored. Saves the 10 digits as a string.",
			Example: "validate: {kind: cedula}",
		},
		build: buildCedula,
	},
	{
		spec: KindSpec{
			Name:  "ruc",
			Saves: TypeString,
			Doc: "Ecuadorian RUC (taxpayer number): 13 digits. Third digit 0–5: a cédula plus an establishment ≠ 000; " +
				"6: a public entity (mod-11 check digit in position 9, establishment ≠ 0000) or else a person's cédula; " +
				"9: a company (mod-11 check digit in position 10, or in position 9 as for public entities; establishment ≠ 000). " +
				"Spaces and dashes are ignored. Saves the 13 digits as a string.",
			Args: []ArgSpec{
				{Name: "company_checksum", Type: TypeBool, Default: true,
					Doc: "Check the mod-11 digit of company and public-entity RUCs (third digit 9 or 6). The SRI issues some " +
						"of these without a computable check digit; set false to accept them on their structure alone. " +
						"RUCs of persons are always checked."},
			},
			Example: "validate: {kind: ruc}",
		},
		build: buildRUC,
	},
	{
		spec: KindSpec{
			Name:  "phone",
			Saves: TypeString,
			Doc: "A phone number, national (0991234567) or international (+593991234567), that is valid for its country. " +
				"Saves it in E.164: \"+593991234567\".",
			Args: []ArgSpec{
				{Name: "region", Type: TypeString, Default: "EC", Doc: "Country (ISO 3166 code) of numbers written without +."},
				{Name: "mobile", Type: TypeBool, Default: false, Doc: "Accept only mobile numbers."},
			},
			Example: "validate: {kind: phone, mobile: true}",
		},
		build: buildPhone,
	},
	{
		spec: KindSpec{
			Name:  "date",
			Saves: TypeDate,
			Doc: "A calendar date in the given format; impossible dates (31/02) are rejected. Day and month may have one digit " +
				"and any of / - . may separate the parts. Saves \"YYYY-MM-DD\". Bounds are inclusive; \"today\" is the " +
				"date when the citizen answers.",
			Args: []ArgSpec{
				{Name: "format", Type: TypeString, Default: "DD/MM/YYYY", Doc: "How citizens write the date: DD/MM/YYYY, DD-MM-YYYY, YYYY-MM-DD or DDMMYYYY."},
				{Name: "min", Type: TypeDate, Doc: "Earliest date accepted: \"2026-01-31\", \"today\", \"today+30d\", \"today-18y\"."},
				{Name: "max", Type: TypeDate, Doc: "Latest date accepted, written like min. An adult's birth date: max: today-18y."},
			},
			Example: "validate: {kind: date, min: today, max: today+60d}",
		},
		build: buildDate,
	},
	{
		spec: KindSpec{
			Name:  "range",
			Saves: TypeInt,
			Doc:   "A whole number, optionally signed, within inclusive bounds; at least one bound is required. Saves an integer.",
			Args: []ArgSpec{
				{Name: "min", Type: TypeInt, Doc: "Smallest number accepted."},
				{Name: "max", Type: TypeInt, Doc: "Largest number accepted."},
			},
			Example: "validate: {kind: range, min: 1, max: 5}",
		},
		build: buildRange,
	},
	{
		spec: KindSpec{
			Name:  "regex",
			Saves: TypeString,
			Doc: "The whole answer must match a regular expression (Go RE2 syntax; the pattern is anchored at both ends). " +
				"With `case` and `strip` the answer is normalised first — its case folded, separators removed — " +
				"and the normalised answer is what is matched and saved; otherwise it is saved as written (trimmed).",
			Args: []ArgSpec{
				{Name: "pattern", Type: TypeString, Required: true, Doc: "The pattern, e.g. '[A-Z]{3}[0-9]{4}' for a vehicle plate."},
				{Name: "case", Type: TypeString, Doc: "`upper` or `lower`: fold the answer's case before matching, so that 'pba1234' is the plate 'PBA1234'."},
				{Name: "strip", Type: TypeString, Doc: "Characters to remove from the answer before matching, e.g. ' -' for spaces and dashes."},
				{Name: "max_length", Type: TypeInt, Doc: "Most characters accepted (of the normalised answer), checked before the pattern; also bounds what the answer adds to a screen."},
			},
			Example: "validate: {kind: regex, pattern: '[A-Z]{3}[0-9]{4}', case: upper, strip: ' -', max_length: 7}",
		},
		build: buildRegex,
	},
	{
		spec: KindSpec{
			Name:  "length",
			Saves: TypeString,
			Doc:   "Free text of a bounded number of characters (not bytes); at least one bound is required. Saves the answer as written.",
			Args: []ArgSpec{
				{Name: "min", Type: TypeInt, Doc: "Fewest characters accepted."},
				{Name: "max", Type: TypeInt, Doc: "Most characters accepted."},
			},
			Example: "validate: {kind: length, min: 3, max: 60}",
		},
		build: buildLength,
	},
	{
		spec: KindSpec{
			Name:  "digits",
			Saves: TypeString,
			Doc:   "Only the digits 0–9, optionally a bounded count of them. Saves a string, so leading zeros are kept.",
			Args: []ArgSpec{
				{Name: "min", Type: TypeInt, Doc: "Fewest digits accepted."},
				{Name: "max", Type: TypeInt, Doc: "Most digits accepted."},
			},
			Example: "validate: {kind: digits, min: 4, max: 6}",
		},
		build: buildDigits,
	},
}
