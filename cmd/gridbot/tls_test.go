package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files.
func selfSigned(t *testing.T, dir string) (certPath, keyPath string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gridbot test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certPath, keyPath, pool
}

// TestServeTLS: with http.tls_cert_file and http.tls_key_file serve
// answers HTTPS itself — TLS 1.2 at least, HSTS on every console answer, a
// Secure login cookie — and a plain HTTP request to it gets no page.
func TestServeTLS(t *testing.T) {
	certPath, keyPath, pool := selfSigned(t, t.TempDir())
	r := boot(t, rigOptions{environ: []string{"GRIDBOT_HTTP_TLS_CERT_FILE=" + certPath, "GRIDBOT_HTTP_TLS_KEY_FILE=" + keyPath}})
	if !strings.HasPrefix(r.urls.Console, "https://") {
		t.Fatalf("console URL %s", r.urls.Console)
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(r.urls.Console)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") != "max-age=31536000" || resp.TLS == nil ||
		resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("HTTPS page: %d HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	base := strings.TrimSuffix(r.urls.Console, "/")
	req, _ := http.NewRequest("POST", base+"/api/login", strings.NewReader(`{"username":"gl-L10-a","password":"`+testPassword+`"}`))
	req.Header.Set("Origin", base)
	req.Header.Set("X-Requested-With", "gridbot")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	secure := false
	for _, c := range resp.Cookies() {
		secure = secure || (c.Name == "gridbot_session" && c.Secure)
	}
	if resp.StatusCode != 200 || !secure {
		t.Errorf("login over TLS: %d, Secure cookie %v", resp.StatusCode, secure)
	}
	old := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool,
		MaxVersion: tls.VersionTLS11}}}
	if _, err := old.Get(r.urls.Console); err == nil {
		t.Error("TLS 1.1 was accepted")
	}
	plain := strings.Replace(r.urls.Console, "https://", "http://", 1)
	if resp, err := http.Get(plain); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP got the page")
		}
	}
}
