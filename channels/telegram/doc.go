// Package telegram connects a Telegram bot to the gateway: updates arrive
// by webhook (Mount) or long polling (Poll), never both; each becomes a
// carrier.Inbound on the "chat" channel, and each Reply goes back by
// sendMessage with its buttons as an inline or a reply keyboard.
//
// It translates and links, nothing more: it keeps no conversation state
// (the gateway does), renders no screens, and never logs what citizens
// write, their numbers or their chat ids. The one thing it stores is a
// small record per chat in Options.Links: the phone number the citizen
// shared (so that the gateway can key the conversation and the language
// choice by number) and which keyboard was sent last.
package telegram
