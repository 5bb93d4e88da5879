package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// minRSABits is the smallest RSA modulus accepted from a JWKS.
const minRSABits = 2048

// publicKey is one usable JWKS entry, exported to its crypto type once at
// fetch time so that verifying a token does not convert it again.
type publicKey struct {
	kid string
	alg jwa.SignatureAlgorithm // the key's own "alg"; "" when it names none
	raw any                    // ed25519.PublicKey, *ecdsa.PublicKey or *rsa.PublicKey
}

// keySet is an immutable snapshot of the issuer's published keys.
type keySet struct {
	keys []publicKey
}

// newKeySet keeps the entries of set that can verify a signature and drops
// the rest: symmetric ("oct") keys, which must never verify anything since
// the JWKS is public; encryption keys; X25519 keys; short RSA keys. Private
// parts, should an issuer publish them by mistake, are discarded.
func newKeySet(set jwk.Set) (*keySet, error) {
	ks := &keySet{}
	for i := range set.Len() {
		k, _ := set.Key(i)
		if use := k.KeyUsage(); use != "" && use != string(jwk.ForSignature) {
			continue
		}
		raw, err := jwk.PublicRawKeyOf(k)
		if err != nil {
			continue // oct keys have no public form
		}
		switch raw := raw.(type) {
		case ed25519.PublicKey, *ecdsa.PublicKey:
		case *rsa.PublicKey:
			if raw.N.BitLen() < minRSABits {
				continue
			}
		default:
			continue
		}
		var alg jwa.SignatureAlgorithm
		if a := k.Algorithm(); a != nil && a.String() != "" {
			alg = jwa.SignatureAlgorithm(a.String())
		}
		ks.keys = append(ks.keys, publicKey{kid: k.KeyID(), alg: alg, raw: raw})
	}
	if len(ks.keys) == 0 {
		return nil, fmt.Errorf("JWKS has no usable signature keys (of %d)", set.Len())
	}
	return ks, nil
}

// has reports whether the set holds a key with this kid.
func (ks *keySet) has(kid string) bool {
	for _, k := range ks.keys {
		if k.kid == kid {
			return true
		}
	}
	return false
}

// matching calls f with each key that may verify a token signed with alg
// and naming kid ("" matches every key). A key qualifies only if its type
// and curve are the ones alg is defined for and its own alg, when set, is
// alg: this is what stops algorithm confusion.
func (ks *keySet) matching(alg jwa.SignatureAlgorithm, kid string, f func(raw any)) {
	for _, k := range ks.keys {
		if kid != "" && k.kid != kid {
			continue
		}
		if k.alg != "" && k.alg != alg {
			continue
		}
		if fits(alg, k.raw) {
			f(k.raw)
		}
	}
}

// fits reports whether alg is defined for a key of raw's type and curve.
func fits(alg jwa.SignatureAlgorithm, raw any) bool {
	switch raw := raw.(type) {
	case ed25519.PublicKey:
		return alg == jwa.EdDSA
	case *ecdsa.PublicKey:
		switch alg {
		case jwa.ES256:
			return raw.Curve == elliptic.P256()
		case jwa.ES384:
			return raw.Curve == elliptic.P384()
		case jwa.ES512:
			return raw.Curve == elliptic.P521()
		}
	case *rsa.PublicKey:
		switch alg {
		case jwa.RS256, jwa.RS384, jwa.RS512, jwa.PS256, jwa.PS384, jwa.PS512:
			return true
		}
	}
	return false
}
