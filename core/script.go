package core

import "time"

// Which script a resident reads. A resident who writes traditional
// characters is answered in them (dialogs), and the notices pushed to them
// later — days after the dialog that taught it has ended — are written in
// them too (routing). The choice is kept in the Ephemeral store every
// instance shares (bbolt's file or Valkey: it survives restarts in both),
// under ScriptKey, only while it is traditional; it is read in the same
// round trip as the resident's session and written only when it changes.

// ScriptKey is the Ephemeral key holding ScriptTraditional for a resident
// who reads traditional characters; absent means simplified.
func ScriptKey(openid string) string { return "script:" + openid }

// ScriptTraditional is ScriptKey's value: Hong Kong traditional (OpenCC s2hk).
const ScriptTraditional = "hk"

// ScriptTTL is how long the choice is kept after the resident last
// changed it; a resident silent for longer is written to in simplified
// until they write again.
const ScriptTTL = 400 * 24 * time.Hour
