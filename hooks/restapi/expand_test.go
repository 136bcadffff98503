package restapi

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/reflexops/reflex/hooks"
)

func TestExpandNames(t *testing.T) {
	t.Parallel()
	all := []string{"acme/api", "acme/web", "acme/web-2"}
	glob := func(_ context.Context, pattern string) ([]string, error) {
		if strings.HasPrefix(pattern, "gone/") {
			return nil, errors.New("no such owner")
		}
		var out []string
		for _, n := range all {
			if ok, _ := path.Match(pattern, n); ok {
				out = append(out, n)
			}
		}
		return out, nil
	}
	check := func(name string) error {
		if !strings.Contains(name, "/") {
			return fmt.Errorf("%q is not owner/name", name)
		}
		return nil
	}
	for _, tc := range []struct {
		name      string
		names     []string
		want      []string
		wantErr   string
		wantLines []string
	}{
		{"names as they are", []string{"acme/x", "other/y"}, []string{"acme/x", "other/y"}, "", nil},
		{"a glob", []string{"acme/web*", "acme/x"}, []string{"acme/web", "acme/web-2", "acme/x"}, "", nil},
		{"a glob matching none", []string{"acme/none*"}, nil, "", []string{`forge: repositories "acme/none*": none matches`}},
		{"a name refused", []string{"acme/x", "bare"}, nil, `forge: "bare" is not owner/name`, nil},
		{"a glob failing", []string{"gone/*"}, nil, `forge: repositories "gone/*": no such owner`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var lines []string
			ctx := hooks.WithProgress(t.Context(), func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) })
			got, err := ExpandNames(ctx, "forge", "repositories", tc.names, check, glob)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) || !slices.Equal(lines, tc.wantLines) {
				t.Errorf("ExpandNames = %q, lines %q; want %q, %q", got, lines, tc.want, tc.wantLines)
			}
		})
	}
}

func TestTargets(t *testing.T) {
	t.Parallel()
	got := Targets("forge", hooks.KindRepository, []string{"b/x", "a/y", "b/x"})
	want := []hooks.Target{{Provider: "forge", Kind: hooks.KindRepository, Name: "a/y"}, {Provider: "forge", Kind: hooks.KindRepository, Name: "b/x"}}
	if !slices.Equal(got, want) {
		t.Errorf("Targets = %v, want %v", got, want)
	}
	if got := Targets("forge", hooks.KindProject, nil); got == nil || len(got) != 0 {
		t.Errorf("Targets of none = %#v, want empty and not nil", got)
	}
}
