package bot

import (
	"encoding/xml"
	"reflect"
	"testing"

	"github.com/silenceper/wechat/v2/officialaccount/message"
)

// What WeChat posts, field for field as its documentation shows them.
var wechatShapes = []string{
	`<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o_res]]></FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[路灯坏了 <b> & "引号"]]></Content><MsgId>1234567890123456</MsgId></xml>`,
	"<xml>\n  <ToUserName><![CDATA[gh_1]]></ToUserName>\n  <FromUserName><![CDATA[o_res]]></FromUserName>\n  <CreateTime>1348831860</CreateTime>\n  <MsgType><![CDATA[image]]></MsgType>\n  <PicUrl><![CDATA[http://127.0.0.1/p.jpg]]></PicUrl>\n  <MediaId><![CDATA[media_id]]></MediaId>\n  <MsgId>1234567890123456</MsgId>\n</xml>",
	`<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o_res]]></FromUserName><CreateTime>1357290913</CreateTime><MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[media_id]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[路灯坏了]]></Recognition><MsgId>1234567890123456</MsgId></xml>`,
	`<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o_res]]></FromUserName><CreateTime>1351776360</CreateTime><MsgType><![CDATA[location]]></MsgType><Location_X>22.351</Location_X><Location_Y>112.561</Location_Y><Scale>20</Scale><Label><![CDATA[东门市场]]></Label><MsgId>1234567890123456</MsgId></xml>`,
	`<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o_res]]></FromUserName><CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[REPORT]]></EventKey></xml>`,
	`<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o_res]]></FromUserName><CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[LOCATION]]></Event><Latitude>22.351</Latitude><Longitude>112.561</Longitude><Precision>119.385040</Precision></xml>`,
	`<xml><ToUserName>gh_1</ToUserName><FromUserName>o_res</FromUserName><CreateTime> 1 </CreateTime><MsgType>text</MsgType><Content>plain > text</Content><MsgId></MsgId></xml> trailing`,
}

// The hand reader takes WeChat's own shapes, and reads them exactly as
// encoding/xml does.
func TestDecodeFlatReadsWeChatShapes(t *testing.T) {
	for _, body := range wechatShapes {
		var fast message.MixMessage
		if !decodeFlat([]byte(body), &fast) {
			t.Errorf("not read by hand: %s", body)
			continue
		}
		var slow message.MixMessage
		if err := xml.Unmarshal([]byte(body), &slow); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("%s\nby hand %+v\nencoding/xml %+v", body, fast, slow)
		}
	}
}

// What the hand reader leaves to encoding/xml, and the verdict is the same.
func TestDecodeMessageFallsBack(t *testing.T) {
	for _, tt := range []struct {
		body   string
		refuse bool // encoding/xml refuses it
	}{
		{`<xml><Content>a &amp; b</Content></xml>`, false},
		{`<xml><Content>a<!-- note -->b</Content></xml>`, false},
		{"<xml><Content>a\r\nb</Content></xml>", false},
		{`<xml><ScanCodeInfo><ScanType>qrcode</ScanType></ScanCodeInfo></xml>`, false},
		{`<xml><MsgID>7</MsgID></xml>`, false},
		{`<?xml version="1.0"?><xml><Content>a</Content></xml>`, false},
		{`<xml><Content x="1">a</Content></xml>`, false},
		{`<xml><CreateTime>soon</CreateTime></xml>`, true},
		{`<xml><Location_X>north</Location_X></xml>`, true},
		{`<xml><Content>a</Content>`, true},
		{`<xml><Content>a</Contents></xml>`, true},
		{`<root><Content>a</Content></root>`, true},
	} {
		var fast message.MixMessage
		if decodeFlat([]byte(tt.body), &fast) {
			t.Errorf("read by hand: %s", tt.body)
		}
		var got message.MixMessage
		err := decodeMessage([]byte(tt.body), &got)
		var want message.MixMessage
		wantErr := xml.Unmarshal([]byte(tt.body), &want)
		if (err != nil) != tt.refuse || (wantErr != nil) != tt.refuse {
			t.Errorf("%s: error %v, encoding/xml %v, want refused %v", tt.body, err, wantErr, tt.refuse)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, encoding/xml %+v", tt.body, got, want)
		}
	}
}

// Whatever the hand reader accepts, encoding/xml accepts and reads the same.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range wechatShapes {
		f.Add([]byte(s))
	}
	f.Add([]byte("<xml><Content><![CDATA[a]]>b<![CDATA[c]]></Content></xml>"))
	f.Add([]byte("<xml><Content>]]></Content></xml>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		b = cleanXML(b)
		var fast message.MixMessage
		if !decodeFlat(b, &fast) {
			return
		}
		var slow message.MixMessage
		if err := xml.Unmarshal(b, &slow); err != nil {
			t.Fatalf("read by hand, refused by encoding/xml (%v): %q", err, b)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q\nby hand %+v\nencoding/xml %+v", b, fast, slow)
		}
	})
}

func BenchmarkDecodeMessage(b *testing.B) {
	body := []byte(wechatShapes[0])
	b.Run("by hand", func(b *testing.B) {
		for b.Loop() {
			var mm message.MixMessage
			if err := decodeMessage(body, &mm); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/xml", func(b *testing.B) {
		for b.Loop() {
			var mm message.MixMessage
			if err := xml.Unmarshal(body, &mm); err != nil {
				b.Fatal(err)
			}
		}
	})
}
