package bot

import (
	"encoding/xml"
	"testing"
)

// The envelope's fast path reads what encoding/xml reads, or steps aside.
func TestEncryptFieldAgreesWithXML(t *testing.T) {
	for _, tc := range []struct {
		body string
		fast bool
	}{
		{"<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[QUJD+/=]]></Encrypt></xml>", true},
		{"<xml>\n<ToUserName>gh</ToUserName>\n<Encrypt>QUJD</Encrypt>\n</xml>\n", true},
		{"<xml><ToUserName><![CDATA[<Encrypt>QUJD</Encrypt>]]></ToUserName></xml>", false},
		{"<xml><ToUserName><![CDATA[x]]></ToUserName><Encrypt><![CDATA[QUJD]]><![CDATA[REVG]]></Encrypt></xml>", false},
		{"<!DOCTYPE x><xml><Encrypt>QUJD</Encrypt></xml>", false},
		{"<xml><Encrypt>QUJD</Encrypt><Encrypt>REVG</Encrypt></xml>", false},
		{"<xml><!-- <Encrypt>QUJD</Encrypt> --></xml>", false},
		{"<xml><Encrypt>QU&#74;D</Encrypt></xml>", false},
		{"<xml><Encrypt></Encrypt></xml>", false},
		{"<xml><Encrypt>QU JD</Encrypt></xml>", false},
		{"<notxml><Encrypt>QUJD</Encrypt></notxml>", false},
		{"<xml></Encrypt>QUJD<Encrypt></xml>", false},
	} {
		got, ok := encryptField([]byte(tc.body))
		if ok != tc.fast {
			t.Errorf("%q: fast path %v, want %v", tc.body, ok, tc.fast)
			continue
		}
		if !ok {
			continue
		}
		var env envelope
		if err := xml.Unmarshal([]byte(tc.body), &env); err != nil || env.Encrypt != got {
			t.Errorf("%q: fast path read %q, encoding/xml %q (%v)", tc.body, got, env.Encrypt, err)
		}
	}
}

func BenchmarkEnvelope(b *testing.B) {
	body := []byte("<xml><ToUserName><![CDATA[gh_gridbot]]></ToUserName><Encrypt><![CDATA[" +
		"y8Xx0nR5VxkX4lB6oH4GkJt9sQ2zW1uP3aC5dE7fG9hI0jK2lM4nO6pQ8rS0tU2vW4xY6zA8bC0dE2fG4hI6jK8lM0nO2pQ4rS6tU8vW0xY2zA4bC6dE8fG0hI2jK4lM6nO8pQ0rS2tU4vW6xY8zA0bC2dE4fG6hI8jK0lM2nO4pQ6rS8tU0vW2xY4zA6bC8dE0fG2hI4jK6lM8nO0pQ2rS4tU6vW8xY0zA2bC4dE6fG8hI0jK2lM4nO6pQ8rS0tU2vW4xY6zA8bC0dE2fG4hI6jK8lM0nO2pQ4rS6tU8vW0xY2zA4bC6dE8fG0hI2jK4lM6nO8pQ0rS2tU4vW6xY8zA0bC2dE4fG6hI8jK0lM2nO4pQ6rS8tU0vW2xY4zA6bC8dE0fG2hI4jK6lM8nO0pQ2rS4tU6vW8xY0zA2bC4dE6fG8hI==" +
		"]]></Encrypt></xml>")
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			encryptField(body)
		}
	})
	b.Run("encoding/xml", func(b *testing.B) {
		for b.Loop() {
			var env envelope
			_ = xml.Unmarshal(cleanXML(body), &env)
		}
	})
}
