package validate

import (
	"strings"
	"time"

	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/ecid"
)

// Ecuadorian identifiers. The rules are those python-stdnum's ec/ci and ec/ruc
// modules apply; none of them can tell that a number was really issued, only
// that it could have been. The cédula's rule lives in internal/ecid, which
// the log scrubber shares.

var (
	failCedula = &Failure{MessageID: i18n.ValidateCedula}
	failRUC    = &Failure{MessageID: i18n.ValidateRUC}
)

var (
	_ Validator = cedula{}
	_ Validator = ruc{}
)

type cedula struct{}

func buildCedula(args, func() time.Time) (Validator, error) { return cedula{}, nil }

func (cedula) Check(input string) (any, *Failure) {
	s := strings.TrimSpace(input)
	if s == "" {
		return nil, required
	}
	var d [10]byte
	if n, ok := compactDigits(s, d[:]); !ok || n != len(d) || !ecid.Cedula(d[:]) {
		return nil, failCedula
	}
	if len(s) == len(d) { // typed without separators: save it without a copy
		return s, nil
	}
	return string(d[:]), nil
}

type ruc struct{ companyChecksum bool }

func buildRUC(a args, _ func() time.Time) (Validator, error) {
	return ruc{companyChecksum: a.bool("company_checksum")}, nil
}

func (v ruc) Check(input string) (any, *Failure) {
	s := strings.TrimSpace(input)
	if s == "" {
		return nil, required
	}
	var d [13]byte
	if n, ok := compactDigits(s, d[:]); !ok || n != len(d) || !validRUC(d[:], v.companyChecksum) {
		return nil, failRUC
	}
	if len(s) == len(d) {
		return s, nil
	}
	return string(d[:]), nil
}

// compactDigits copies the ASCII digits of s into dst, skipping the spaces
// and dashes people type to group them (171430710-3). It fails on any other
// character or when s holds more digits than dst.
func compactDigits(s string, dst []byte) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if n == len(dst) {
				return n, false
			}
			dst[n] = c
			n++
		case c == ' ' || c == '-':
		default:
			return n, false
		}
	}
	return n, true
}

var (
	weightsPublic    = [...]int{3, 2, 7, 6, 5, 4, 3, 2, 1}
	weightsJuridical = [...]int{4, 3, 2, 7, 6, 5, 4, 3, 2, 1}
)

// validRUC checks 13 ASCII digits. The third digit says whose number it is,
// but not reliably: the SRI has issued public-entity numbers (6) built on a
// person's cédula and company numbers (9) with the public entities' check
// digit, so each family falls back to the rule seen in its exceptions.
func validRUC(d []byte, checksum bool) bool {
	if !ecid.Province(d) {
		return false
	}
	switch t := d[2]; {
	case t <= '5':
		return naturalRUC(d)
	case t == '6':
		return publicRUC(d, checksum) || naturalRUC(d)
	case t == '9':
		return juridicalRUC(d, checksum) || publicRUC(d, checksum)
	}
	return false // 7 and 8 are not issued
}

// naturalRUC: a person's cédula followed by an establishment number.
func naturalRUC(d []byte) bool {
	return string(d[10:]) != "000" && ecid.Cedula(d[:10])
}

// publicRUC: check digit in position 9, establishment in the last 4.
func publicRUC(d []byte, checksum bool) bool {
	return string(d[9:]) != "0000" && (!checksum || mod11(d, weightsPublic[:]) == 0)
}

// juridicalRUC: check digit in position 10, establishment in the last 3.
func juridicalRUC(d []byte, checksum bool) bool {
	return string(d[10:]) != "000" && (!checksum || mod11(d, weightsJuridical[:]) == 0)
}

// mod11 is the weighted sum of the first len(w) digits modulo 11; the last
// weight, 1, takes the check digit itself, so a valid number sums to 0.
func mod11(d []byte, w []int) int {
	sum := 0
	for i, wi := range w {
		sum += wi * int(d[i]-'0')
	}
	return sum % 11
}
