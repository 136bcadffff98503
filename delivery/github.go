package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/wire"
)

// githubTimeout bounds each call to the GitHub API.
const githubTimeout = 10 * time.Second

// GitHub reports deliveries of GitHub events as GitHub deployments and
// their statuses. Its failures are logged and recorded on the deployment
// record; they never fail a delivery.
type GitHub struct {
	client *gh.Client
	log    *slog.Logger
}

// NewGitHub returns a reporter with a token, on github.com or, with
// apiURL, a GitHub Enterprise Server (https://HOST/api/v3/).
func NewGitHub(token, apiURL string, log *slog.Logger) (*GitHub, error) {
	c := gh.NewClient(&http.Client{Timeout: githubTimeout}).WithAuthToken(token)
	if apiURL != "" {
		u, err := url.Parse(strings.TrimRight(apiURL, "/") + "/")
		if err != nil {
			return nil, fmt.Errorf("github api_url: %w", err)
		}
		c.BaseURL = u
	}
	return &GitHub{client: c, log: log}, nil
}

// create opens a GitHub deployment for a job of a GitHub event with a
// commit; it returns what to record, or nil when nothing applies.
func (g *GitHub) create(ctx context.Context, j wire.Job) map[string]any {
	if g == nil || j.Event.Connector != "github" || j.Event.Commit == "" || !strings.Contains(j.Event.Repository, "/") {
		return nil
	}
	owner, repo, _ := strings.Cut(j.Event.Repository, "/")
	ctx, cancel := context.WithTimeout(ctx, githubTimeout)
	defer cancel()
	dep, _, err := g.client.Repositories.CreateDeployment(ctx, owner, repo, &gh.DeploymentRequest{
		Ref: gh.String(j.Event.Commit), Environment: gh.String(j.Zone), AutoMerge: gh.Bool(false),
		RequiredContexts: &[]string{}, Description: gh.String(fmt.Sprintf("Reflex: %s of %s", j.Action, j.Service)),
		Task: gh.String("deploy"),
	})
	if err != nil {
		g.log.Warn("cannot create the GitHub deployment", "delivery", j.ID, "repository", j.Event.Repository, "error", err)
		return map[string]any{"repository": j.Event.Repository, "error": err.Error()}
	}
	out := map[string]any{"repository": j.Event.Repository, "deployment_id": float64(dep.GetID())}
	g.statusOf(ctx, j.Event.Repository, dep.GetID(), "queued", "queued for "+j.Zone)
	return out
}

// status posts a deployment status for a delivery record that has a
// GitHub deployment.
func (g *GitHub) status(ctx context.Context, rec *state.Object, state, description string) {
	if g == nil {
		return
	}
	info, _ := rec.Content["github"].(map[string]any)
	id, _ := info["deployment_id"].(float64)
	repo, _ := info["repository"].(string)
	if id == 0 || repo == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, githubTimeout)
	defer cancel()
	g.statusOf(ctx, repo, int64(id), state, description)
}

func (g *GitHub) statusOf(ctx context.Context, repository string, id int64, state, description string) {
	owner, repo, _ := strings.Cut(repository, "/")
	if len(description) > 140 {
		description = description[:140]
	}
	_, _, err := g.client.Repositories.CreateDeploymentStatus(ctx, owner, repo, id, &gh.DeploymentStatusRequest{
		State: gh.String(state), Description: gh.String(description),
	})
	if err != nil {
		g.log.Warn("cannot update the GitHub deployment status", "repository", repository, "deployment", id, "state", state, "error", err)
	}
}
