package s3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/objectstore/objecttest"
)

// The tests run against a real S3-compatible server: SeaweedFS (`weed
// server -s3`), started on loopback ports by TestMain when a weed binary is
// found ($GRIDBOT_WEED, or weed on the PATH; .ci/run builds one). Without
// one the tests skip, except under CI=true, where they fail.

const (
	accessKey = "gridbot-test-access"
	secretKey = "gridbot-test-secret-0123456789"
)

var endpoint string // host:port of the test server; "" when there is none

func TestMain(m *testing.M) {
	stop, err := startWeed()
	if err != nil {
		fmt.Fprintln(os.Stderr, "s3 tests: no S3 server:", err)
	}
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

func weedBinary() (string, error) {
	if p := os.Getenv("GRIDBOT_WEED"); p != "" {
		return p, nil
	}
	return exec.LookPath("weed")
}

// freePorts returns n loopback ports free at this moment.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// startWeed starts SeaweedFS with an S3 gateway requiring the test's key,
// every port its own, in a temporary folder, and waits for S3 to answer.
func startWeed() (func(), error) {
	bin, err := weedBinary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gridbot-weed-")
	if err != nil {
		return nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	conf := filepath.Join(dir, "s3.json")
	identities := fmt.Sprintf(`{"identities":[{"name":"gridbot","credentials":[{"accessKey":%q,"secretKey":%q}],"actions":["Admin","Read","Write","List","Tagging"]}]}`, accessKey, secretKey)
	if err := os.WriteFile(conf, []byte(identities), 0o600); err != nil {
		cleanup()
		return nil, err
	}
	p, err := freePorts(8)
	if err != nil {
		cleanup()
		return nil, err
	}
	data := filepath.Join(dir, "data")
	os.Mkdir(data, 0o700)
	port := strconv.Itoa
	cmd := exec.Command(bin, "server", "-dir="+data, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port="+port(p[0]), "-master.port.grpc="+port(p[1]), "-master.volumeSizeLimitMB=64",
		"-volume.port="+port(p[2]), "-volume.port.grpc="+port(p[3]), "-volume.max=32",
		"-filer", "-filer.port="+port(p[4]), "-filer.port.grpc="+port(p[5]),
		"-s3", "-s3.port="+port(p[6]), "-s3.port.grpc="+port(p[7]), "-s3.port.iceberg=0", "-s3.port.lance=0",
		"-s3.config="+conf)
	logf, _ := os.Create(filepath.Join(dir, "weed.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		cleanup()
		return nil, err
	}
	stop := func() {
		cmd.Process.Kill()
		cmd.Wait()
		cleanup()
	}
	addr := "127.0.0.1:" + port(p[6])
	started := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for {
		// Ready when a signed request creates the bucket and an object
		// goes in and out: the gateway answers before its filer is ready.
		if err := probe(ctx, addr); err == nil {
			break
		} else if ctx.Err() != nil {
			stop()
			return nil, fmt.Errorf("SeaweedFS did not serve S3 within 90 s: %w (log in %s)", err, logf.Name())
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "s3 tests: SeaweedFS serving S3 at %s after %s\n", addr, time.Since(started).Round(time.Millisecond))
	endpoint = addr
	return stop, nil
}

func probe(ctx context.Context, addr string) error {
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	s, err := Open(pctx, Config{Endpoint: addr, Bucket: testBucket, AccessKey: accessKey, SecretKey: secretKey, Region: "us-east-1"})
	if err != nil {
		return err
	}
	if err := s.PutObject(pctx, "probe/ready", []byte("x")); err != nil {
		return err
	}
	_, _, err = s.Object(pctx, "probe/ready")
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
