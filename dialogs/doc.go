// Package dialogs is gridbot's conversation engine for residents: the intake
// dialog that turns a few WeChat messages into a case on the ledger (群众点单)
// — opened by 报事, or by simply describing the problem (the category is
// guessed from configured cues, GuessCategory), a voice note, a photo or a
// location —, joining an open case like it (附议), the household file
// (登记, 修改登记, 注销, 我的档案), progress on demand (我的, 进度 编号),
// 补充 and 撤回, the main menu, and the 1–5 rating of a resolved case.
//
// A dialog's progress is a small JSON-serialisable Session. Flows are tables
// of named steps, so a session saved between messages resumes on the next
// one. The Engine is pure logic: it reads the town directory, calls the
// Ledger, and edits the Session; it does no other I/O. The Service wraps the
// Engine with session storage in a core.Ephemeral and is what the WeChat
// adapter calls.
//
// Every text a resident reads lives in this package, next to the flow that
// sends it. Internal errors are logged, never shown.
package dialogs
