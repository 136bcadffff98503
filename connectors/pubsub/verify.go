package pubsub

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
)

// Leeway is how far a token's times may be off the receive time: a token
// counts as unexpired until Leeway after its exp, and as issued from
// Leeway before its iat, for the clocks of Google and Reflex.
const Leeway = time.Minute

// maxToken bounds the bearer token read; Google's are about 1 KiB.
const maxToken = 8 << 10

// algorithms are the only signature algorithms accepted: Google signs its
// OIDC tokens with RS256, and accepting others ("none", HS256 keyed with
// the public key) is how JWT checks are fooled.
var algorithms = []jose.SignatureAlgorithm{jose.RS256}

// googleClaims are the claims of Google's OIDC tokens beyond the
// registered ones.
type googleClaims struct {
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
}

// Verify checks the OIDC token Pub/Sub sends in Authorization: Bearer: an
// RS256 JWT signed by a key of the configured key set (Google's), for
// settings.audience, from an accepted issuer, whose email is one of
// settings.service_accounts and verified, and which is valid at the
// receive time within Leeway. secrets are not used: the keys are fetched.
// A key set that cannot be fetched is ErrUnavailable, never
// ErrUnauthorized.
func (c *Connector) Verify(ctx context.Context, req *connectors.Request, _ [][]byte) error {
	if !c.HasKeys() {
		return fmt.Errorf("%w: the source's settings name no audience and service account, so no Pub/Sub token can be accepted", connectors.ErrUnauthorized)
	}
	raw, err := bearerToken(req.Header)
	if err != nil {
		return err
	}
	at := req.ReceivedAt
	if at.IsZero() {
		at = time.Now()
	}
	sum := sha256.Sum256([]byte(raw))
	if e, ok := c.tokens.get(sum); ok && c.holds(ctx, e.set) {
		return c.checkClaims(e.claims, at)
	}
	tok, err := jwt.ParseSigned(raw, algorithms)
	if err != nil {
		return fmt.Errorf("%w: the bearer token is not a JWT signed with RS256: %v", connectors.ErrUnauthorized, err)
	}
	kid := tok.Headers[0].KeyID
	if kid == "" {
		return fmt.Errorf("%w: the token's header names no key id (kid)", connectors.ErrUnauthorized)
	}
	key, set, err := c.key(ctx, kid)
	if err != nil {
		return err
	}
	claims := &tokenClaims{}
	if err := tok.Claims(key, &claims.Claims, &claims.google); err != nil {
		if errors.Is(err, jose.ErrCryptoFailure) {
			return fmt.Errorf("%w: the token's signature does not verify with key %q", connectors.ErrUnauthorized, kid)
		}
		return fmt.Errorf("%w: cannot read the token's claims: %v", connectors.ErrUnauthorized, err)
	}
	c.tokens.put(sum, tokenEntry{claims: claims, set: set}, at)
	return c.checkClaims(claims, at)
}

// holds reports whether set is still the key set the cache holds: a
// token remembered as verified with it needs no verifying again.
func (c *Connector) holds(ctx context.Context, set *keySet) bool {
	body, err := c.cache.Get(ctx, c.keysURL)
	return err == nil && c.keySet(body) == set
}

// tokenClaims are the claims of a token whose signature verified.
type tokenClaims struct {
	jwt.Claims
	google googleClaims
}

// bearerToken returns the token of the one Authorization: Bearer header.
func bearerToken(h http.Header) (string, error) {
	values := h.Values("Authorization")
	switch {
	case len(values) == 0 || values[0] == "":
		return "", fmt.Errorf("%w: the Authorization header is missing; Pub/Sub sends \"Bearer <OIDC token>\" when the push subscription has authentication enabled", connectors.ErrUnauthorized)
	case len(values) > 1:
		return "", fmt.Errorf("%w: the Authorization header is sent %d times; Pub/Sub sends one", connectors.ErrUnauthorized, len(values))
	}
	raw, ok := schemes.BearerToken(values[0])
	if !ok {
		return "", fmt.Errorf("%w: the Authorization header is not \"Bearer <token>\"", connectors.ErrUnauthorized)
	}
	if len(raw) > maxToken {
		return "", fmt.Errorf("%w: the bearer token is longer than %d bytes", connectors.ErrUnauthorized, maxToken)
	}
	return raw, nil
}

// checkClaims checks the claims of a token whose signature verified
// against the settings, at the receive time at.
func (c *Connector) checkClaims(claims *tokenClaims, at time.Time) error {
	if !slices.Contains(c.issuers, claims.Issuer) {
		return fmt.Errorf("%w: the token's issuer %q is not one accepted (%s)", connectors.ErrUnauthorized, clip(claims.Issuer), strings.Join(c.issuers, ", "))
	}
	if claims.Expiry == nil || claims.IssuedAt == nil {
		return fmt.Errorf("%w: the token lacks its expiry (exp) or issue time (iat)", connectors.ErrUnauthorized)
	}
	err := claims.ValidateWithLeeway(jwt.Expected{Issuer: claims.Issuer, AnyAudience: jwt.Audience{c.audience}, Time: at}, Leeway)
	switch {
	case errors.Is(err, jwt.ErrInvalidAudience):
		return fmt.Errorf("%w: the token is for the audience %q, not settings.audience; set the subscription's audience, or settings.audience, to the other", connectors.ErrUnauthorized, clip(strings.Join(claims.Audience, " ")))
	case errors.Is(err, jwt.ErrExpired):
		return fmt.Errorf("%w: the token expired at %s, more than %s before the delivery was received", connectors.ErrStale, claims.Expiry.Time().UTC().Format(time.RFC3339), Leeway)
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return fmt.Errorf("%w: the token is valid only from %s, more than %s after the delivery was received; check the clock", connectors.ErrStale, validFrom(&claims.Claims).UTC().Format(time.RFC3339), Leeway)
	case err != nil:
		return fmt.Errorf("%w: the token's claims are not valid: %v", connectors.ErrUnauthorized, err)
	}
	if !slices.Contains(c.serviceAccounts, strings.ToLower(claims.google.Email)) {
		if claims.google.Email == "" {
			return fmt.Errorf("%w: the token has no email claim; it is not a Pub/Sub push token", connectors.ErrUnauthorized)
		}
		return fmt.Errorf("%w: the token's email %q is not one of settings.service_accounts", connectors.ErrUnauthorized, clip(claims.google.Email))
	}
	if !claims.google.EmailVerified {
		return fmt.Errorf("%w: the token's email_verified is not true", connectors.ErrUnauthorized)
	}
	return nil
}

// validFrom returns the later of a token's nbf and iat.
func validFrom(c *jwt.Claims) time.Time {
	var t time.Time
	for _, d := range []*jwt.NumericDate{c.NotBefore, c.IssuedAt} {
		if d != nil && d.Time().After(t) {
			t = d.Time()
		}
	}
	return t
}

// clip bounds a claim quoted in an error.
func clip(s string) string {
	const max = 256
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// key returns the public key with id kid from the key set, fetching the
// set when it is not cached or has expired, and once more (at most once
// per keyfetch.MinRefresh) when it lacks kid: Google may have published a
// new key since.
func (c *Connector) key(ctx context.Context, kid string) (*rsa.PublicKey, *keySet, error) {
	body, err := c.cache.Get(ctx, c.keysURL)
	if err != nil {
		return nil, nil, err
	}
	set := c.keySet(body)
	if k, ok := set.keys[kid]; ok {
		return k, set, nil
	}
	if body, err = c.cache.Refresh(ctx, c.keysURL); err != nil {
		return nil, nil, err
	}
	set = c.keySet(body)
	if k, ok := set.keys[kid]; ok {
		return k, set, nil
	}
	if set.err != nil {
		return nil, nil, fmt.Errorf("%w: the key set at %s cannot be read: %v", connectors.ErrUnavailable, hostOf(c.keysURL), set.err)
	}
	return nil, nil, fmt.Errorf("%w: the token is signed with key %q, which the key set at %s does not hold", connectors.ErrUnauthorized, clip(kid), hostOf(c.keysURL))
}
