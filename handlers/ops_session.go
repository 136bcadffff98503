package handlers

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/state"
)

// The operators' pages (/ops/) sign in with an API key once, in a form,
// and then carry a session cookie: a browser cannot send a bearer token
// by itself, and a key must never travel in a URL. The cookie is an
// opaque random value; Redis keeps, under its SHA-256, the key's name and
// the hash of the secret used (auth.Proof), so deleting the key or that
// secret ends the session at its next request. Every state-changing
// request carries the session's CSRF token as well.
const (
	// sessionCookie holds the session: HttpOnly, SameSite=Strict, and
	// Secure when served over TLS.
	sessionCookie = "reflex_session"
	// csrfCookie holds the session's CSRF token for the pages' scripts,
	// which send it back in csrfHeader (the queue UI's HTTP library does
	// so by itself, under these names).
	csrfCookie = "XSRF-TOKEN"
	csrfHeader = "X-XSRF-TOKEN"
	// csrfField is the CSRF token's form field.
	csrfField = "csrf_token"
	// loginCookie holds the sign-in form's own CSRF token, before any
	// session exists.
	loginCookie = "reflex_login"
	// opsPath is where the pages and their cookies live.
	opsPath = "/ops"
	// sessionTTL is how long a session lasts, however busy.
	sessionTTL = 12 * time.Hour
)

// session is a signed-in operator's session as Redis keeps it.
type session struct {
	Proof   auth.Proof `json:"proof"`
	CSRF    string     `json:"csrf"`
	Created time.Time  `json:"created"`
}

// opsSessions signs operators in and out and admits their requests.
type opsSessions struct {
	store *state.Store
	auth  *auth.Authenticator
	log   *slog.Logger
}

// randomToken returns 32 random bytes, URL-safe.
func randomToken() string {
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// sessionDigest is the key a session's cookie is kept under.
func sessionDigest(cookie string) string {
	sum := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(sum[:])
}

// secureRequest tells whether the browser reached the server over TLS,
// directly or through a proxy that says so: a cookie it gets is then
// marked Secure. (A sender that lies about it only makes its own cookie
// stricter.)
func secureRequest(c *gin.Context) bool {
	return c.Request.TLS != nil || strings.EqualFold(c.GetHeader("X-Forwarded-Proto"), "https")
}

// setCookie sets a SameSite=Strict cookie under /ops; maxAge < 0 deletes
// it.
func setCookie(c *gin.Context, name, value, path string, maxAge int, httpOnly bool) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: httpOnly, Secure: secureRequest(c), SameSite: http.SameSiteStrictMode,
	})
}

// loginPage answers GET /ops/login: the sign-in form, with a fresh CSRF
// token in the form and in a cookie.
func (s opsSessions) loginPage(c *gin.Context) {
	s.renderLogin(c, http.StatusOK, "")
}

func (s opsSessions) renderLogin(c *gin.Context, status int, problem string) {
	token := randomToken()
	setCookie(c, loginCookie, token, opsPath+"/login", 600, true)
	renderPage(c, status, "login.html", map[string]any{
		"CSRF": token, "Next": safeNext(c.Query("next")), "Problem": problem,
	})
}

// safeNext keeps a return address only when it is a page of /ops/ on
// this server, so the sign-in form cannot send anyone elsewhere.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.IsAbs() || u.Host != "" || !strings.HasPrefix(u.Path, opsPath+"/") || strings.HasPrefix(next, "//") || strings.Contains(next, `\`) {
		return opsPath + "/"
	}
	return u.RequestURI()
}

// login answers POST /ops/login: a valid key starts a session, which
// the answer's cookies carry; anything else shows the form again with
// what went wrong.
func (s opsSessions) login(c *gin.Context) {
	got := c.PostForm(csrfField)
	want, err := c.Cookie(loginCookie)
	if err != nil || want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		s.renderLogin(c, http.StatusForbidden, "The form expired or did not come from this page. Sign in again.")
		return
	}
	caller, proof, err := s.auth.Login(c.Request.Context(), c.PostForm("apikey"))
	if errors.Is(err, auth.ErrUnauthenticated) {
		addLogAttrs(c, slog.String("login", "refused"))
		s.renderLogin(c, http.StatusUnauthorized, "That API key is not valid.")
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	if caller.Kind == auth.KindAgent {
		s.renderLogin(c, http.StatusForbidden, "An agent's key cannot sign in to these pages.")
		return
	}
	cookie := randomToken()
	sess := session{Proof: proof, CSRF: randomToken(), Created: time.Now().UTC()}
	doc, err := json.Marshal(sess)
	if err != nil {
		fail(c, err)
		return
	}
	if err := s.store.SaveSession(c.Request.Context(), sessionDigest(cookie), doc, sessionTTL); err != nil {
		fail(c, err)
		return
	}
	setCookie(c, loginCookie, "", opsPath+"/login", -1, true)
	setCookie(c, sessionCookie, cookie, opsPath, int(sessionTTL.Seconds()), true)
	setCookie(c, csrfCookie, sess.CSRF, opsPath, int(sessionTTL.Seconds()), false)
	addLogAttrs(c, slog.String("apikey", caller.Name), slog.String("login", "signed in"))
	c.Redirect(http.StatusSeeOther, safeNext(c.PostForm("next")))
}

// logout answers POST /ops/logout (behind admit and the CSRF check): the
// session ends at once, on every replica.
func (s opsSessions) logout(c *gin.Context) {
	if cookie, err := c.Cookie(sessionCookie); err == nil {
		if err := s.store.DeleteSession(c.Request.Context(), sessionDigest(cookie)); err != nil {
			fail(c, err)
			return
		}
	}
	setCookie(c, sessionCookie, "", opsPath, -1, true)
	setCookie(c, csrfCookie, "", opsPath, -1, false)
	c.Redirect(http.StatusSeeOther, opsPath+"/login")
}

// sessionKey holds the request's session in the gin context.
const sessionKey = "reflex.session"

// admit lets in requests with a live session and records their caller;
// others are sent to the sign-in form (a page) or answered 401 (anything
// else: the queue UI's API calls, the live feed).
func (s opsSessions) admit(c *gin.Context) {
	sess, caller, err := s.resume(c)
	if err != nil {
		if !errors.Is(err, auth.ErrUnauthenticated) {
			fail(c, err)
			return
		}
		if c.Request.Method == http.MethodGet && strings.Contains(c.GetHeader("Accept"), "text/html") {
			c.Redirect(http.StatusSeeOther, opsPath+"/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
			c.Abort()
			return
		}
		fail(c, &Error{Status: http.StatusUnauthorized, Message: "sign in at " + opsPath + "/login first"})
		return
	}
	c.Set(callerKey, caller)
	c.Set(sessionKey, sess)
	addLogAttrs(c, slog.String("apikey", caller.Name))
	c.Next()
}

// resume reads the request's session and the caller it stands for.
func (s opsSessions) resume(c *gin.Context) (*session, *auth.Caller, error) {
	cookie, err := c.Cookie(sessionCookie)
	if err != nil || cookie == "" {
		return nil, nil, auth.ErrUnauthenticated
	}
	doc, err := s.store.Session(c.Request.Context(), sessionDigest(cookie))
	if errors.Is(err, state.ErrNoSession) {
		return nil, nil, auth.ErrUnauthenticated
	}
	if err != nil {
		return nil, nil, err
	}
	var sess session
	if err := json.Unmarshal(doc, &sess); err != nil {
		return nil, nil, auth.ErrUnauthenticated
	}
	caller, err := s.auth.Resume(c.Request.Context(), sess.Proof)
	if err != nil {
		return nil, nil, err
	}
	return &sess, caller, nil
}

// checkCSRF refuses a state-changing request (anything but GET, HEAD and
// OPTIONS) that a browser marks as sent from another site, or that does
// not carry the session's CSRF token in X-XSRF-TOKEN or the csrf_token
// form field. It runs after admit.
func checkCSRF(c *gin.Context) {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		c.Next()
		return
	}
	if site := c.GetHeader("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		fail(c, Errorf(http.StatusForbidden, "refused: the request came from another site (%s)", site))
		return
	}
	v, _ := c.Get(sessionKey)
	sess, _ := v.(*session)
	got := c.GetHeader(csrfHeader)
	if got == "" && strings.HasPrefix(c.ContentType(), "application/x-www-form-urlencoded") {
		got = c.PostForm(csrfField)
	}
	if sess == nil || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
		fail(c, Errorf(http.StatusForbidden, "refused: the request does not carry this session's CSRF token"))
		return
	}
	c.Next()
}

// csrfOf returns the request's session CSRF token, for forms.
func csrfOf(c *gin.Context) string {
	v, _ := c.Get(sessionKey)
	if sess, _ := v.(*session); sess != nil {
		return sess.CSRF
	}
	return ""
}
