// Package dialogs is gridbot's conversation engine for residents: the intake
// dialog that turns a few WeChat messages into a case on the ledger (群众点单),
// the main menu, the list of a resident's open cases, and the 1–5 rating of a
// resolved case.
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
