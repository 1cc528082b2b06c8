// Package bot is gridbot's WeChat adapter: the callback handler that verifies,
// decrypts, deduplicates and answers what residents send the official
// account; the access-token source; and the sender that pushes notices with a
// customer-service message and falls back to a template message.
//
// It uses the silenceper/wechat SDK only for its wire types and crypto. All
// outbound HTTP goes through our own *http.Client and a configurable API base,
// so several instances (or tests) in one process can each talk to their own
// simulator.
package bot
