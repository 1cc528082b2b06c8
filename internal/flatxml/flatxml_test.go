package flatxml

import (
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	tests := []struct {
		name, body string
		ok         bool
		fields     string // name=text;…
	}{
		{"cdata and text", "<xml><A><![CDATA[你好]]></A><B>12</B></xml>", true, "A=你好;B=12;"},
		{"blanks between", " <xml>\n <A>x</A>\t</xml>\n", true, "A=x;"},
		{"split cdata joined", "<xml><A><![CDATA[a]]]]><![CDATA[>b]]></A></xml>", true, "A=a]]>b;"},
		{"after the root unread", "<xml><A>x</A></xml><junk", true, "A=x;"},
		{"empty", "<xml><A></A></xml>", true, "A=;"},
		{"entity", "<xml><A>a&amp;b</A></xml>", false, ""},
		{"carriage return", "<xml><A>a\rb</A></xml>", false, ""},
		{"nested", "<xml><A><B>x</B></A></xml>", false, ""},
		{"attribute", `<xml><A k="v">x</A></xml>`, false, ""},
		{"mismatched end", "<xml><A>x</B></xml>", false, ""},
		{"comment", "<xml><!-- c --><A>x</A></xml>", false, ""},
		{"unclosed", "<xml><A>x", false, ""},
		{"other root", "<msg><A>x</A></msg>", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got strings.Builder
			ok := Read([]byte(tt.body), func(name, text string) bool {
				got.WriteString(name + "=" + text + ";")
				return true
			})
			if ok != tt.ok || ok && got.String() != tt.fields {
				t.Errorf("Read = %v %q, want %v %q", ok, got.String(), tt.ok, tt.fields)
			}
		})
	}
	if Read([]byte("<xml><A>x</A></xml>"), func(string, string) bool { return false }) {
		t.Error("Read went on after field refused")
	}
}

func TestClean(t *testing.T) {
	for s, want := range map[string]bool{
		"你好 emoji 👩‍👩‍👧 \t\r\n": true,
		"&amp;":                 true,
		"a\x00b":                false,
		"\xff":                  false,
		"\uFFFE":                false,
		"&#65;":                 false, // references take the careful path
	} {
		if got := Clean([]byte(s)); got != want {
			t.Errorf("Clean(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestAppendCDATA(t *testing.T) {
	for s, want := range map[string]string{
		"":       "<![CDATA[]]>",
		"你好":     "<![CDATA[你好]]>",
		"a]]>b":  "<![CDATA[a]]]]><![CDATA[>b]]>",
		"]]>]]>": "<![CDATA[]]]]><![CDATA[>]]]]><![CDATA[>]]>",
	} {
		if got := string(AppendCDATA([]byte(nil), s)); got != want {
			t.Errorf("AppendCDATA(%q) = %q, want %q", s, got, want)
		}
	}
}
