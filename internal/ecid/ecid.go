// Package ecid holds the check-digit rules of Ecuadorian identifiers, with
// no dependencies, so that the flow validators and the log scrubber share
// one implementation. The rules are those python-stdnum's ec/ci module
// applies; they cannot tell that a number was really issued, only that it
// could have been.
package ecid

// Province reports whether the first two of d's ASCII digits name a
// province: 01–24 are the provinces, 30 Ecuadorians registered abroad, 50
// some foreigners' numbers. d must hold at least two digits.
func Province[T ~string | ~[]byte](d T) bool {
	p := int(d[0]-'0')*10 + int(d[1]-'0')
	return (p >= 1 && p <= 24) || p == 30 || p == 50
}

// Cedula checks a cédula of 10 ASCII digits: its province, its third digit
// (below 6 for Ecuadorians; 6 has been issued to some foreigners) and its
// modulo-10 check digit. d must hold exactly 10 digits.
func Cedula[T ~string | ~[]byte](d T) bool {
	if !Province(d) || d[2] > '6' {
		return false
	}
	return CheckDigit(d) == d[9]
}

// CheckDigit returns the ASCII check digit of a cédula whose first nine
// ASCII digits are d[:9]: ten minus their sum modulo 10, with every other
// digit doubled (and 9 taken off a double above 9). d must hold at least
// nine digits.
func CheckDigit[T ~string | ~[]byte](d T) byte {
	sum := 0
	for i := range 9 {
		p := int(d[i] - '0')
		if i%2 == 0 {
			p *= 2
			if p > 9 {
				p -= 9
			}
		}
		sum += p
	}
	return byte('0' + (10-sum%10)%10)
}
