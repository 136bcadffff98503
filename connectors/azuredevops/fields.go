package azuredevops

import (
	"strconv"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors/convert"

	"github.com/reflexops/reflex/event"
)

// repositoryOf names an Azure Repos repository "project/repository", the
// full path its web URL shows, with its web page and default branch.
func repositoryOf(r *repository) *event.Repository {
	if r == nil || r.Name == "" {
		return nil
	}
	name := r.Name
	if r.Project.Name != "" {
		name = r.Project.Name + "/" + r.Name
	}
	return &event.Repository{
		Name:          name,
		URL:           webURL(r),
		DefaultBranch: strings.TrimPrefix(r.DefaultBranch, "refs/heads/"),
	}
}

// webURL returns a repository's web page: webUrl when sent, else the clone
// URL, which is the same page without the user name Azure DevOps may put
// in it ("https://org@dev.azure.com/…").
func webURL(r *repository) string {
	if r == nil {
		return ""
	}
	if r.WebURL != "" {
		return r.WebURL
	}
	return stripUserinfo(r.RemoteURL)
}

// stripUserinfo removes "user@" from an http(s) URL.
func stripUserinfo(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	host, _, _ := strings.Cut(rest, "/")
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		return scheme + "://" + rest[i+1:]
	}
	return u
}

// setBuildRef sets the branch or tag a build ran for, as every
// connector's build events do: Branch for refs/heads/<name>, Tag for
// refs/tags/<name>, and no Ref. Any other ref (a pull request's merge ref,
// refs/pull/42/merge) sets neither; the payload keeps it.
func setBuildRef(ev *event.Event, ref string) {
	if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
		ev.Branch = b
	} else if t, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
		ev.Tag = t
	}
}

// setRunSource sets what a pipeline run built: its own repository
// ("self"), branch or tag (see setBuildRef) and commit. A GitHub repository is named by its fullName;
// an Azure Repos one, which has none, by the clone URL the resource lists
// for "self".
func setRunSource(ev *event.Event, r *resource) {
	self := r.Run.Resources.Repositories.Self
	if self == nil {
		return
	}
	setBuildRef(ev, self.RefName)
	if convert.IsSHA(self.Version) {
		ev.Commit = self.Version
	}
	if self.Repository.FullName != "" {
		ev.Repository = &event.Repository{Name: self.Repository.FullName}
		return
	}
	for _, repo := range r.Repositories {
		if repo.Alias == "self" {
			ev.Repository = repositoryFromURL(repo.URL)
			return
		}
	}
}

// repositoryFromURL names an Azure Repos repository by its clone URL as
// repositoryOf does, "project/repository":
// "https://[org@]dev.azure.com/org/project/_git/repository", or
// ".../org/_git/repository" for the repository named after its project;
// on other hosts (visualstudio.com, Azure DevOps Server) the segment
// before "_git" is the project.
func repositoryFromURL(u string) *event.Repository {
	u = stripUserinfo(u)
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return nil
	}
	head, repo, ok := strings.Cut(rest, "/_git/")
	if !ok || repo == "" || strings.Contains(repo, "/") {
		return nil
	}
	segments := strings.Split(head, "/")
	if len(segments) < 2 {
		return nil
	}
	project := segments[len(segments)-1]
	if segments[0] == "dev.azure.com" && len(segments) == 2 {
		project = repo
	}
	return &event.Repository{Name: project + "/" + repo, URL: u}
}

// runStatus maps the states of pipeline runs and stages.
func runStatus(state string) event.BuildStatus {
	switch state {
	case "notStarted", "waiting", "postponed":
		return event.BuildQueued
	case "inProgress", "running", "canceling":
		return event.BuildRunning
	case "completed":
		return event.BuildFinished
	}
	return ""
}

// progressKind maps the state of a run or stage to its kind; canceling,
// and any state Azure DevOps may add, is KindOther.
func progressKind(state string, queued, started, finished event.Kind) event.Kind {
	switch state {
	case "notStarted", "waiting", "postponed":
		return queued
	case "inProgress", "running":
		return started
	case "completed":
		return finished
	}
	return event.KindOther
}

// outcome maps the results of builds, runs and stages. partiallySucceeded
// (some steps failed but were allowed to) is neutral: neither a success to
// deploy nor a plain failure.
func outcome(result string) event.Outcome {
	switch result {
	case "succeeded":
		return event.OutcomeSuccess
	case "failed", "rejected":
		return event.OutcomeFailure
	case "canceled", "stopped":
		return event.OutcomeCancelled
	case "skipped":
		return event.OutcomeSkipped
	case "partiallySucceeded":
		return event.OutcomeNeutral
	}
	return ""
}

// deploymentState spells the states Azure DevOps shares with GitHub's
// deployment statuses the way GitHub does ("success", "failure",
// "in_progress", "queued", "pending"), so a policy on deployment.state
// reads the same for both; the others (canceled, rejected,
// partiallySucceeded, …) are kept as Azure DevOps sends them.
func deploymentState(s string) string {
	switch s {
	case "succeeded":
		return "success"
	case "failed":
		return "failure"
	case "inProgress":
		return "in_progress"
	case "notStarted", "scheduled":
		return "pending"
	}
	return s
}

// number returns a build or run number that is a whole number, and 0 for
// the others: Azure DevOps' default format is a date and a counter
// ("20241202.1"), which stays in the payload.
func number(s string) int {
	if s == "" || len(s) > 9 {
		return 0
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0
		}
	}
	n, _ := strconv.Atoi(s)
	return n
}

// timeOf reads an Azure DevOps timestamp as UTC: RFC 3339, or without a
// zone (then UTC). It returns nil for an absent, unreadable or zero
// ("0001-01-01T00:00:00") time.
func timeOf(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		if t, err = time.Parse("2006-01-02T15:04:05.999999999", s); err != nil {
			return nil
		}
	}
	if t.Year() <= 1 {
		return nil
	}
	t = t.UTC()
	return &t
}
