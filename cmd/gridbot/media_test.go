package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/store"
	"gridbot/store/embedded"
)

// A town upgraded from the version that kept photos inside the store loses
// none: serve moves them into the media folder at start, staff who may see
// the case still get the photo through gridbot (nobody else does), the
// store no longer holds its bytes, and the resident's 注销 erases the file.
func TestMediaMovedOutOfTheStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(filepath.Join(dir, "gridbot.db"), embedded.Options{CasePrefix: town.CasePrefix})
	if err != nil {
		t.Fatal(err)
	}
	photo := caseWithOldMedia(t, st, town, "oresident-media", "old", 40_000)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	r := boot(t, rigOptions{dataDir: dir})
	mediaDir := filepath.Join(dir, "media")
	deadline := time.Now().Add(10 * time.Second)
	for countFiles(t, mediaDir) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d files in %s 10 s after start", countFiles(t, mediaDir), mediaDir)
		}
		time.Sleep(50 * time.Millisecond)
	}
	get := func(user, id string) (int, []byte) {
		cl := r.login(user)
		req, _ := http.NewRequest("GET", cl.base+"/api/media/"+id, nil)
		resp, err := cl.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	if status, body := get("gl-L10-a", "oldphoto-1"); status != 200 || !bytes.Equal(body, photo) {
		t.Fatalf("the grid's leader gets %d, %d bytes", status, len(body))
	}
	// Without a login, nothing: media never leave but through gridbot.
	if resp, err := http.Get(r.urls.Console + "/api/media/oldphoto-1"); err != nil || resp.Body.Close() != nil || resp.StatusCode != 401 {
		t.Fatalf("without a login: %v %v", resp.Status, err)
	}
	// The store's file no longer grows with the photos: what it holds of a
	// photo is a small record (checked through the store after the stop).
	r.shutdown()
	st, err = embedded.Open(filepath.Join(dir, "gridbot.db"), embedded.Options{CasePrefix: town.CasePrefix})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	raw, ok, err := st.Record(ctx, "media", "oldphoto-1")
	if err != nil || !ok || len(raw) > 300 {
		t.Fatalf("the photo's record holds %d bytes (%v %v)", len(raw), ok, err)
	}
	// 注销 erases the voice note's file (the photo stays with the case).
	ledger := &core.Ledger{Store: st, Town: town}
	voices, err := ledger.Anonymise(ctx, "oresident-media")
	if err != nil {
		t.Fatal(err)
	}
	objects, err := openObjects(ctx, &configs.Config{Store: struct {
		Kind string `koanf:"kind"`
		Path string `koanf:"path"`
	}{Path: filepath.Join(dir, "gridbot.db")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ms := &core.MediaStore{Records: st, Objects: objects}
	if err := (&core.Households{Records: st, Media: ms}).Forget(ctx, "oresident-media", voices); err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, mediaDir); n != 1 {
		t.Fatalf("%d files left after 注销, want the photo's alone", n)
	}
	if _, ok, _ := ms.Get(ctx, "oldvoice-1"); ok {
		t.Fatal("the voice note is still readable after 注销")
	}
}

// countFiles counts the files under dir.
func countFiles(t *testing.T, dir string) int {
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// caseWithOldMedia files a case for resident with a photo (prefix+"photo-1",
// of about size bytes, returned) and a voice note (prefix+"voice-1"), their
// bytes kept as an older version kept them: in the store's records.
func caseWithOldMedia(t *testing.T, st store.Store, town *core.Town, resident, prefix string, size int) []byte {
	t.Helper()
	ctx := context.Background()
	ledger := &core.Ledger{Store: st, Town: town}
	c, err := ledger.Submit(ctx, resident, core.Draft{Category: "env", Text: "垃圾堆在路边", Grid: "L10",
		Phone: "13900001111", Photos: []core.Media{{MediaID: prefix + "photo-1"}}, Voices: []core.Media{{MediaID: prefix + "voice-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	photo := append([]byte("\xff\xd8\xff\xe0"), bytes.Repeat([]byte{byte(size)}, size)...)
	old := &core.MediaStore{Records: st}
	for _, f := range []core.MediaFile{
		{ID: prefix + "photo-1", Case: c.Number, Kind: core.MediaImage, ContentType: "image/jpeg", Data: photo},
		{ID: prefix + "voice-1", Case: c.Number, Kind: core.MediaVoice, ContentType: "audio/amr", Data: []byte("#!AMR\n")},
	} {
		if err := old.Put(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	return photo
}
