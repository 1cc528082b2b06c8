package wechatsim

import (
	"encoding/xml"
	"testing"
)

// The message the simulator writes by hand is byte for byte what
// xml.Marshal wrote.
func TestMarshalWireMatchesEncodingXML(t *testing.T) {
	s := New(Config{Token: "t", AppID: "wx1"})
	for _, m := range []OutgoingMessage{
		{MsgType: "text", Content: "路灯不亮 ]]> <b>&amp; \x01\t\r\n emoji 👩‍👩‍👧"},
		{MsgType: "text", Content: ""},
		{MsgType: "text", Content: "]]>]]>"},
		{MsgType: "image", PicURL: "http://x/y.jpg?a=1&b=2", MediaID: "m1"},
		{MsgType: "image"},
		{MsgType: "voice", MediaID: "v1", Format: "amr", Transcript: "路灯坏了。"},
		{MsgType: "location", Lat: 22.355, Lng: 112.545, Scale: 15, Label: "石桥村口"},
		{MsgType: "location", Lat: -1e21, Lng: 1e-7, Label: ""},
		{MsgType: "event", Event: "CLICK", EventKey: "REPORT"},
		{MsgType: "event", Event: "subscribe"},
		{MsgType: "shortvideo"},
	} {
		for _, id := range []int64{0, 42} {
			w := s.wire("o_res ]]>", m, id, 1714036504)
			want, err := xml.Marshal(w)
			if err != nil {
				t.Fatal(err)
			}
			if got := marshalWire(&w); string(got) != string(want) {
				t.Errorf("%s:\n by hand  %s\n xml      %s", m.MsgType, got, want)
			}
		}
	}
}

// A reply and a safe-mode envelope read the same by hand as with
// encoding/xml, and fail alike.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{
		"<xml><ToUserName><![CDATA[o_res]]></ToUserName><FromUserName><![CDATA[gh_gridbot]]></FromUserName><CreateTime>1714036504</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[您好]]></Content></xml>",
		"<xml>\n <ToUserName>o</ToUserName>\n <CreateTime> 12 </CreateTime><Extra>x</Extra></xml>\n",
		"<xml><Content><![CDATA[a]]]]><![CDATA[>b]]></Content></xml>",
		"<xml><Content>a&amp;b</Content></xml>",
		"<xml><Content>a\r\nb</Content></xml>",
		"<xml><CreateTime>x</CreateTime></xml>",
		"<xml><Content>1</Content><Content>2</Content></xml>",
		"<xml><Content>\x01</Content></xml>",
		"<xml><Content><![CDATA[\xff]]></Content></xml>",
		"<xml><Encrypt><![CDATA[AAAA]]></Encrypt><MsgSignature><![CDATA[ab]]></MsgSignature><TimeStamp>1</TimeStamp><Nonce><![CDATA[n]]></Nonce></xml>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got, want passiveReply
		errGot, errWant := readReply(body, &got), xml.Unmarshal(body, &want)
		if (errGot == nil) != (errWant == nil) {
			t.Fatalf("readReply error %v, encoding/xml error %v: %q", errGot, errWant, body)
		}
		want.XMLName, got.XMLName = xml.Name{}, xml.Name{}
		if errGot == nil && got != want {
			t.Fatalf("readReply %+v, encoding/xml %+v: %q", got, want, body)
		}
		var envGot, envWant replyEnvelope
		errGot, errWant = readEnvelope(body, &envGot), xml.Unmarshal(body, &envWant)
		if (errGot == nil) != (errWant == nil) {
			t.Fatalf("readEnvelope error %v, encoding/xml error %v: %q", errGot, errWant, body)
		}
		envWant.XMLName, envGot.XMLName = xml.Name{}, xml.Name{}
		if errGot == nil && envGot != envWant {
			t.Fatalf("readEnvelope %+v, encoding/xml %+v: %q", envGot, envWant, body)
		}
	})
}
