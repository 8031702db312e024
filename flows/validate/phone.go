package validate

import (
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/ventanilla-gob/ventanilla/i18n"
)

var failPhone = &Failure{MessageID: i18n.ValidatePhone}

// maxPhoneInput bounds what is handed to the parser: the longest number
// written with spaces, dashes and brackets fits well within it.
const maxPhoneInput = 40

var _ Validator = phone{}

type phone struct {
	region string
	mobile bool
}

func buildPhone(a args, _ func() time.Time) (Validator, error) {
	region := strings.ToUpper(a.str("region"))
	if !phonenumbers.GetSupportedRegions()[region] {
		return nil, a.errorf("region", "region %q is not a country code phone numbers know (e.g. EC, CO, PE)", a.str("region"))
	}
	return phone{region: region, mobile: a.bool("mobile")}, nil
}

func (v phone) Check(input string) (any, *Failure) {
	s := strings.TrimSpace(input)
	if s == "" {
		return nil, required
	}
	if len(s) > maxPhoneInput {
		return nil, failPhone
	}
	var n phonenumbers.PhoneNumber
	if err := phonenumbers.ParseToNumber(s, v.region, &n); err != nil || !phonenumbers.IsValidNumber(&n) {
		return nil, failPhone
	}
	if v.mobile {
		switch phonenumbers.GetNumberType(&n) {
		case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		default:
			return nil, failPhone
		}
	}
	return phonenumbers.Format(&n, phonenumbers.E164), nil
}
