package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
	"github.com/example/tasks/internal/tasksgrpc"
)

// TestTLS: with TLS_CERT_FILE and TLS_KEY_FILE the server speaks HTTPS and
// gRPC over TLS (HTTP/2 by ALPN) on the same port.
func TestTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := mustSelfSignedCert(t)
	s := mustStartServer(t, map[string]string{"TLS_CERT_FILE": certFile, "TLS_KEY_FILE": keyFile})
	if !strings.HasPrefix(s.baseURL, "https://") {
		t.Fatalf("base URL %s", s.baseURL)
	}
	token := s.mustToken(t, "tls-user")

	conn, err := grpc.NewClient(strings.TrimPrefix(s.baseURL, "https://"),
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool})),
		grpc.WithPerRPCCredentials(secureBearer(token)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	created, err := tasksgrpc.NewTaskServiceClient(conn).CreateTask(context.Background(), &tasksv1.CreateTaskRequest{Title: "over TLS"})
	if err != nil {
		t.Fatalf("grpc-go over TLS: %v", err)
	}

	httpsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	c := tasksv1connect.NewTaskServiceClient(httpsClient, s.baseURL, connect.WithInterceptors(bearer(token)))
	got, err := c.GetTask(context.Background(), &tasksv1.GetTaskRequest{Id: created.GetTask().GetId()})
	if err != nil || got.GetTask().GetTitle() != "over TLS" {
		t.Errorf("connect over HTTPS: %v, %v", got, err)
	}
}

type secureBearer string

func (b secureBearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}
func (secureBearer) RequireTransportSecurity() bool { return true }

// mustSelfSignedCert writes a certificate for 127.0.0.1 and its key to PEM
// files and returns them with a pool that trusts the certificate.
func mustSelfSignedCert(tb testing.TB) (certFile, keyFile string, pool *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "tasksd test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		tb.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLSBadFiles: unreadable TLS files stop the server at start with a
// message naming the settings.
func TestTLSBadFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg, err := parseConfig("test", nil, envMap(map[string]string{
		"LISTEN_ADDR":     "127.0.0.1:0",
		"DATA_DIR":        dir,
		"AUTH_JWT_SECRET": mustRandomHex(t, 32),
		"TLS_CERT_FILE":   filepath.Join(dir, "missing-cert.pem"),
		"TLS_KEY_FILE":    filepath.Join(dir, "missing-key.pem"),
	}), parseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = serve(context.Background(), cfg, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "TLS_CERT_FILE") {
		t.Errorf("got %v, want an error naming TLS_CERT_FILE", err)
	}
}
