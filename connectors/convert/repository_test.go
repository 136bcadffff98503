package convert_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/connectors/convert"
	"github.com/reflexops/reflex/event"
)

func TestRepositoryOf(t *testing.T) {
	tests := []struct {
		in   string
		want *event.Repository
	}{
		{"https://github.com/acme/widget", &event.Repository{Name: "acme/widget", URL: "https://github.com/acme/widget"}},
		{"https://github.com/acme/widget.git", &event.Repository{Name: "acme/widget", URL: "https://github.com/acme/widget"}},
		{"http://git.internal:8080/acme/widget/", &event.Repository{Name: "acme/widget", URL: "http://git.internal:8080/acme/widget"}},
		{"git@github.com:acme/widget.git", &event.Repository{Name: "acme/widget", URL: "https://github.com/acme/widget"}},
		{"ssh://git@gitlab.com:22/group/sub/widget.git", &event.Repository{Name: "group/sub/widget", URL: "https://gitlab.com/group/sub/widget"}},
		{"https://gitlab.com/group/sub/widget", &event.Repository{Name: "group/sub/widget", URL: "https://gitlab.com/group/sub/widget"}},
		{"https://github.com/widget", nil},
		{"https://github.com/acme/../widget", nil},
		{"https://github.com/acme/widget?x=1", nil},
		{"file:///srv/git/acme/widget", nil},
		{"/srv/git/acme/widget", nil},
		{"git@host with space:acme/widget", nil},
		{"https://github.com/acme/wid get", nil},
		{"https://github.com/" + strings.Repeat("a/", 300), nil},
		{"", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, convert.RepositoryOf(tt.in)); diff != "" {
			t.Errorf("RepositoryOf(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}
