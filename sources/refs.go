package sources

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/reflexops/reflex/config"
)

// Defaults of SecretRefs.
const (
	DefaultSecretEnvPrefix = "REFLEX_SECRET_"
	DefaultSecretDir       = "/run/secrets/reflex"
)

// SecretRefs limits the env: and file: secret references a source written
// through the API (or by another server's configuration) may use on this
// server. Without a limit, whoever may write a source could point it at
// any variable or file of the server (its admin key, say) and use the
// intake to test guesses. The references the server's own configuration
// file declares for a source are the operator's and are not limited.
type SecretRefs struct {
	// EnvPrefix is the start every variable name must have. Default
	// DefaultSecretEnvPrefix.
	EnvPrefix string
	// Dir is the folder every file must be in. Default DefaultSecretDir.
	Dir string
}

// refPolicy is SecretRefs with its defaults applied and the server's own
// secrets denied even where the prefix or folder would admit them.
type refPolicy struct {
	envPrefix, dir string
	deniedEnv      []string
	deniedFiles    []string
}

// ownEnv are variables that hold Reflex's own credentials.
var ownEnv = []string{"REFLEX_ADMIN_KEY", "REFLEX_APIKEY", "REDIS_URL"}

func newRefPolicy(r SecretRefs, local *config.Config) refPolicy {
	p := refPolicy{envPrefix: r.EnvPrefix, dir: r.Dir, deniedEnv: slices.Clone(ownEnv)}
	if p.envPrefix == "" {
		p.envPrefix = DefaultSecretEnvPrefix
	}
	if p.dir == "" {
		p.dir = DefaultSecretDir
	}
	if local != nil {
		// The server's own keys, and the secrets its file declares for
		// its sources (which other sources may not borrow).
		own := local.OwnSecretRefs()
		for _, src := range local.Sources {
			own = append(own, src.Secrets...)
		}
		for _, ref := range own {
			if name, ok := strings.CutPrefix(ref, "env:"); ok {
				p.deniedEnv = append(p.deniedEnv, name)
			} else if path, ok := strings.CutPrefix(ref, "file:"); ok {
				p.deniedFiles = append(p.deniedFiles, realPath(path))
			}
		}
	}
	return p
}

// resolve returns the value of a reference within the allowed ones, and
// false for any other. A file is read where its links lead, after that
// place was checked, so a link changed in between cannot lead elsewhere.
func (p refPolicy) resolve(ref string) ([]byte, bool) {
	if name, ok := strings.CutPrefix(ref, "env:"); ok {
		if !strings.HasPrefix(name, p.envPrefix) || len(name) == len(p.envPrefix) || slices.Contains(p.deniedEnv, name) {
			return nil, false
		}
		v, err := config.ResolveSecret(ref)
		return v, err == nil
	}
	path, ok := strings.CutPrefix(ref, "file:")
	if !ok || !filepath.IsAbs(path) {
		return nil, false
	}
	real, dir := realPath(path), realPath(p.dir)
	rel, err := filepath.Rel(dir, real)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") || filepath.IsAbs(rel) || slices.Contains(p.deniedFiles, real) {
		return nil, false
	}
	v, err := config.ResolveSecret("file:" + real)
	return v, err == nil
}

// realPath returns a path with its links resolved, or cleaned when it
// cannot be resolved (it does not exist).
func realPath(path string) string {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return real
	}
	return filepath.Clean(path)
}

// unresolvable is the one error of a reference that cannot be used, for
// whatever reason: outside the allowed references, unset, missing or
// empty.
func unresolvable(ref string, p refPolicy) error {
	return fmt.Errorf("secret reference %s cannot be resolved on this server: it must be declared by this server's configuration, or be env:%s… or file:%s/…, and name a value that is set and not empty", ref, p.envPrefix, p.dir)
}
