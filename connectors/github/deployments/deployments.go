// Package deployments reports Reflex's deliveries of GitHub events to
// GitHub, as deployments and their statuses.
package deployments

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/reflexops/reflex/delivery"
	"github.com/reflexops/reflex/wire"
)

// timeout bounds each call to the GitHub API.
const timeout = 10 * time.Second

// Reporter reports deliveries of GitHub events as GitHub deployments and
// their statuses. Its failures are logged and recorded on the deployment
// record; they never fail a delivery.
type Reporter struct {
	client *gh.Client
	log    *slog.Logger
}

var _ delivery.StatusReporter = (*Reporter)(nil)

// New returns a reporter with a token, on github.com or, with apiURL, a
// GitHub Enterprise Server (https://HOST/api/v3/).
func New(token, apiURL string, log *slog.Logger) (*Reporter, error) {
	c := gh.NewClient(&http.Client{Timeout: timeout}).WithAuthToken(token)
	if apiURL != "" {
		u, err := url.Parse(strings.TrimRight(apiURL, "/") + "/")
		if err != nil {
			return nil, fmt.Errorf("github api_url: %w", err)
		}
		c.BaseURL = u
	}
	return &Reporter{client: c, log: log}, nil
}

// states are GitHub's deployment states, by phase.
var states = map[delivery.Phase]string{
	delivery.PhaseQueued:    "queued",
	delivery.PhaseRunning:   "in_progress",
	delivery.PhaseSucceeded: "success",
	delivery.PhaseFailed:    "failure",
	delivery.PhaseError:     "error",
}

// Open creates a GitHub deployment for a job of an event with a commit of
// an owner/repo repository, marked queued; it returns what to record, or
// nil when nothing applies.
func (g *Reporter) Open(ctx context.Context, j wire.Job) map[string]any {
	if j.Event.Commit == "" || !strings.Contains(j.Event.Repository, "/") {
		return nil
	}
	owner, repo, _ := strings.Cut(j.Event.Repository, "/")
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dep, _, err := g.client.Repositories.CreateDeployment(ctx, owner, repo, &gh.DeploymentRequest{
		Ref: gh.String(j.Event.Commit), Environment: gh.String(j.Zone), AutoMerge: gh.Bool(false),
		RequiredContexts: &[]string{}, Description: gh.String(fmt.Sprintf("Reflex: %s of %s", j.Action, j.Service)),
		Task: gh.String("deploy"),
	})
	if err != nil {
		g.log.Warn("cannot create the GitHub deployment", "delivery", j.ID, "request_id", j.Event.RequestID, "repository", j.Event.Repository, "error", err)
		return map[string]any{"repository": j.Event.Repository, "error": err.Error()}
	}
	g.post(ctx, j.Event.Repository, dep.GetID(), delivery.PhaseQueued, "queued for "+j.Zone)
	return map[string]any{"repository": j.Event.Repository, "deployment_id": float64(dep.GetID())}
}

// Report posts a deployment status on the deployment Open created.
func (g *Reporter) Report(ctx context.Context, ref map[string]any, phase delivery.Phase, description string) {
	id, _ := ref["deployment_id"].(float64)
	repo, _ := ref["repository"].(string)
	if id == 0 || repo == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	g.post(ctx, repo, int64(id), phase, description)
}

func (g *Reporter) post(ctx context.Context, repository string, id int64, phase delivery.Phase, description string) {
	owner, repo, _ := strings.Cut(repository, "/")
	if len(description) > 140 {
		description = description[:140]
	}
	_, _, err := g.client.Repositories.CreateDeploymentStatus(ctx, owner, repo, id, &gh.DeploymentStatusRequest{
		State: gh.String(states[phase]), Description: gh.String(description),
	})
	if err != nil {
		g.log.Warn("cannot update the GitHub deployment status", "request_id", delivery.RequestID(ctx), "repository", repository, "deployment", id, "state", states[phase], "error", err)
	}
}
