package bot

import (
	"bytes"
	"testing"

	"gridbot/internal/flatxml"
)

// What the quick check passes must be what the careful path would have
// kept, byte for byte.
func FuzzCleanXMLQuickCheck(f *testing.F) {
	for _, s := range []string{
		"<xml><Content><![CDATA[你好]]></Content></xml>",
		"a\x00b", "a\x1fb\tc\r\n", "\xff\xfe", "&#x1;", "&#65;", "&#", "&", "emoji 👩‍👩‍👧 mixed Кириллица",
		"\uFFFE", "\uFFFD", "\xed\xa0\x80", "&amp;#1;",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if flatxml.Clean(b) && !bytes.Equal(dropInvalidXML(b), b) {
			t.Fatalf("quick check passed %q, careful path keeps %q", b, dropInvalidXML(b))
		}
	})
}
