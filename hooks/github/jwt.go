package github

import (
	"crypto/rsa"
	"errors"
	"time"

	jwt "github.com/golang-jwt/jwt/v4"
)

// The App's JWT is issued a minute in the past, as GitHub advises against
// clock drift, and expires 5 minutes on (GitHub takes at most 10). One is
// signed per App request, so it never needs to live longer.
const (
	jwtBackdate = 60 * time.Second
	jwtLifetime = 5 * time.Minute
)

// appSigner signs the App's JWTs (RS256) for ghinstallation's
// AppsTransport, setting their times as GitHub advises: ghinstallation's
// own are 30 seconds in the past.
type appSigner struct {
	key *rsa.PrivateKey
}

// newAppSigner parses an App's PEM private key. Its error never quotes
// the key.
func newAppSigner(pemKey []byte) (*appSigner, error) {
	key, err := jwt.ParseRSAPrivateKeyFromPEM(pemKey)
	if err != nil {
		return nil, errors.New("the private key is not an RSA private key in PEM (the .pem file GitHub gives)")
	}
	return &appSigner{key: key}, nil
}

// Sign signs the claims ghinstallation made (the issuer, the App's id),
// issued jwtBackdate ago and expiring jwtLifetime from now.
func (s *appSigner) Sign(claims jwt.Claims) (string, error) {
	if rc, ok := claims.(*jwt.RegisteredClaims); ok {
		c := *rc
		now := time.Now().Truncate(time.Second)
		c.IssuedAt = jwt.NewNumericDate(now.Add(-jwtBackdate))
		c.ExpiresAt = jwt.NewNumericDate(now.Add(jwtLifetime))
		claims = &c
	}
	return jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(s.key)
}
