// Package wechatsim plays WeChat's servers as they are today for gridbot's
// tests, its demo and local runs: it sends signed (and, in safe mode,
// encrypted) callbacks to the bot and checks the replies, serves the
// access-token and push APIs with programmable failures and today's rules
// (typed library templates and 47003, the 48-hour and 1-minute quotas, 订阅通知
// grants, voice without recognition), web authorisation for pages opened in
// the phone, and Tencent Cloud ASR's SentenceRecognition; it records every
// push, and serves a phone page where a person can act as a resident or a
// grid leader, and open the pages templates link to.
//
// It speaks the real wire format and shares no encoding code with package
// bot, so it tests the bot rather than agreeing with it.
package wechatsim
