// Package alphabet knows what a text costs as an SMS: which characters the
// GSM 7-bit default alphabet holds, how many septets each takes, when a
// text must go as UCS-2, and the folding that keeps Spanish in GSM-7. It is
// a leaf, used by the renderer in channels/sms and by carrier adapters.
package alphabet
