package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/internal/valkeytest"
	"gridbot/internal/weedtest"
	"gridbot/objectstore/s3"
	valkeystore "gridbot/store/valkey"
)

// Two instances on Valkey keep media in an S3 bucket (media.store: s3,
// against a SeaweedFS the test starts): photos an older version kept in
// the store are moved into the bucket at start, staff get them through
// either instance (no shared folder), never without a login, and the
// resident's 注销 erases the voice note's object.
func TestMediaInAnS3Bucket(t *testing.T) {
	ctx := context.Background()
	const bucket = "gridbot-e2e"
	openBucket := func(ctx context.Context, endpoint string) (*s3.Store, error) {
		return s3.Open(ctx, s3.Config{Endpoint: endpoint, Bucket: bucket, AccessKey: weedtest.AccessKey,
			SecretKey: weedtest.SecretKey, Region: "us-east-1"})
	}
	endpoint := weedtest.Start(t, func(ctx context.Context, endpoint string) error {
		b, err := openBucket(ctx, endpoint)
		if err != nil {
			return err
		}
		if err := b.PutObject(ctx, "probe/ready", []byte("x")); err != nil {
			return err
		}
		_, _, err = b.Object(ctx, "probe/ready")
		return err
	})
	addr, prefix := valkeytest.Addr(t), valkeytest.Prefix(t)
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	st, err := valkeystore.Open(ctx, valkeystore.Options{Addr: []string{addr}, Prefix: prefix, CasePrefix: town.CasePrefix})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	photo := caseWithOldMedia(t, st, town, "oresident-s3", "s3", 300_000)

	media := fmt.Sprintf("media:\n  store: s3\n  s3:\n    endpoint: %s\n    bucket: %s\n    access_key: %s\n    secret_key: %s\n    region: us-east-1\n    secure: false\n",
		endpoint, bucket, weedtest.AccessKey, weedtest.SecretKey)
	a := boot(t, rigOptions{valkey: addr, prefix: prefix, extra: media})
	b := boot(t, rigOptions{valkey: addr, prefix: prefix, extra: media, peer: a})
	objects, err := openBucket(ctx, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		data, ok, err := objects.Object(ctx, core.MediaObjectKey("s3photo-1"))
		if err == nil && ok && bytes.Equal(data, photo) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the photo is not in the bucket 20 s after start: %d bytes, %v, %v", len(data), ok, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The store keeps a small record, not the bytes.
	if raw, ok, err := st.Record(ctx, "media", "s3photo-1"); err != nil || !ok || len(raw) > 300 {
		t.Fatalf("the photo's record holds %d bytes (%v %v)", len(raw), ok, err)
	}
	get := func(r *rig, user, id string) (int, []byte) {
		cl := r.login(user)
		resp, err := cl.http.Get(cl.base + "/api/media/" + id)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	for _, r := range []*rig{a, b} {
		if status, body := get(r, "gl-L10-a", "s3photo-1"); status != 200 || !bytes.Equal(body, photo) {
			t.Fatalf("the grid's leader gets %d, %d bytes", status, len(body))
		}
		if resp, err := http.Get(r.urls.Console + "/api/media/s3photo-1"); err != nil || resp.Body.Close() != nil || resp.StatusCode != 401 {
			t.Fatalf("without a login: %v %v", resp.Status, err)
		}
	}
	// 注销 erases the voice note's object; the photo stays with the case.
	voices, err := (&core.Ledger{Store: st, Town: town}).Anonymise(ctx, "oresident-s3")
	if err != nil {
		t.Fatal(err)
	}
	ms := &core.MediaStore{Records: st, Objects: objects}
	if err := (&core.Households{Records: st, Media: ms}).Forget(ctx, "oresident-s3", voices); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := objects.Object(ctx, core.MediaObjectKey("s3voice-1")); ok || err != nil {
		t.Fatalf("the voice note's object after 注销: %v %v", ok, err)
	}
	if _, ok, err := objects.Object(ctx, core.MediaObjectKey("s3photo-1")); !ok || err != nil {
		t.Fatalf("the photo's object after 注销: %v %v", ok, err)
	}
}
