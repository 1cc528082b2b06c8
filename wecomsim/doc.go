// Package wecomsim plays WeCom (企业微信) for gridbot's tests and demo: the
// self-built app's API (gettoken, message/send with its 30 messages per
// member per minute), its callback (signed and encrypted like WeCom's), web
// authorisation for the pages a card opens, group robot webhooks (20
// messages a minute), and a staff member's WeCom chat on a page.
package wecomsim
