// Package wechatsim plays WeChat's servers for gridbot's tests, its demo and
// local runs: it sends signed (and, in safe mode, encrypted) callbacks to the
// bot and checks the replies, serves the access-token and push APIs with
// programmable failures, records every push, and serves a phone page where a
// person can act as a resident or a grid leader.
//
// It speaks the real wire format and shares no encoding code with package
// bot, so it tests the bot rather than agreeing with it.
package wechatsim
