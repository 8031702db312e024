// Package conf holds the Kannel configuration shipped with Ventanilla:
// kannel.conf (bearerbox and the SMS smsbox) and ussd-smsbox.conf (the USSD
// smsbox). Operators copy them and fill in the values in <>; kanneltest
// runs real Kannel from these same files, so what is shipped is what is
// tested. It has no code beyond giving the files to tests and tools.
package conf

import "embed"

// Files are kannel.conf and ussd-smsbox.conf.
//
//go:embed kannel.conf ussd-smsbox.conf
var Files embed.FS
