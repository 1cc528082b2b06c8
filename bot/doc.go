// Package bot is gridbot's WeChat adapter: the callback handler that verifies,
// decrypts, deduplicates and answers what residents send the official
// account; the access-token source; the sender that pushes notices with a
// customer-service message while the user's window allows (Window), else a
// 订阅通知 the user granted, else a typed library template; and web
// authorisation (WebAuth) for the pages opened inside WeChat.
//
// It uses the silenceper/wechat SDK only for its wire types and crypto. All
// outbound HTTP goes through our own *http.Client and a configurable API base,
// so several instances (or tests) in one process can each talk to their own
// simulator.
package bot
