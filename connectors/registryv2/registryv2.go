// Package registryv2 asks a container registry whether an image tag
// exists and which manifest it names, through the registry HTTP API that
// every registry serves (the OCI Distribution Specification,
// https://github.com/opencontainers/distribution-spec/blob/main/spec.md,
// once the Docker Registry HTTP API v2). Connectors of registries that
// sign nothing (Docker Hub, Quay, Azure Container Registry) use it to
// confirm a push before it counts.
//
// It makes one HEAD request for the manifest, and when the registry
// answers with a token challenge (Docker Hub, Quay and ACR all do,
// https://distribution.github.io/distribution/spec/auth/token/), one
// request for a token at the realm the challenge names, with the
// source's credential when it has one. Only the registry the source's
// settings name is asked: an image on another host is not confirmed,
// and nothing the payload says chooses where Reflex connects.
package registryv2

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/keyfetch"
	"github.com/reflexops/reflex/event"
)

// Timeout bounds a confirmation: the token and the manifest requests
// together.
const Timeout = 10 * time.Second

// manifestTypes are the manifest media types asked for, newest first: an
// image index or manifest list names a multi-platform image.
var manifestTypes = strings.Join([]string{
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v2+json",
}, ", ")

// The grammar of names, tags and digests in the distribution
// specification.
var (
	namePattern   = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)
	tagPattern    = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
	digestPattern = regexp.MustCompile(`^[a-z0-9]+([+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)
)

// dockerHub lists the names Docker Hub's registry goes by.
var dockerHub = []string{"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}

// Confirm asks the registry at base (an https URL, e.g.
// "https://registry-1.docker.io") whether a's tag (or, without one, its
// digest) exists, and, when a names a digest, whether the tag names that
// manifest. It returns a Confirmation with Confirmed false when the image
// is on another host, is not a valid reference, or the registry says the
// tag does not exist or names another manifest; and an error wrapping
// connectors.ErrUnavailable when the registry cannot be asked now or
// refuses the credential.
func Confirm(ctx context.Context, base string, a *event.Artifact, cred connectors.Credential) (*event.Confirmation, error) {
	if err := keyfetch.CheckURL(base); err != nil {
		return nil, fmt.Errorf("%w: the registry: %v", connectors.ErrUnavailable, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("%w: the registry URL: %v", connectors.ErrUnavailable, err)
	}
	host := u.Host
	by := "registry " + host
	refuted := func(format string, args ...any) (*event.Confirmation, error) {
		return &event.Confirmation{By: by, Detail: fmt.Sprintf(format, args...), At: time.Now().UTC()}, nil
	}
	if a == nil {
		return refuted("the event names no image")
	}
	imageHost, name := splitImage(a.Repository)
	if !sameRegistry(imageHost, host) {
		return refuted("the image %s is not on %s, the registry this source confirms with", a.Repository, host)
	}
	if !namePattern.MatchString(name) {
		return refuted("%q is not a repository name a registry serves", name)
	}
	ref, what := a.Tag, "tag "+a.Tag
	switch {
	case a.Tag != "" && !tagPattern.MatchString(a.Tag):
		return refuted("%q is not a valid tag", a.Tag)
	case a.Digest != "" && !digestPattern.MatchString(a.Digest):
		return refuted("%q is not a valid digest", a.Digest)
	case a.Tag == "" && a.Digest == "":
		return refuted("the event names neither a tag nor a digest")
	case a.Tag == "":
		ref, what = a.Digest, "manifest "+a.Digest
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	c := client{http: keyfetch.ClientFrom(ctx), base: strings.TrimRight(base, "/"), host: host, cred: cred}
	digest, found, err := c.manifestDigest(ctx, name, ref)
	if err != nil {
		return nil, fmt.Errorf("%w: ask %s about %s:%s: %v", connectors.ErrUnavailable, host, name, ref, err)
	}
	switch {
	case !found:
		return refuted("%s has no %s in %s", host, what, name)
	case a.Digest != "" && digest != "" && digest != a.Digest:
		return refuted("%s in %s names %s, not %s", what, name, digest, a.Digest)
	}
	conf := &event.Confirmation{By: by, Confirmed: true, Detail: fmt.Sprintf("%s exists in %s", what, name), At: time.Now().UTC()}
	if digest != "" && a.Tag != "" {
		conf.Detail = fmt.Sprintf("%s in %s names %s", what, name, digest)
	}
	return conf, nil
}

// splitImage splits an image repository into its registry host and its
// name within the registry, as Docker reads references: a first part with
// a '.' or ':' (or "localhost") is a host; otherwise the image is on
// Docker Hub, where a one-part name is an official image under
// "library/".
func splitImage(repo string) (host, name string) {
	first, rest, ok := strings.Cut(repo, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		host, name = first, rest
	} else {
		host, name = "docker.io", repo
	}
	if host == "docker.io" || host == "index.docker.io" {
		if !strings.Contains(name, "/") {
			name = "library/" + name
		}
	}
	return host, name
}

// sameRegistry reports whether an image's host is the registry at host.
func sameRegistry(imageHost, host string) bool {
	if strings.EqualFold(imageHost, host) {
		return true
	}
	return containsFold(dockerHub, imageHost) && containsFold(dockerHub, host)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// client is one confirmation's conversation with a registry.
type client struct {
	http *http.Client
	base string
	// host is the registry's host: the credential is sent to a token
	// realm only there or at its known token service.
	host string
	cred connectors.Credential
}

// tokenServices are the token services of registries whose realm is on
// another host than the registry: the credential may go there too.
var tokenServices = map[string]string{
	"registry-1.docker.io": "auth.docker.io",
	"index.docker.io":      "auth.docker.io",
	"docker.io":            "auth.docker.io",
}

// mayCredential reports whether the registry's credential may be sent to
// a token realm on realmHost: the registry's own host, or its known token
// service. Anywhere else a token is asked for anonymously, so a registry
// (or whoever answers in its name) cannot send the credential elsewhere.
func (c client) mayCredential(realmHost string) bool {
	return strings.EqualFold(realmHost, c.host) || strings.EqualFold(realmHost, tokenServices[strings.ToLower(c.host)])
}

// manifestDigest asks for the manifest name:ref and returns its digest
// (Docker-Content-Digest, or the hash of the manifest when the registry
// does not send it) and whether it exists.
func (c client) manifestDigest(ctx context.Context, name, ref string) (string, bool, error) {
	target := c.base + "/v2/" + name + "/manifests/" + url.PathEscape(ref)
	resp, err := c.do(ctx, http.MethodHead, target, "")
	if err != nil {
		return "", false, err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		auth, err := c.authorize(ctx, resp.Header.Get("WWW-Authenticate"))
		if err != nil {
			return "", false, err
		}
		if resp, err = c.do(ctx, http.MethodHead, target, auth); err != nil {
			return "", false, err
		}
		resp.Body.Close()
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return "", false, nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return "", false, fmt.Errorf("the registry refused the source's credential (%s); check confirm.username and the confirmation password", resp.Status)
	default:
		return "", false, fmt.Errorf("the registry answered %s", resp.Status)
	}
	if d := resp.Header.Get("Docker-Content-Digest"); digestPattern.MatchString(d) {
		return d, true, nil
	}
	return c.hashManifest(ctx, target, resp.Request.Header.Get("Authorization"))
}

// hashManifest reads a manifest and returns the SHA-256 digest of its
// bytes, for a registry whose HEAD answer names no digest.
func (c client) hashManifest(ctx context.Context, target, auth string) (string, bool, error) {
	resp, err := c.do(ctx, http.MethodGet, target, auth)
	if err != nil {
		return "", false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", false, fmt.Errorf("the registry answered %s to a manifest it had listed", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return "", false, err
	}
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:]), true, nil
}

func (c client) do(ctx context.Context, method, target, auth string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", manifestTypes)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, req.URL.Host, stripURL(err))
	}
	return resp, nil
}

// stripURL returns a client error without the URL it repeats.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// authorize answers a registry's challenge: Basic with the credential, or
// Bearer with a token from the challenge's realm.
func (c client) authorize(ctx context.Context, challenge string) (string, error) {
	scheme, params := parseChallenge(challenge)
	switch strings.ToLower(scheme) {
	case "basic":
		if c.cred.Password == "" {
			return "", errors.New("the registry wants a username and password, and the source has no confirmation password")
		}
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		req.SetBasicAuth(c.cred.Username, c.cred.Password)
		return req.Header.Get("Authorization"), nil
	case "bearer":
		token, err := c.token(ctx, params)
		if err != nil {
			return "", err
		}
		return "Bearer " + token, nil
	}
	return "", fmt.Errorf("the registry asks for %q authentication, which Reflex does not speak", scheme)
}

// token fetches a bearer token from the realm of a challenge.
func (c client) token(ctx context.Context, params map[string]string) (string, error) {
	realm := params["realm"]
	if err := keyfetch.CheckURL(realm); err != nil {
		return "", fmt.Errorf("the registry's token realm: %v", err)
	}
	u, err := url.Parse(realm)
	if err != nil {
		return "", fmt.Errorf("the registry's token realm: %v", err)
	}
	if u.Scheme != "https" && !strings.HasPrefix(c.base, "http://") {
		// Plain http only where the registry itself is (a local one).
		return "", fmt.Errorf("the registry's token realm %s is not https", u.Host)
	}
	q := u.Query()
	for _, k := range []string{"service", "scope"} {
		if v := params[k]; v != "" {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	if c.cred.Password != "" && c.mayCredential(u.Host) {
		req.SetBasicAuth(c.cred.Username, c.cred.Password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("token from %s: %w", u.Host, stripURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token from %s: %s; check the source's confirmation credential", u.Host, resp.Status)
	}
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tok); err != nil {
		return "", fmt.Errorf("token from %s: %v", u.Host, err)
	}
	if t := cmp.Or(tok.Token, tok.AccessToken); t != "" {
		return t, nil
	}
	return "", fmt.Errorf("token from %s: the answer holds no token", u.Host)
}

// parseChallenge reads a WWW-Authenticate header: its scheme and its
// key="value" parameters.
func parseChallenge(h string) (string, map[string]string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	params := map[string]string{}
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		key = strings.ToLower(strings.TrimSpace(key))
		var value string
		if strings.HasPrefix(after, `"`) {
			end := strings.IndexByte(after[1:], '"')
			if end < 0 {
				value, rest = after[1:], ""
			} else {
				value, rest = after[1:1+end], after[2+end:]
			}
		} else {
			value, rest, _ = strings.Cut(after, ",")
		}
		params[key] = value
	}
	return scheme, params
}
