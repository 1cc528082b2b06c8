// Package weedtest gives tests a real S3-compatible server on loopback:
// SeaweedFS (`weed server -s3`) with an S3 gateway that requires the
// test's key, every port its own, in a temporary folder.
//
// The weed binary is $GRIDBOT_WEED or weed on the PATH (.ci/run builds one
// and keeps it in ~/.cache/gridbot). Without one a test that needs the
// server skips, except under CI=true, where it fails: an S3 test never
// silently skips in CI.
package weedtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// The key the test server requires.
const (
	AccessKey = "gridbot-test-access"
	SecretKey = "gridbot-test-secret-0123456789"
)

// Ready tells whether the server at endpoint (host:port) serves S3 with
// the test's key: the gateway answers before its filer is ready, so it
// should create a bucket and put and get an object.
type Ready func(ctx context.Context, endpoint string) error

// Start starts a server for test t, stopped when it ends, and returns its
// S3 endpoint (host:port). It skips t (fails it under CI=true) when there
// is no weed binary.
func Start(t testing.TB, ready Ready) string {
	t.Helper()
	if _, err := Binary(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no S3 server (SeaweedFS's weed not found: %v); CI must run this test", err)
		}
		t.Skip("no S3 server: set GRIDBOT_WEED or put weed on the PATH")
	}
	endpoint, stop, err := Run(ready)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return endpoint
}

// Binary is the weed binary to run.
func Binary() (string, error) {
	if p := os.Getenv("GRIDBOT_WEED"); p != "" {
		return p, nil
	}
	return exec.LookPath("weed")
}

// Run starts a server and waits up to 90 s for ready; stop kills it and
// removes its folder.
func Run(ready Ready) (endpoint string, stop func(), err error) {
	bin, err := Binary()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "gridbot-weed-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	conf := filepath.Join(dir, "s3.json")
	identities := fmt.Sprintf(`{"identities":[{"name":"gridbot","credentials":[{"accessKey":%q,"secretKey":%q}],"actions":["Admin","Read","Write","List","Tagging"]}]}`, AccessKey, SecretKey)
	if err := os.WriteFile(conf, []byte(identities), 0o600); err != nil {
		cleanup()
		return "", nil, err
	}
	p, err := freePorts(8)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		cleanup()
		return "", nil, err
	}
	port := strconv.Itoa
	cmd := exec.Command(bin, "server", "-dir="+data, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port="+port(p[0]), "-master.port.grpc="+port(p[1]), "-master.volumeSizeLimitMB=64",
		"-volume.port="+port(p[2]), "-volume.port.grpc="+port(p[3]), "-volume.max=32",
		"-filer", "-filer.port="+port(p[4]), "-filer.port.grpc="+port(p[5]),
		"-s3", "-s3.port="+port(p[6]), "-s3.port.grpc="+port(p[7]), "-s3.port.iceberg=0", "-s3.port.lance=0",
		"-s3.config="+conf)
	logf, err := os.Create(filepath.Join(dir, "weed.log"))
	if err != nil {
		cleanup()
		return "", nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		cleanup()
		return "", nil, err
	}
	stop = func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
		cleanup()
	}
	endpoint = "127.0.0.1:" + port(p[6])
	started := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for {
		pctx, pcancel := context.WithTimeout(ctx, 3*time.Second)
		err := ready(pctx, endpoint)
		pcancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			log, _ := os.ReadFile(logf.Name())
			stop()
			return "", nil, errors.Join(fmt.Errorf("SeaweedFS did not serve S3 within 90 s: %w", err), fmt.Errorf("its log ends: %s", tail(log, 2000)))
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "weedtest: SeaweedFS serving S3 at %s after %s\n", endpoint, time.Since(started).Round(time.Millisecond))
	return endpoint, stop, nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
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
