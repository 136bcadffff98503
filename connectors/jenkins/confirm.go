package jenkins

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/keyfetch"
	"github.com/reflexops/reflex/event"
)

// confirmTimeout bounds one confirmation, connection to answer.
const confirmTimeout = 10 * time.Second

// maxAnswer bounds Jenkins' answer; the tree asked for is a few dozen
// bytes.
const maxAnswer = 64 << 10

// buildAnswer is what Jenkins says of a build, tree=result,building,number.
type buildAnswer struct {
	Result   string `json:"result"`
	Building bool   `json:"building"`
	Number   int    `json:"number"`
}

// Confirm asks Jenkins, at the URL of the source's settings, whether a
// build.finished event is true: the build exists, is over, and has a
// result of the event's outcome. It returns nil, nil when the settings
// ask for no confirmation or ev is not a finished build of this
// connector's; a Confirmation with Confirmed false when Jenkins refutes
// it (404 is "no such build"); and an error wrapping
// connectors.ErrUnavailable when Jenkins cannot be asked now (a network
// error, a timeout, a refusal of the credentials, a 5xx). It asks with
// the client keyfetch.ClientFrom(ctx) gives (which follows no redirect),
// within confirmTimeout, with Basic credentials: cred's user (else the
// settings' username) and cred's password, an API token.
func (c *Connector) Confirm(ctx context.Context, ev *event.Event, cred connectors.Credential) (*event.Confirmation, error) {
	t := c.confirm
	if t == nil || ev == nil || ev.Connector != Name || ev.Kind != event.KindBuildFinished {
		return nil, nil
	}
	b := ev.Build
	if b == nil || b.Number <= 0 || !askable(b.Name) {
		// A finished build the source wants confirmed that cannot be
		// asked about is not confirmed: it is never let through unasked.
		return &event.Confirmation{By: "jenkins " + t.host, Detail: "the event names no build Jenkins can be asked about", At: time.Now().UTC()}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, confirmTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.buildURL(b.Name, b.Number), nil)
	if err != nil {
		return nil, fmt.Errorf("confirm %s with jenkins %s: %w", b.ID, t.host, err)
	}
	req.Header.Set("Accept", "application/json")
	user := cred.Username
	if user == "" {
		user = t.username
	}
	if user != "" || cred.Password != "" {
		req.SetBasicAuth(user, cred.Password)
	}
	resp, err := keyfetch.ClientFrom(ctx).Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: asking jenkins %s about %s: %v", connectors.ErrUnavailable, t.host, b.ID, redact(err))
	}
	defer resp.Body.Close()
	by := "jenkins " + t.host
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return &event.Confirmation{By: by, Detail: "no such build: " + b.ID, At: time.Now().UTC()}, nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("%w: jenkins %s refused the confirmation credential (%d); check the user and its API token", connectors.ErrUnavailable, t.host, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: jenkins %s answered %d about %s", connectors.ErrUnavailable, t.host, resp.StatusCode, b.ID)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading jenkins %s's answer about %s: %v", connectors.ErrUnavailable, t.host, b.ID, err)
	}
	var a buildAnswer
	if len(raw) > maxAnswer {
		err = fmt.Errorf("it is longer than %d bytes", maxAnswer)
	} else {
		err = connectors.Decode(raw, &a)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: jenkins %s's answer about %s cannot be read: %v", connectors.ErrUnavailable, t.host, b.ID, err)
	}
	confirmed, detail := judge(b, &a)
	return &event.Confirmation{By: by, Confirmed: confirmed, Detail: detail, At: time.Now().UTC()}, nil
}

// judge compares what Jenkins says of a build with what the event says.
func judge(b *event.Build, a *buildAnswer) (bool, string) {
	switch {
	case a.Number != b.Number:
		return false, fmt.Sprintf("jenkins answered for build %d, not %s", a.Number, b.ID)
	case a.Building:
		return false, "build " + b.ID + " is still building"
	case a.Result == "":
		return false, "build " + b.ID + " has no result"
	case checkWord("the result", a.Result) != nil:
		return false, "build " + b.ID + " has a result that is not a word"
	}
	if outcome, known := outcomes[a.Result]; !known || outcome != b.Outcome {
		return false, fmt.Sprintf("build %s has result %s; the event says %s", b.ID, a.Result, b.Outcome)
	}
	return true, "build " + b.ID + " has result " + a.Result
}

// askable reports whether a job's full name can name a job in a URL: no
// empty, "." or ".." part, which a server would read as another path.
func askable(name string) bool {
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	return true
}

// buildURL returns the API URL of build number of job name ("a/b"):
// <base>/job/a/job/b/<number>/api/json, asking for the result, whether it
// is building and its number.
func (t *confirmTarget) buildURL(name string, number int) string {
	var b strings.Builder
	b.WriteString(t.base)
	for _, segment := range strings.Split(name, "/") {
		b.WriteString("/job/")
		b.WriteString(url.PathEscape(segment))
	}
	b.WriteString("/")
	b.WriteString(strconv.Itoa(number))
	b.WriteString("/api/json?tree=result,building,number")
	return b.String()
}

// redact returns a client error without the URL it names, which holds
// job names only but is long; the host is said by the caller.
func redact(err error) error {
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

var _ connectors.Confirmer = (*Connector)(nil)
