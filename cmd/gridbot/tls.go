package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// TLS where gridbot itself listens (http.tls_cert_file, http.tls_key_file),
// for deployments without a TLS proxy: TLS 1.2 at least, and a renewed
// certificate (certbot, acme.sh) taken up without a restart — the files
// are looked at again at most once a minute, and a pair that does not load
// leaves the last good one in use. HTTP/1.1 only: the live feed is a
// websocket, and the connection limits count HTTP/1 connections.

// certRecheck is how often the files are looked at for a renewal.
const certRecheck = time.Minute

// certFiles keeps the loaded pair and reloads it when the files change.
type certFiles struct {
	certPath, keyPath string
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	modTime time.Time
	checked time.Time
}

func (c *certFiles) load() error {
	pair, err := tls.LoadX509KeyPair(c.certPath, c.keyPath)
	if err != nil {
		return fmt.Errorf("http.tls_cert_file %s, http.tls_key_file %s: %w", c.certPath, c.keyPath, err)
	}
	c.cert, c.modTime = &pair, c.newest()
	return nil
}

// newest is the later modification time of the two files.
func (c *certFiles) newest() time.Time {
	var t time.Time
	for _, p := range []string{c.certPath, c.keyPath} {
		if fi, err := os.Stat(p); err == nil && fi.ModTime().After(t) {
			t = fi.ModTime()
		}
	}
	return t
}

// get is tls.Config.GetCertificate.
func (c *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); now.Sub(c.checked) >= certRecheck {
		c.checked = now
		if c.newest().After(c.modTime) {
			if err := c.load(); err != nil {
				c.log.Error("renewed TLS certificate not loaded; the last good one stays", "err", err)
			} else {
				c.log.Info("TLS certificate reloaded")
			}
		}
	}
	return c.cert, nil
}

// serverTLS is the listener's TLS configuration from the PEM files.
func serverTLS(certPath, keyPath string, log *slog.Logger) (*tls.Config, error) {
	c := &certFiles{certPath: certPath, keyPath: keyPath, log: log, checked: time.Now()}
	if err := c.load(); err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.get, NextProtos: []string{"http/1.1"}}, nil
}
