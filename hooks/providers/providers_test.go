package providers_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/hooks/providers"
)

func TestNew(t *testing.T) {
	t.Setenv("REFLEX_TEST_HOOKS_TOKEN", "t0ken")
	ps, err := providers.New(&config.HooksSpec{
		PublicURL: "https://reflex.example.com",
		GitHub:    &config.GitHubHooksSpec{Token: "env:REFLEX_TEST_HOOKS_TOKEN"},
		GitLab:    &config.TokenAPISpec{URL: "https://gitlab.example.com", Token: "env:REFLEX_TEST_HOOKS_TOKEN"},
		Gitea:     &config.TokenAPISpec{URL: "https://codeberg.org", Token: "env:REFLEX_TEST_HOOKS_TOKEN"},
		Bitbucket: &config.BitbucketHooksSpec{Username: "ci@acme.example", Token: "env:REFLEX_TEST_HOOKS_TOKEN"},
		Harbor:    &config.HarborHooksSpec{URL: "https://harbor.example.com", Username: "robot$reflex", Password: "env:REFLEX_TEST_HOOKS_TOKEN"},
		Quay:      &config.TokenAPISpec{Token: "env:REFLEX_TEST_HOOKS_TOKEN"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name, p := range ps {
		if p.Name() != name {
			t.Errorf("provider %q names itself %q", name, p.Name())
		}
		names = append(names, name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"bitbucket", "gitea", "github", "gitlab", "harbor", "quay"}) {
		t.Errorf("providers %v", names)
	}
	for _, tc := range []struct {
		spec config.HooksSpec
		says string
	}{
		{config.HooksSpec{GitHub: &config.GitHubHooksSpec{Token: "env:REFLEX_TEST_UNSET"}}, "hooks.github.token"},
		{config.HooksSpec{GitLab: &config.TokenAPISpec{Token: "env:REFLEX_TEST_UNSET"}}, "hooks.gitlab.token"},
		{config.HooksSpec{Gitea: &config.TokenAPISpec{URL: "http://gitea.example.com", Token: "env:REFLEX_TEST_HOOKS_TOKEN"}}, "hooks.gitea"},
		{config.HooksSpec{GitHub: &config.GitHubHooksSpec{App: &config.GitHubAppSpec{ID: 1, PrivateKey: "not a key"}}}, "hooks.github"},
	} {
		if _, err := providers.New(&tc.spec); err == nil || !strings.Contains(err.Error(), tc.says) || strings.Contains(err.Error(), "t0ken") {
			t.Errorf("%+v: err = %v, want one naming %s", tc.spec, err, tc.says)
		}
	}
}
