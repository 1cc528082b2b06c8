// Package s3 keeps objects in a bucket of an S3-compatible service (MinIO,
// SeaweedFS, Tencent COS, Aliyun OSS…) through minio-go: the object store of
// a deployment whose instances run on several machines. The bucket stays
// private: nothing here sets a policy or signs a URL, and staff reach media
// only through gridbot, which checks who may see them.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"gridbot/core"
)

// Config says where the bucket is.
type Config struct {
	// Endpoint is host:port of the service, without a scheme.
	Endpoint string
	Bucket   string
	// AccessKey and SecretKey sign the requests.
	AccessKey, SecretKey string
	// Region is the bucket's region; empty lets the client ask.
	Region string
	// Secure uses HTTPS.
	Secure bool
	// MaxBytes bounds an object; 0 means core.DefaultMaxMediaBytes.
	MaxBytes int
	// Timeout bounds each call without a deadline of its caller's; 0
	// means DefaultTimeout.
	Timeout time.Duration
}

// DefaultTimeout bounds a call whose caller set no deadline.
const DefaultTimeout = 10 * time.Second

// Store is a bucket. It implements core.ObjectStore.
type Store struct {
	client  *minio.Client
	bucket  string
	max     int
	timeout time.Duration
}

// Open connects to the service and checks the bucket, creating it when it
// does not exist (a new bucket is private).
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, fmt.Errorf("open S3 store: endpoint and bucket are required: %w", core.ErrInvalid)
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = core.DefaultMaxMediaBytes
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	// Bounded connections: a stalled service must not hold a request for
	// ever, nor open connections without end.
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   32,
		MaxConnsPerHost:       64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: cfg.Timeout,
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:    cfg.Secure,
		Region:    cfg.Region,
		Transport: transport,
	})
	if err != nil {
		return nil, fmt.Errorf("open S3 store: %w", err)
	}
	s := &Store{client: client, bucket: cfg.Bucket, max: cfg.MaxBytes, timeout: cfg.Timeout}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	exists, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("open S3 store: bucket %s: %w", cfg.Bucket, err)
	}
	if !exists {
		if err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			return nil, fmt.Errorf("open S3 store: create bucket %s: %w", cfg.Bucket, err)
		}
	}
	return s, nil
}

func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.timeout)
}

// check refuses what the files store refuses, so that the two behave alike
// and a key never depends on the service's own escaping.
func (s *Store) check(key string) error {
	if !core.ValidObjectKey(key) {
		return fmt.Errorf("object key %q: %w", key, core.ErrInvalid)
	}
	return nil
}

// PutObject implements core.ObjectStore. S3 replaces an object whole: a
// reader sees the old or the new one.
func (s *Store) PutObject(ctx context.Context, key string, data []byte) error {
	if err := s.check(key); err != nil {
		return err
	}
	if len(data) > s.max {
		return fmt.Errorf("object %s of %d bytes, over %d: %w", key, len(data), s.max, core.ErrInvalid)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, err := s.client.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/octet-stream", DisableMultipart: true})
	if err != nil {
		return fmt.Errorf("put object: %w", err)
	}
	return nil
}

// Object implements core.ObjectStore.
func (s *Store) Object(ctx context.Context, key string) ([]byte, bool, error) {
	if err := s.check(key); err != nil {
		return nil, false, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, false, s.readErr(err)
	}
	defer obj.Close()
	data, err := io.ReadAll(io.LimitReader(obj, int64(s.max)+1))
	if err != nil {
		if notFound(err) {
			return nil, false, nil
		}
		return nil, false, s.readErr(err)
	}
	if len(data) > s.max {
		return nil, false, fmt.Errorf("object %s is over %d bytes", key, s.max)
	}
	return data, true, nil
}

func (s *Store) readErr(err error) error { return fmt.Errorf("read object: %w", err) }

func notFound(err error) bool {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp.Code == "NoSuchKey" || resp.StatusCode == http.StatusNotFound
	}
	return false
}

// DeleteObject implements core.ObjectStore.
func (s *Store) DeleteObject(ctx context.Context, key string) error {
	if err := s.check(key); err != nil {
		return err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		return fmt.Errorf("delete object: %w", err)
	}
	return nil
}

// Ping checks that the bucket answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if _, err := s.client.BucketExists(ctx, s.bucket); err != nil {
		return fmt.Errorf("S3 bucket %s: %w", s.bucket, err)
	}
	return nil
}
