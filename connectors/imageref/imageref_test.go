package imageref_test

import (
	"strings"
	"testing"

	"github.com/reflexops/reflex/connectors/imageref"
)

func TestValid(t *testing.T) {
	sha256 := "sha256:" + strings.Repeat("a1", 32)
	tests := []struct {
		name  string
		check func(string) bool
		ok    []string
		bad   []string
	}{
		{"component", imageref.ValidComponent,
			[]string{"api", "hello-world", "a.b_c-d", "x1"},
			[]string{"", "API", "-api", "api-", "a/b", "a b", strings.Repeat("a", imageref.MaxComponent+1)}},
		{"tag", imageref.ValidTag,
			[]string{"v1.4.2", "latest", "1.0.0-rc.1", "_x", "A"},
			[]string{"", ".v1", "-v1", "v1+build", "a/b", strings.Repeat("a", imageref.MaxTag+1)}},
		{"digest", imageref.ValidDigest,
			[]string{sha256, "sha512:" + strings.Repeat("0f", 64)},
			[]string{"", "sha256:" + strings.Repeat("A1", 32), "sha256:abc", "md5:" + strings.Repeat("a", 32), sha256 + "0"}},
		{"host", imageref.ValidHost,
			[]string{"docker.io", "registry.example.com:5000", "localhost", "10.0.0.1:443"},
			[]string{"", "-a.example", "a..example", "a.example:", "a.example:123456", "a_b.example", "a.example/x"}},
	}
	for _, tt := range tests {
		for _, s := range tt.ok {
			if !tt.check(s) {
				t.Errorf("%s %q refused", tt.name, s)
			}
		}
		for _, s := range tt.bad {
			if tt.check(s) {
				t.Errorf("%s %q accepted", tt.name, s)
			}
		}
	}
}
