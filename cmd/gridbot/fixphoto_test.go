package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestFixPhotoFromChat: a grid leader sends a photo in their WeChat and then
// 办结: the photo is the photo of the fix (办结现场照片), and the resident
// gets it with the result — in the notice, and on the case page's line of
// the result, where it opens.
func TestFixPhotoFromChat(t *testing.T) {
	r, base := bootPages(t)
	const leader, resident = "osample-L10-a", "oresident-fixphoto-1"
	number := r.fileByLocation(resident)
	r.waitPush(leader, number)
	got, err := r.sim.SendImage(context.Background(), leader)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "办结现场照片") {
		t.Fatalf("the photo answered %q", got)
	}
	if got := r.say(leader, "办结 "+number+" 已更换路灯"); !strings.Contains(got, "已办结") || !strings.Contains(got, "办结现场照片") {
		t.Fatalf("办结 answered %q", got)
	}
	push := r.waitPush(resident, "已更换路灯")
	if !strings.Contains(push.Text, "附办结现场照片") {
		t.Errorf("the result's notice does not mention the photo: %q", push.Text)
	}

	res := r.pageBrowser(t, base, resident)
	if status := res.open(base + "/wx/cases/" + number); status != http.StatusOK {
		t.Fatalf("the resident's page: %d", status)
	}
	var v struct {
		Result   string `json:"result"`
		Timeline []struct {
			Words string `json:"words"`
			Photo string `json:"photo"`
		} `json:"timeline"`
	}
	if status := res.get("/wx/api/cases/"+number, &v); status != http.StatusOK || v.Result != "已更换路灯" {
		t.Fatalf("the resident's view: %d %+v", status, v)
	}
	photo := ""
	for _, l := range v.Timeline {
		if strings.Contains(l.Words, "已办结") {
			photo = l.Photo
		}
	}
	if photo == "" {
		t.Fatalf("the result's line has no photo: %+v", v.Timeline)
	}
	// The photo is fetched from WeChat and kept as the result is announced.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := res.c.Get(base + photo)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && len(body) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the photo of the fix: %d, %s", resp.StatusCode, body)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// On the console, the case holds the photo beside the resident's.
	var view struct {
		Case struct {
			State  string `json:"state"`
			Photos []any  `json:"photos"`
		} `json:"case"`
	}
	r.login("gl-L10-a").get("/api/cases/"+number, &view)
	if view.Case.State != "resolved" || len(view.Case.Photos) == 0 {
		t.Fatalf("the case on the console: %+v", view.Case)
	}
}
