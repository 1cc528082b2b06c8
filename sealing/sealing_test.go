package sealing

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gridbot/core"
	filesstore "gridbot/objectstore/files"
	"gridbot/objectstore/objecttest"
)

func keyring(t testing.TB, text string) *Keyring {
	t.Helper()
	k, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSealOpen: what is sealed opens to the same bytes, carries no plain
// text, differs each time (a random nonce), and an altered value or one
// sealed with a key not held does not open.
func TestSealOpen(t *testing.T) {
	k := keyring(t, NewFile())
	plain := []byte(`{"t":"路灯一到晚上就不亮","p":"13812345678"}`)
	a, err := k.Seal(plain)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := k.Seal(plain)
	if !core.IsSealed(a) || bytes.Contains(a, []byte("1381234")) || bytes.Equal(a, b) || core.SealedKeyOf(a) != "k1" {
		t.Fatalf("sealed value: %q", a)
	}
	if got, err := k.Open(a); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %q %v", got, err)
	}
	if got, err := k.Open(plain); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("a plain value: %q %v", got, err)
	}
	for i := len(core.SealMark); i < len(a); i++ {
		bad := bytes.Clone(a)
		bad[i] ^= 1
		if _, err := k.Open(bad); err == nil {
			t.Fatalf("byte %d altered, and it opens", i)
		}
	}
	other := keyring(t, NewFile())
	if _, err := other.Open(a); err == nil {
		t.Error("another key file's k1 opens it")
	}
	if _, err := k.Open(a[:len(a)-20]); err == nil {
		t.Error("a cut value opens")
	}
}

// TestRotate: after a rotation new values are sealed with the new key and
// the old ones still open; a key file without the old key cannot open them.
func TestRotate(t *testing.T) {
	text := NewFile()
	old := keyring(t, text)
	before, _ := old.Seal([]byte("旧数据"))
	rotated, id, err := Rotate(text)
	if err != nil || id != "k2" {
		t.Fatalf("rotate: %q %v", id, err)
	}
	k := keyring(t, rotated)
	if k.KeyID() != "k2" || strings.Join(k.KeyIDs(), ",") != "k2,k1" {
		t.Fatalf("after the rotation: current %s, keys %v", k.KeyID(), k.KeyIDs())
	}
	after, _ := k.Seal([]byte("新数据"))
	if core.SealedKeyOf(after) != "k2" {
		t.Errorf("a new value names key %q", core.SealedKeyOf(after))
	}
	if got, err := k.Open(before); err != nil || string(got) != "旧数据" {
		t.Errorf("old value after the rotation: %q %v", got, err)
	}
	if _, err := old.Open(after); err == nil {
		t.Error("the old key file opens what the new key sealed")
	}
	if old.Blind("phone", "13812345678") != k.Blind("phone", "13812345678") {
		t.Error("the index key changed with a rotation")
	}
}

func TestBlind(t *testing.T) {
	a, b := keyring(t, NewFile()), keyring(t, NewFile())
	if a.Blind("phone", "13812345678") != a.Blind("phone", "13812345678") {
		t.Error("not the same token twice")
	}
	if a.Blind("phone", "13812345678") == b.Blind("phone", "13812345678") {
		t.Error("two index keys, one token")
	}
	if a.Blind("phone", "13812345678") == a.Blind("bigram", "13812345678") {
		t.Error("two domains, one token")
	}
	if tok := a.Blind("phone", "13812345678"); len(tok) != 32 || strings.Contains(tok, "1381234") {
		t.Errorf("token %q", tok)
	}
}

func TestParse(t *testing.T) {
	good := "index " + strings.Repeat("ab", 32) + "\nkey k1 " + strings.Repeat("cd", 16)
	if _, err := Parse(good); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(strings.ReplaceAll(good, "\n", ";")); err != nil {
		t.Errorf("one line with ';': %v", err)
	}
	for name, text := range map[string]string{
		"empty":         "",
		"no index":      "key k1 " + strings.Repeat("cd", 16),
		"no key":        "index " + strings.Repeat("ab", 32),
		"short key":     good[:len(good)-2],
		"not hex":       strings.Replace(good, "cdcd", "zzzz", 1),
		"twice":         good + "\nkey k1 " + strings.Repeat("ef", 16),
		"odd ID":        strings.Replace(good, "k1", "k/1", 1),
		"unknown line":  good + "\npassword x",
		"short index":   "index abcd\nkey k1 " + strings.Repeat("cd", 16),
		"second index":  good + "\nindex " + strings.Repeat("ab", 32),
		"missing value": "index\nkey k1",
	} {
		if _, err := Parse(text); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestLoad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(p, []byte(NewFile()), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a file others read: %v", err)
	}
	os.Chmod(p, 0o600)
	if _, err := Load(p); err != nil {
		t.Error(err)
	}
}

func BenchmarkSeal(b *testing.B) {
	k := keyring(b, NewFile())
	plain := []byte(`{"t":"小区门口的路灯一到晚上就不亮，老人出门不方便","p":"13812345678","a":"石桥村二巷5号","l":"石桥村口"}`)
	b.ReportAllocs()
	for b.Loop() {
		s, _ := k.Seal(plain)
		if _, err := k.Open(s); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSealedObjects: the object store's behaviour holds with sealing, and
// the files on disk hold no plain bytes; a file kept plain before still
// reads.
func TestSealedObjects(t *testing.T) {
	dir := t.TempDir()
	files, err := filesstore.Open(dir, core.DefaultMaxMediaBytes)
	if err != nil {
		t.Fatal(err)
	}
	k := keyring(t, NewFile())
	sealed := core.SealedObjects{Objects: files, Sealer: k}
	// The files' bound less what sealing with k1 adds: mark, ID, nonce, tag.
	overhead := len(core.SealMark) + 1 + len("k1") + nonceBytes + 16
	if overhead > core.MaxSealOverhead {
		t.Fatalf("sealing adds %d bytes, more than MaxSealOverhead", overhead)
	}
	objecttest.Run(t, sealed, "", core.DefaultMaxMediaBytes-overhead)

	ctx := context.Background()
	photo := []byte("\xff\xd8\xff 紫藤架的照片")
	if err := files.PutObject(ctx, "media/old", photo); err != nil {
		t.Fatal(err)
	}
	if err := sealed.PutObject(ctx, "media/new", photo); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"media/old", "media/new"} {
		if got, ok, err := sealed.Object(ctx, key); err != nil || !ok || !bytes.Equal(got, photo) {
			t.Errorf("%s reads %q %v %v", key, got, ok, err)
		}
	}
	if raw, _, _ := files.Object(ctx, "media/new"); bytes.Contains(raw, []byte("紫藤")) || !core.IsSealed(raw) {
		t.Errorf("the sealed file on disk: %q", raw)
	}
	if did, err := sealed.Reseal(ctx, "media/old"); err != nil || !did {
		t.Errorf("reseal of the plain file: %v %v", did, err)
	}
	if did, err := sealed.Reseal(ctx, "media/new"); err != nil || did {
		t.Errorf("reseal of a file sealed with the current key: %v %v", did, err)
	}
	if raw, _, _ := files.Object(ctx, "media/old"); !core.IsSealed(raw) {
		t.Error("the once plain file is still plain")
	}
}

func TestBlindTerm(t *testing.T) {
	k := keyring(t, NewFile())
	if k.BlindTerm("紫藤") != k.Blind(SearchTermDomain, "紫藤") || k.BlindTerm("紫藤") == k.Blind("household-phone", "紫藤") ||
		strings.Contains(k.BlindTerm("紫藤"), "紫藤") {
		t.Error("a search term's token")
	}
}
