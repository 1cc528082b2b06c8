package main

import (
	"gridbot/core"
	"gridbot/script"
)

// searchRule is the word index's rule (core.SearchIndex) every store of
// the service opens with: traditional characters read as simplified, so
// that 路灯 finds 路燈. The stores index a case in the write that changes
// its words and the console's search reads the index (issue 17).
func searchRule(conv *script.Converter) core.SearchIndex {
	return core.SearchIndex{Simplify: conv.Simplified}
}
