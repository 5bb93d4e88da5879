package storage

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
)

// tlsSettings are a URL's sslmode and certificate parameters.
type tlsSettings struct {
	mode       string // libpq's sslmode
	serverName string // the host, for SNI (Neon routes by it) and verify-full
	rootCert   string // sslrootcert: a PEM file, or "system"; empty: system roots
	cert, key  string // sslcert, sslkey: a client certificate
}

// config returns the TLS configuration of the settings with libpq's
// meaning of sslmode, which pgdriver v1.2.18's own parsing does not quite
// have (it treats a missing sslmode as "TLS required, nothing verified",
// and has no prefer):
//
//   - disable: no TLS.
//   - allow, prefer: TLS when the server offers it (fallback is true),
//     nothing verified.
//   - require: TLS, nothing verified; with sslrootcert given it verifies
//     the chain like verify-ca (libpq's rule).
//   - verify-ca: TLS, the chain verified against sslrootcert or the system
//     roots, any host name.
//   - verify-full: TLS, the chain and the host name verified.
func (s tlsSettings) config() (conf *tls.Config, fallback bool, err error) {
	if s.mode == "disable" {
		return nil, false, nil
	}
	conf = &tls.Config{ServerName: s.serverName, MinVersion: tls.VersionTLS12}
	if s.cert != "" || s.key != "" {
		if s.cert == "" || s.key == "" {
			return nil, false, invalidURL("sslcert and sslkey go together")
		}
		pair, err := tls.LoadX509KeyPair(s.cert, s.key)
		if err != nil {
			return nil, false, invalidURL("cannot load sslcert/sslkey: %v", err)
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	roots, err := s.roots()
	if err != nil {
		return nil, false, err
	}
	mode := s.mode
	if mode == "require" && s.rootCert != "" {
		mode = "verify-ca"
	}
	switch mode {
	case "allow", "prefer":
		conf.InsecureSkipVerify = true
		return conf, true, nil
	case "require":
		conf.InsecureSkipVerify = true
	case "verify-ca":
		// Go verifies the host name with the chain; verify-ca must not,
		// so verification is done here instead.
		conf.InsecureSkipVerify = true
		conf.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyChain(cs.PeerCertificates, roots)
		}
	case "verify-full":
		conf.RootCAs = roots
	default:
		return nil, false, invalidURL("unsupported sslmode %q", s.mode)
	}
	return conf, false, nil
}

// roots returns the pool of sslrootcert, or nil (the system roots) when it
// is empty or "system".
func (s tlsSettings) roots() (*x509.CertPool, error) {
	if s.rootCert == "" || s.rootCert == "system" {
		return nil, nil
	}
	pem, err := os.ReadFile(s.rootCert)
	if err != nil {
		return nil, invalidURL("cannot read sslrootcert: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, invalidURL("sslrootcert holds no PEM certificate")
	}
	return pool, nil
}

// verifyChain verifies a server's certificate chain against roots (the
// system roots when nil) without looking at host names.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool) error {
	if len(certs) == 0 {
		return errors.New("storage: the server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
	return err
}
