package gateway

import (
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/internal/keys"
)

// Key returns the store key of the conversation an inbound hop belongs to:
// by number on USSD and SMS; chat platforms keep a conversation each
// (a citizen on WhatsApp and on Telegram holds two).
func Key(in carrier.Inbound) string {
	if in.Phone != "" {
		if in.Channel == "chat" {
			return "chat:" + in.Carrier + ":" + keys.Tag(in.Phone)
		}
		return in.Channel + ":" + keys.Tag(in.Phone)
	}
	return in.Channel + ":" + in.Carrier + ":" + in.SessionID
}
