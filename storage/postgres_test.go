package storage

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/example/tasks"
)

func TestParsePostgresURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		url  string
		want pgTarget
	}{
		{
			"postgres://alice:s%40cret@db.example:6543/tasks?sslmode=verify-full&application_name=tasksd&connect_timeout=3",
			pgTarget{network: "tcp", addr: "db.example:6543", user: "alice", password: "s@cret", database: "tasks",
				appName: "tasksd", dialTimeout: 3 * time.Second, tls: tlsSettings{mode: "verify-full", serverName: "db.example"}},
		},
		{
			"postgresql://db.example/tasks",
			pgTarget{network: "tcp", addr: "db.example:5432", user: "postgres", database: "tasks",
				dialTimeout: defaultDialTimeout, tls: tlsSettings{mode: "prefer", serverName: "db.example"}},
		},
		{
			// Neon's pooled URLs look like this.
			"postgresql://neondb_owner:pw@ep-cool-1-pooler.eu-central-1.aws.neon.tech/neondb?sslmode=require&channel_binding=require",
			pgTarget{network: "tcp", addr: "ep-cool-1-pooler.eu-central-1.aws.neon.tech:5432", user: "neondb_owner", password: "pw",
				database: "neondb", dialTimeout: defaultDialTimeout,
				tls: tlsSettings{mode: "require", serverName: "ep-cool-1-pooler.eu-central-1.aws.neon.tech"}},
		},
		{
			"postgres:///tasks?host=/run/postgresql&port=5433&user=bob",
			pgTarget{network: "unix", addr: "/run/postgresql/.s.PGSQL.5433", user: "bob", database: "tasks",
				dialTimeout: defaultDialTimeout, tls: tlsSettings{mode: "disable"}},
		},
	} {
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parsePostgresURL(u)
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s:\n got  %+v\n want %+v", c.url, got, c.want)
		}
	}
	for _, bad := range []string{
		"postgres://u:hunter2@h/db?statement_timeout=5s", // would be a startup parameter PgBouncer rejects
		"postgres://u:hunter2@h/db?sslmode=bogus",
		"postgres://u:hunter2@h/db?sslmode=verify-full&sslrootcert=/no/such/file",
		"postgres://u:hunter2@h/db?sslcert=/only/cert",
		"postgres://u:hunter2@h1,h2/db",
		"postgres://u:hunter2@h:99999/db",
		"postgres://u:hunter2@h/db?connect_timeout=soon",
		"postgres://u:hunter2@h/db\x7f",
		"mysql://u:hunter2@h/db",
		"",
	} {
		_, err := Open(context.Background(), Config{URL: bad})
		if err == nil {
			t.Errorf("%q: opened", bad)
			continue
		}
		wantKind(t, err, tasks.KindInvalid)
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: the error shows the password: %v", bad, err)
		}
	}
}

func TestSQLiteFile(t *testing.T) {
	t.Parallel()
	abs, _ := filepath.Abs("data/tasks.db")
	for in, want := range map[string]string{
		"/var/lib/tasks/tasks.db":       "/var/lib/tasks/tasks.db",
		"data/tasks.db":                 abs,
		"file:data/tasks.db":            abs,
		"file:///var/lib/tasks.db":      "/var/lib/tasks.db",
		"file:/var/lib/my%20tasks.db":   "/var/lib/my tasks.db",
		DefaultSQLitePath("/srv/tasks"): "/srv/tasks/tasks.db",
	} {
		if got, err := sqliteFile(in); err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{":memory:", "file::memory:", "file:x.db?mode=memory", "file://otherhost/x.db"} {
		if got, err := sqliteFile(bad); err == nil {
			t.Errorf("%q: accepted as %q", bad, got)
		}
	}
}

// testPKI is a CA, another CA, and server certificates signed by the first.
type testPKI struct {
	caFile, otherCAFile string
	byName, byIP        tls.Certificate // for DNS name db.test; for IP 127.0.0.1
}

func mustPKI(tb testing.TB) testPKI {
	tb.Helper()
	dir := tb.TempDir()
	newCA := func(name string) (*x509.Certificate, *ecdsa.PrivateKey, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			tb.Fatal(err)
		}
		cert, _ := x509.ParseCertificate(der)
		file := filepath.Join(dir, name+".pem")
		if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
			tb.Fatal(err)
		}
		return cert, key, file
	}
	ca, caKey, caFile := newCA("ca")
	_, _, otherFile := newCA("other")
	leaf := func(dns []string, ips []net.IP) tls.Certificate {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "server"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			DNSNames: dns, IPAddresses: ips, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			tb.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	return testPKI{
		caFile: caFile, otherCAFile: otherFile,
		byName: leaf([]string{"db.test"}, nil),
		byIP:   leaf(nil, []net.IP{net.IPv4(127, 0, 0, 1)}),
	}
}

// fakeServer answers connections' SSLRequests like PostgreSQL (with 'S'
// and a TLS handshake when it has a certificate, else 'N') and reports
// what happened to each: "tls" (a completed handshake), "tls failed",
// "plain" (a startup message without TLS), or "declined" ('N' answered and
// the client closed the connection).
func fakeServer(tb testing.TB, cert *tls.Certificate) (addr string, result <-chan string) {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	ch := make(chan string, 4)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			ch <- serveFake(conn, cert)
		}
	}()
	return l.Addr().String(), ch
}

func serveFake(conn net.Conn, cert *tls.Certificate) string {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	msg := make([]byte, 8)
	if _, err := io.ReadFull(conn, msg); err != nil {
		return "read failed"
	}
	if binary.BigEndian.Uint32(msg[4:]) != 80877103 { // not an SSLRequest
		return "plain"
	}
	if cert == nil {
		conn.Write([]byte("N"))
		if _, err := conn.Read(msg); err == io.EOF {
			return "declined"
		}
		return "declined, then left open"
	}
	conn.Write([]byte("S"))
	if err := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{*cert}}).Handshake(); err != nil {
		return "tls failed"
	}
	return "tls"
}

// TestSSLModes checks libpq's meaning of each sslmode against servers with
// certificates the client should and should not accept.
func TestSSLModes(t *testing.T) {
	t.Parallel()
	pki := mustPKI(t)
	for _, c := range []struct {
		name  string
		query string
		cert  *tls.Certificate // nil: the server does not do TLS
		want  string
	}{
		{"disable", "sslmode=disable", &pki.byName, "plain"},
		{"prefer with TLS", "sslmode=prefer", &pki.byName, "tls"},
		{"prefer without TLS", "sslmode=prefer", nil, "plain"},
		{"default is prefer", "", nil, "plain"},
		{"require encrypts, verifies nothing", "sslmode=require", &pki.byName, "tls"},
		{"require with sslrootcert verifies the chain", "sslmode=require&sslrootcert=" + pki.otherCAFile, &pki.byName, "tls failed"},
		{"require with sslrootcert ignores the name", "sslmode=require&sslrootcert=" + pki.caFile, &pki.byName, "tls"},
		{"verify-ca accepts another name", "sslmode=verify-ca&sslrootcert=" + pki.caFile, &pki.byName, "tls"},
		{"verify-ca rejects another CA", "sslmode=verify-ca&sslrootcert=" + pki.otherCAFile, &pki.byName, "tls failed"},
		{"verify-ca uses system roots", "sslmode=verify-ca", &pki.byName, "tls failed"},
		{"verify-full rejects another name", "sslmode=verify-full&sslrootcert=" + pki.caFile, &pki.byName, "tls failed"},
		{"verify-full accepts its name", "sslmode=verify-full&sslrootcert=" + pki.caFile, &pki.byIP, "tls"},
		{"verify-full uses system roots", "sslmode=verify-full&sslrootcert=system", &pki.byIP, "tls failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			addr, result := fakeServer(t, c.cert)
			u, err := url.Parse("postgres://u@" + addr + "/db?" + c.query)
			if err != nil {
				t.Fatal(err)
			}
			target, err := parsePostgresURL(u)
			if err != nil {
				t.Fatal(err)
			}
			conn, err := target.connector(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			_, err = conn.Connect(testContext(t)) // fails: the fake server stops there
			got := <-result
			if got == "declined" { // prefer: then plaintext on a new connection
				got = <-result
			}
			if got != c.want {
				t.Errorf("server saw %q, want %q (client: %v)", got, c.want, err)
			}
			if kind, _ := classify(err); c.want == "tls failed" && kind != tasks.KindUnavailable {
				t.Errorf("a rejected certificate is %v (%v), want unavailable", kind, err)
			}
		})
	}
}
