// Package agent runs deliveries inside the secured network: it long-polls
// Reflex's agent API for its zone's signed jobs (outbound HTTPS only,
// through the network's proxy, listening on nothing), checks them, and
// runs only the actions its own local actions file defines.
package agent

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ActionsFile is the agent's local actions file, in the original Reflex
// actions format (JSON, or the same in YAML).
type ActionsFile struct {
	// Config holds local values, for ${NAME} substitution.
	Config map[string]string `yaml:"config"`
	// Setenv declares environment variables for every action.
	Setenv map[string]string `yaml:"setenv"`
	// Actions are the actions by name.
	Actions map[string]*Action `yaml:"actions"`

	// dir is the file's folder: scripts are found there.
	dir string
}

// Action is one action of the actions file.
type Action struct {
	// Type is system, script, http or group.
	Type  string `yaml:"type"`
	Title string `yaml:"title"`
	// Exec is the argv of a system action, run without a shell; Cmd is
	// the original format's older name for it.
	Exec []string `yaml:"exec"`
	Cmd  []string `yaml:"cmd"`
	// Target is a script action's file, in the actions file's folder
	// (default: the action's name); Args follow it.
	Target string   `yaml:"target"`
	Args   []string `yaml:"args"`
	// URL, Method, Headers, Body and Expect describe an http action; URL
	// and Expect also a forward action.
	URL     string            `yaml:"url"`
	Method  string            `yaml:"method"`
	Headers map[string]string `yaml:"headers"`
	Body    string            `yaml:"body"`
	Expect  []int             `yaml:"expect"`
	// Sign is how a forward action signs what it hands on: github (as
	// GitHub does), gitlab (X-Gitlab-Token, as GitLab does) or hmac
	// (X-Reflex-Signature-256); Secret is the local secret it signs with,
	// from config or the agent's environment.
	Sign   string `yaml:"sign"`
	Secret string `yaml:"secret"`
	// Actions are a group action's actions, run in order.
	Actions []string `yaml:"actions"`
	// OnSuccess names the action to run after this one succeeds.
	OnSuccess string `yaml:"onSuccess"`
	// Setenv declares environment variables for this action.
	Setenv map[string]string `yaml:"setenv"`
	// Timeout bounds the action, e.g. "5m". Default 10m.
	Timeout string `yaml:"timeout"`
	// Params are the job parameters the action accepts, by name: a job
	// with any other parameter is refused. The actions it runs through
	// groups and onSuccess see the same parameters.
	Params map[string]*Param `yaml:"params"`

	timeout time.Duration
}

// Param declares a job parameter an action accepts. Parameters come from
// webhooks: a value reaches a command as one whole argument, an http
// action escaped for where it goes, and the environment only under the
// name declared here.
type Param struct {
	// Pattern, when set, is a regular expression the whole value must
	// match, e.g. "[0-9]+[.][0-9]+[.][0-9]+".
	Pattern string `yaml:"pattern"`
	// Env, when set, exports the value to the action's environment under
	// this name.
	Env string `yaml:"env"`
	// AllowDash lets a value start with "-"; otherwise such a value, which
	// a command could take for an option, is refused.
	AllowDash bool `yaml:"allowDash"`

	re *regexp.Regexp
}

// ErrParams is wrapped when a job's parameters are not what its action
// declares: the job is refused, and another attempt changes nothing.
var ErrParams = errors.New("job parameters refused")

// CheckParams checks a job's parameters against what its action declares:
// each must be declared, match its pattern, and not start with "-" unless
// allowed. Errors wrap ErrParams and name the parameter, never its value.
func (f *ActionsFile) CheckParams(action string, params map[string]string) error {
	a := f.Actions[action]
	if a == nil {
		return fmt.Errorf("%w: no action %q", ErrParams, action)
	}
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p, v := a.Params[name], params[name]
		switch {
		case p == nil:
			return fmt.Errorf("%w: action %s declares no parameter %q", ErrParams, action, name)
		case p.re != nil && !p.re.MatchString(v):
			return fmt.Errorf("%w: parameter %s does not match the pattern %s", ErrParams, name, p.Pattern)
		case strings.HasPrefix(v, "-") && !p.AllowDash:
			return fmt.Errorf("%w: parameter %s starts with \"-\", which a command could take for an option (allowDash permits it)", ErrParams, name)
		}
	}
	return nil
}

// DefaultTimeout bounds an action without a timeout of its own.
const DefaultTimeout = 10 * time.Minute

// maxChain bounds how many actions one job may run through groups and
// onSuccess links.
const maxChain = 32

var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// LoadActions reads and checks an actions file: every action's type and
// fields, that scripts exist, and that groups and onSuccess name actions
// that exist, without loops.
func LoadActions(path string) (*ActionsFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read actions file: %w", err)
	}
	var f ActionsFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("actions file %s: %v", path, strings.ReplaceAll(err.Error(), "\n", ";"))
	}
	if f.dir, err = filepath.Abs(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("actions file %s: %w", path, err)
	}
	if err := f.check(); err != nil {
		return nil, fmt.Errorf("actions file %s: %w", path, err)
	}
	return &f, nil
}

func (f *ActionsFile) check() error {
	if len(f.Actions) == 0 {
		return errors.New("no actions: an agent runs only the actions its file defines")
	}
	for k := range f.Config {
		if !varName.MatchString(k) {
			return fmt.Errorf("config: %q is not a usable name", k)
		}
	}
	names := make([]string, 0, len(f.Actions))
	for n := range f.Actions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		a := f.Actions[name]
		if err := f.checkAction(name, a); err != nil {
			return fmt.Errorf("action %s: %w", name, err)
		}
	}
	for _, name := range names {
		if err := f.checkLoops(name, nil); err != nil {
			return err
		}
	}
	return nil
}

func (f *ActionsFile) checkAction(name string, a *Action) error {
	if a == nil {
		return errors.New("empty")
	}
	a.timeout = DefaultTimeout
	if a.Timeout != "" {
		d, err := time.ParseDuration(a.Timeout)
		if err != nil || d <= 0 {
			return fmt.Errorf("timeout %q: want a duration such as 5m", a.Timeout)
		}
		a.timeout = d
	}
	for pname, p := range a.Params {
		if p == nil {
			p = &Param{}
			a.Params[pname] = p
		}
		if err := checkParam(pname, p); err != nil {
			return err
		}
	}
	if a.OnSuccess != "" && f.Actions[a.OnSuccess] == nil {
		return fmt.Errorf("onSuccess names %q, which is not an action", a.OnSuccess)
	}
	switch a.Type {
	case "system":
		if len(a.Exec) == 0 {
			a.Exec = a.Cmd
		}
		if len(a.Exec) == 0 {
			return errors.New("a system action needs exec: the command and its arguments")
		}
	case "script":
		if a.Target == "" {
			a.Target = name
		}
		if !filepath.IsLocal(a.Target) {
			return fmt.Errorf("target %q: a script lives in the actions file's folder", a.Target)
		}
		st, err := os.Stat(filepath.Join(f.dir, a.Target))
		switch {
		case err != nil:
			return fmt.Errorf("target: %w", err)
		case !st.Mode().IsRegular():
			return fmt.Errorf("target %s is not a file", a.Target)
		case st.Mode()&0o111 == 0:
			return fmt.Errorf("target %s is not executable", a.Target)
		}
	case "http":
		if a.URL == "" {
			return errors.New("an http action needs a url")
		}
		if a.Method == "" {
			a.Method = "GET"
		}
	case "forward":
		if a.URL == "" {
			return errors.New("a forward action needs a url")
		}
		if _, ok := forwardSigners[a.Sign]; !ok {
			return fmt.Errorf("sign %q: want github, gitlab or hmac", a.Sign)
		}
		if a.Secret == "" {
			return errors.New("a forward action needs a secret to sign with, e.g. ${receiver-secret}")
		}
	case "group":
		if len(a.Actions) == 0 {
			return errors.New("a group action needs actions")
		}
		for _, n := range a.Actions {
			if f.Actions[n] == nil {
				return fmt.Errorf("actions names %q, which is not an action", n)
			}
		}
	default:
		return fmt.Errorf("type %q: want system, script, http, forward or group", a.Type)
	}
	return nil
}

// checkParam checks one parameter declaration and compiles its pattern.
func checkParam(name string, p *Param) error {
	if !varName.MatchString(name) {
		return fmt.Errorf("params: %q is not a usable name", name)
	}
	if p.Pattern != "" {
		re, err := regexp.Compile(`^(?:` + p.Pattern + `)$`)
		if err != nil {
			return fmt.Errorf("params %s: pattern: %w", name, err)
		}
		p.re = re
	}
	if p.Env != "" && (!envName.MatchString(p.Env) || unsafeEnv.MatchString(p.Env)) {
		return fmt.Errorf("params %s: env %q: not a variable a job parameter may set", name, p.Env)
	}
	return nil
}

// envName is what an environment variable may be called.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkLoops refuses groups and onSuccess links that lead back to an
// action already on the way.
func (f *ActionsFile) checkLoops(name string, path []string) error {
	if slices.Contains(path, name) {
		return fmt.Errorf("actions loop: %s", strings.Join(append(path, name), " → "))
	}
	path = append(path, name)
	a := f.Actions[name]
	next := slices.Clone(a.Actions)
	if a.OnSuccess != "" {
		next = append(next, a.OnSuccess)
	}
	for _, n := range next {
		if err := f.checkLoops(n, path); err != nil {
			return err
		}
	}
	return nil
}

// Has reports whether the file defines an action.
func (f *ActionsFile) Has(name string) bool { return f.Actions[name] != nil }
