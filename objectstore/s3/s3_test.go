package s3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/internal/weedtest"
	"gridbot/objectstore/objecttest"
)

// The tests run against a real S3-compatible server: SeaweedFS, started on
// loopback by TestMain when a weed binary is found (internal/weedtest).
// Without one the tests skip, except under CI=true, where they fail.

const (
	accessKey = weedtest.AccessKey
	secretKey = weedtest.SecretKey
)

var endpoint string // host:port of the test server; "" when there is none

func TestMain(m *testing.M) {
	addr, stop, err := weedtest.Run(probe)
	if err != nil {
		fmt.Fprintln(os.Stderr, "s3 tests: no S3 server:", err)
	}
	endpoint = addr
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}

// needServer skips (or under CI fails) when no server runs.
func needServer(t *testing.T) {
	t.Helper()
	if endpoint != "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no S3 server (SeaweedFS's weed not found or not started); CI must run these tests")
	}
	t.Skip("no S3 server: set GRIDBOT_WEED or put weed on the PATH")
}

// probe is ready when a signed request creates the bucket and an object
// goes in and out.
func probe(ctx context.Context, addr string) error {
	s, err := Open(ctx, Config{Endpoint: addr, Bucket: testBucket, AccessKey: accessKey, SecretKey: secretKey, Region: "us-east-1"})
	if err != nil {
		return err
	}
	if err := s.PutObject(ctx, "probe/ready", []byte("x")); err != nil {
		return err
	}
	_, _, err = s.Object(ctx, "probe/ready")
	return err
}

// testBucket is the one bucket of the tests (each SeaweedFS bucket takes
// volumes of its own); each test writes under a prefix of its own.
const testBucket = "gridbot-test"

func open(t *testing.T) *Store {
	t.Helper()
	needServer(t)
	s, err := Open(context.Background(), Config{Endpoint: endpoint, Bucket: testBucket, AccessKey: accessKey,
		SecretKey: secretKey, Region: "us-east-1", MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBehaviour(t *testing.T) {
	objecttest.Run(t, open(t), "behaviour/", 1<<20)
}

// The bucket is private: a wrong key, or none (a public link), gets nothing.
func TestBucketIsPrivate(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if err := s.PutObject(ctx, "private/secret-photo", []byte("a resident's photo")); err != nil {
		t.Fatal(err)
	}
	wrong, err := Open(ctx, Config{Endpoint: endpoint, Bucket: testBucket, AccessKey: accessKey,
		SecretKey: "not-the-secret-key-000000", Region: "us-east-1"})
	if err == nil {
		if _, ok, err := wrong.Object(ctx, "private/secret-photo"); ok || err == nil {
			t.Fatalf("a wrong secret read the object (ok %v, err %v)", ok, err)
		}
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + endpoint + "/" + testBucket + "/private/secret-photo")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatal("the object is readable by an unsigned request")
	}
	t.Logf("unsigned request: %s", resp.Status)
}

// Media through core.MediaStore: bytes in the bucket, erased with the file.
func TestMediaInTheBucket(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	recs := memRecords{}
	ms := &core.MediaStore{Records: recs, Objects: s}
	if err := ms.Put(ctx, core.MediaFile{ID: "wx-media-1", Case: "ST1", Kind: core.MediaImage, Data: []byte("jpeg")}); err != nil {
		t.Fatal(err)
	}
	if data, ok, err := s.Object(ctx, core.MediaObjectKey("wx-media-1")); err != nil || !ok || string(data) != "jpeg" {
		t.Fatalf("in the bucket: %q %v %v", data, ok, err)
	}
	if err := ms.Delete(ctx, "wx-media-1"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Object(ctx, core.MediaObjectKey("wx-media-1")); ok || err != nil {
		t.Fatalf("after deletion: %v %v", ok, err)
	}
}

// An unreachable service fails within the caller's deadline.
func TestUnreachableFailsFast(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := Open(ctx, Config{Endpoint: addr, Bucket: "b", AccessKey: "a", SecretKey: "s"})
	if err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("Open on nothing: %v after %s", err, time.Since(start))
	}
	if _, err := Open(ctx, Config{Bucket: "b"}); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("no endpoint: %v", err)
	}
}

// memRecords is a map as core.Records, for the MediaStore test.
type memRecords map[string][]byte

func (m memRecords) Record(_ context.Context, ns, key string) ([]byte, bool, error) {
	v, ok := m[ns+"/"+key]
	return v, ok, nil
}
func (m memRecords) PutRecord(_ context.Context, ns, key string, v []byte) error {
	m[ns+"/"+key] = v
	return nil
}
func (m memRecords) DeleteRecord(_ context.Context, ns, key string) error {
	delete(m, ns+"/"+key)
	return nil
}
func (m memRecords) RecordsIn(context.Context, string) (map[string][]byte, error) { return nil, nil }
