package jenkins

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/convert"
	"github.com/reflexops/reflex/event"
)

// notification is the plugin's document (model/JobState.java), with the
// fields the connector reads.
type notification struct {
	Name  string      `json:"name"`
	URL   string      `json:"url"`
	Build *buildState `json:"build"`
}

// buildState is the document's build (model/BuildState.java).
type buildState struct {
	FullURL   string      `json:"full_url"`
	Number    int         `json:"number"`
	Phase     string      `json:"phase"`
	Status    string      `json:"status"`
	URL       string      `json:"url"`
	SCM       *scmState   `json:"scm"`
	Timestamp jenkinsTime `json:"timestamp"`
	Duration  int64       `json:"duration"`
}

// scmState is what the build checked out (model/ScmState.java).
type scmState struct {
	URL    string `json:"url"`
	Branch string `json:"branch"`
	Commit string `json:"commit"`
}

// jenkinsTime is build.timestamp: milliseconds since the epoch, or in old
// versions of the plugin a string such as "2026-01-02T03:00:00.123+00:00".
// A string that does not read as a time, null and 0 are no time.
type jenkinsTime struct{ time.Time }

// UnmarshalJSON reads a number of milliseconds or a date string.
func (t *jenkinsTime) UnmarshalJSON(b []byte) error {
	s := string(b)
	switch {
	case s == "null":
		t.Time = time.Time{}
	case strings.HasPrefix(s, `"`):
		unquoted, err := strconv.Unquote(s)
		if err != nil {
			return fmt.Errorf("timestamp: %w", err)
		}
		t.Time, _ = time.Parse(time.RFC3339, unquoted)
	default:
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("timestamp %s is not a whole number of milliseconds", s)
		}
		t.Time = time.UnixMilli(ms)
	}
	return nil
}

// ptr returns the time in UTC, or nil when there is none.
func (t jenkinsTime) ptr() *time.Time { return convert.UTC(&t.Time) }

// The phases of the plugin (Phase.java).
const (
	phaseQueued    = "QUEUED"
	phaseStarted   = "STARTED"
	phaseCompleted = "COMPLETED"
	phaseFinalized = "FINALIZED"
)

// outcomes maps Jenkins' results (hudson.model.Result) to outcomes.
// UNSTABLE is a build that ran to its end with failed tests or checks: a
// failure to anything that waits for a good build.
var outcomes = map[string]event.Outcome{
	"SUCCESS":   event.OutcomeSuccess,
	"UNSTABLE":  event.OutcomeFailure,
	"FAILURE":   event.OutcomeFailure,
	"ABORTED":   event.OutcomeCancelled,
	"NOT_BUILT": event.OutcomeSkipped,
}

// normalize fills ev from a notification: the phase gives the kind (see
// the package doc), the job and number the build.
func normalize(n *notification, ev *event.Event) error {
	b := n.Build
	if b == nil {
		return fmt.Errorf("%w: the document has no build", connectors.ErrMalformed)
	}
	if err := checkWord("the build's phase", b.Phase); err != nil {
		return err
	}
	ev.Type = b.Phase
	name, err := jobName(n.URL, n.Name)
	if err != nil {
		return err
	}
	if b.Number <= 0 {
		return fmt.Errorf("%w: the build's number is missing", connectors.ErrMalformed)
	}
	finished := b.Phase == phaseCompleted || b.Phase == phaseFinalized
	var outcome event.Outcome
	if finished && b.Status != "" {
		if err := checkWord("the build's status", b.Status); err != nil {
			return err
		}
		ev.Action = strings.ToLower(b.Status)
		outcome = outcomes[b.Status]
	}
	ev.URL = pageURL(b.FullURL)
	ev.Build = &event.Build{
		ID:        name + "#" + strconv.Itoa(b.Number),
		Name:      name,
		Number:    b.Number,
		URL:       ev.URL,
		UpdatedAt: b.Timestamp.ptr(),
	}
	switch {
	case b.Phase == phaseQueued:
		ev.Kind, ev.Build.Status = event.KindBuildQueued, event.BuildQueued
	case b.Phase == phaseStarted:
		ev.Kind, ev.Build.Status = event.KindBuildStarted, event.BuildRunning
		ev.Build.StartedAt = ev.Build.UpdatedAt
	case finished:
		ev.Build.Status, ev.Build.Outcome = event.BuildFinished, outcome
		ev.Kind = convert.Pick(b.Phase == phaseFinalized && outcome != "", event.KindBuildFinished, event.KindOther)
		if b.Phase == phaseCompleted && b.Duration > 0 && !b.Timestamp.IsZero() {
			start := b.Timestamp.Add(-time.Duration(b.Duration) * time.Millisecond)
			ev.Build.StartedAt = convert.UTC(&start)
		}
	default:
		ev.Kind = event.KindUnnormalized
	}
	if b.SCM != nil {
		ev.Repository = repositoryOf(b.SCM.URL)
		if convert.IsSHA(b.SCM.Commit) {
			ev.Commit = b.SCM.Commit
		}
		ev.Branch = branchOf(b.SCM.Branch)
	}
	return nil
}

// maxWord bounds a phase or a status.
const maxWord = 32

// checkWord accepts a phase or a status: upper-case words joined by '_'.
func checkWord(what, word string) error {
	return connectors.CheckValue(what, word, maxWord, func(i int, r rune) bool {
		return r >= 'A' && r <= 'Z' || i > 0 && r == '_'
	}, "upper-case letters and '_'")
}

// maxJobName bounds a job's full name.
const maxJobName = 512

// jobName returns the job's full name: the names of the job url's
// "job/<name>/" segments joined by '/' ("folder/job"), or the document's
// name when the url has not that shape or ends in another name.
func jobName(jobURL, name string) (string, error) {
	full := name
	if segments, ok := jobPath(jobURL); ok && (name == "" || segments[len(segments)-1] == name) {
		full = strings.Join(segments, "/")
	}
	err := connectors.CheckValue("the job's name", full, maxJobName, func(_ int, r rune) bool {
		return r >= ' ' && r != 0x7f && r != '#' && r != '\\'
	}, "printable characters but '#' and '\\'")
	return full, err
}

// jobPath returns the job names of a job URL relative to Jenkins' root,
// "job/a/job/b/", unescaped; false when it has not that shape.
func jobPath(jobURL string) ([]string, bool) {
	p := strings.Trim(jobURL, "/")
	parts := strings.Split(p, "/")
	if p == "" || len(parts)%2 != 0 {
		return nil, false
	}
	segments := make([]string, 0, len(parts)/2)
	for i := 0; i < len(parts); i += 2 {
		name, err := url.PathUnescape(parts[i+1])
		if parts[i] != "job" || err != nil || name == "" || strings.Contains(name, "/") {
			return nil, false
		}
		segments = append(segments, name)
	}
	return segments, true
}

// pageURL returns an absolute http(s) URL, or "".
func pageURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http" || u.User != nil {
		return ""
	}
	return raw
}

// repositoryOf reads a Git remote URL: https://host/owner/name.git,
// ssh://git@host:7999/owner/name.git or git@host:owner/name.git. The
// name is the path without ".git" (and without Bitbucket Server's "scm/");
// an http(s) URL, its user information dropped, is also the web page.
// nil for anything else (a local path, a file: URL).
func repositoryOf(remote string) *event.Repository {
	host, path, web, ok := splitRemote(remote)
	if !ok {
		return nil
	}
	name := strings.TrimSuffix(strings.Trim(path, "/"), ".git")
	scm := false
	if after, found := strings.CutPrefix(name, "scm/"); found && strings.Contains(after, "/") {
		name, scm = after, true
	}
	if host == "" || name == "" || strings.ContainsAny(name, " \t\r\n?#\\") {
		return nil
	}
	r := &event.Repository{Name: name}
	if web && !scm {
		r.URL = "https://" + host + "/" + name
		if strings.HasPrefix(remote, "http://") {
			r.URL = "http://" + host + "/" + name
		}
	}
	return r
}

// splitRemote returns the host and path of a Git remote URL, and whether
// it is an http(s) one; ok false for what is not a remote.
func splitRemote(remote string) (host, path string, web, ok bool) {
	if strings.Contains(remote, "://") {
		u, err := url.Parse(remote)
		if err != nil || u.Host == "" {
			return "", "", false, false
		}
		switch u.Scheme {
		case "https", "http":
			web = true
		case "ssh", "git", "git+ssh", "ssh+git":
		default:
			return "", "", false, false
		}
		return u.Host, u.Path, web, true
	}
	// scp-like: [user@]host:path; a ':' after a '/' is in a local path.
	colon := strings.IndexByte(remote, ':')
	if colon <= 0 || strings.Contains(remote[:colon], "/") {
		return "", "", false, false
	}
	host = remote[:colon]
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		host = host[at+1:]
	}
	return host, remote[colon+1:], false, true
}

// branchOf returns a branch name as the Git plugin reports it
// (GIT_BRANCH, "origin/main"), without the remote's "origin/" or a
// "refs/heads/" or "refs/remotes/origin/" prefix.
func branchOf(branch string) string {
	for _, prefix := range []string{"refs/remotes/origin/", "refs/heads/", "origin/"} {
		if after, ok := strings.CutPrefix(branch, prefix); ok {
			return after
		}
	}
	return branch
}
