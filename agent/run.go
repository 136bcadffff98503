package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/reflexops/reflex/wire"
)

// DefaultOutputLimit bounds the output kept of one job.
const DefaultOutputLimit = 64 << 10

// Result is how a job's actions went.
type Result struct {
	OK       bool
	ExitCode int
	Output   string
	// Err says why it failed.
	Err error
	// Permanent marks a failure that another attempt cannot fix (an
	// undefined variable, say).
	Permanent bool
}

// Vars are the values ${NAME} is replaced with: the actions file's config
// first, then the agent's environment, then the job's parameters. Local
// values always win, so a parameter (which comes from a webhook) can never
// stand in for one.
type Vars struct {
	Params map[string]string
	Config map[string]string
	// Declared are the parameters the job's action declares.
	Declared map[string]*Param
}

// lookup returns the value of name, and whether it is a job parameter.
func (v Vars) lookup(name string) (value string, param, ok bool) {
	if s, ok := v.Config[name]; ok {
		return s, false, true
	}
	if s, ok := os.LookupEnv(name); ok {
		return s, false, true
	}
	s, ok := v.Params[name]
	return s, ok, ok
}

// unsafeEnv are variables a job parameter may not be exported as, even
// when an action declares it: they change how programs load code, find
// commands or reach the network.
var unsafeEnv = regexp.MustCompile(`^(?i:PATH|HOME|SHELL|IFS|ENV|BASH_ENV|BASHOPTS|SHELLOPTS|CDPATH|PS4|TMPDIR|LD_.*|DYLD_.*|GCONV_PATH|HOSTALIASES|LOCALDOMAIN|RES_OPTIONS|PYTHON.*|PERL5.*|RUBY.*|NODE_.*|JAVA_.*|_JAVA_OPTIONS|JDK_.*|GIT_.*|GO.*|CGO_.*|OPENSSL_.*|SSL_.*|CURL_.*|REQUESTS_CA_BUNDLE|.*_PROXY|KUBECONFIG|DOCKER_.*|AWS_.*|GOOGLE_.*|AZURE_.*|REFLEX_.*)$`)

var placeholder = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}`)

// errUndefined marks a ${NAME} no value exists for.
var errUndefined = errors.New("undefined variable")

// expand replaces ${NAME} in s, with whole values.
func (v Vars) expand(s string) (string, error) { return v.expandEscaped(s, nil) }

// expandEscaped replaces ${NAME} in s; escape, when set, is applied to
// the values of job parameters found at byte offset i of s (local values
// are the operator's, and taken as they are). It may refuse a value.
func (v Vars) expandEscaped(s string, escape func(i int, value string) (string, error)) (string, error) {
	var out strings.Builder
	last := 0
	for _, m := range placeholder.FindAllStringSubmatchIndex(s, -1) {
		name := s[m[2]:m[3]]
		val, param, ok := v.lookup(name)
		if !ok {
			return "", fmt.Errorf("%w: ${%s} is not a job parameter, a config value or an environment variable", errUndefined, name)
		}
		if param && escape != nil {
			var err error
			if val, err = escape(m[0], val); err != nil {
				return "", fmt.Errorf("${%s}: %w", name, err)
			}
		}
		out.WriteString(s[last:m[0]])
		out.WriteString(val)
		last = m[1]
	}
	out.WriteString(s[last:])
	return out.String(), nil
}

// Runner runs actions of an actions file.
type Runner struct {
	File *ActionsFile
	// Env are extra environment variables for every action (the job's
	// id, service and zone).
	Env map[string]string
	// OutputLimit bounds the output kept; DefaultOutputLimit when 0.
	OutputLimit int
	// HTTP is the client of http and forward actions.
	HTTP *http.Client
	// Delivery is the job's original verified delivery, for forward
	// actions; nil when its trigger does not forward one.
	Delivery *wire.Forwarded
	// Stream, when set, receives the whole output as it comes, besides
	// the bounded copy the Result keeps.
	Stream io.Writer
}

// Run runs an action (following groups and onSuccess) with the job's
// parameters, which the action must declare (see CheckParams).
func (r *Runner) Run(ctx context.Context, action string, params map[string]string) Result {
	if err := r.File.CheckParams(action, params); err != nil {
		return Result{ExitCode: -1, Err: err, Permanent: true}
	}
	limit := r.OutputLimit
	if limit <= 0 {
		limit = DefaultOutputLimit
	}
	out := &boundedBuffer{limit: limit, tee: r.Stream}
	vars := Vars{Params: params, Config: r.File.Config, Declared: r.File.Actions[action].Params}
	steps := 0
	code, err := r.run(ctx, action, vars, out, &steps)
	res := Result{OK: err == nil, ExitCode: code, Output: out.String(), Err: err}
	res.Permanent = errors.Is(err, errUndefined) || errors.Is(err, errNothingToForward)
	return res
}

func (r *Runner) run(ctx context.Context, name string, vars Vars, out *boundedBuffer, steps *int) (int, error) {
	for name != "" {
		if *steps++; *steps > maxChain {
			return -1, fmt.Errorf("more than %d actions in one job", maxChain)
		}
		a := r.File.Actions[name]
		fmt.Fprintf(out, "--- %s (%s)\n", name, a.Type)
		var code int
		var err error
		switch a.Type {
		case "group":
			for _, n := range a.Actions {
				if code, err = r.run(ctx, n, vars, out, steps); err != nil {
					break
				}
			}
		case "http":
			code, err = r.http(ctx, a, vars, out)
		case "forward":
			code, err = r.forward(ctx, a, vars, out)
		default:
			code, err = r.exec(ctx, name, a, vars, out)
		}
		if err != nil {
			return code, fmt.Errorf("action %s: %w", name, err)
		}
		name = a.OnSuccess
	}
	return 0, nil
}

// exec runs a system or script action: an argv, no shell, a clean
// environment of declared variables only.
func (r *Runner) exec(ctx context.Context, name string, a *Action, vars Vars, out *boundedBuffer) (int, error) {
	var argv []string
	if a.Type == "script" {
		argv = append([]string{filepath.Join(r.File.dir, a.Target)}, a.Args...)
	} else {
		argv = slices.Clone(a.Exec)
	}
	for i, arg := range argv {
		v, err := vars.expand(arg)
		if err != nil {
			return -1, err
		}
		argv[i] = v
	}
	env, err := r.environment(a, vars)
	if err != nil {
		return -1, err
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = r.File.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = procAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return -1, fmt.Errorf("timed out after %s", a.timeout)
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode(), fmt.Errorf("exited with status %d", exitErr.ExitCode())
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}

// environment is a clean environment: the job's parameters under the
// names their declarations export them as (no other), PATH, the job's
// REFLEX_* variables, and the variables the file and the action declare,
// which win.
func (r *Runner) environment(a *Action, vars Vars) ([]string, error) {
	env := map[string]string{}
	for name, p := range vars.Declared {
		if v, ok := vars.Params[name]; ok && p.Env != "" {
			env[p.Env] = v
		}
	}
	env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
	if p := os.Getenv("PATH"); p != "" {
		env["PATH"] = p
	}
	for k, v := range r.Env {
		env[k] = v
	}
	for _, decl := range []map[string]string{r.File.Setenv, a.Setenv} {
		for k, raw := range decl {
			v, err := vars.expand(raw)
			if err != nil {
				return nil, fmt.Errorf("setenv %s: %w", k, err)
			}
			env[k] = v
		}
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out, nil
}

// http runs an http action: one request to an internal URL. A job
// parameter is escaped for where it goes: path-escaped in the URL's path,
// query-escaped in its query, JSON-string-escaped in the body (so it
// belongs inside a JSON string there), and refused in a header when it
// holds a control character; it may not choose the scheme or the host.
func (r *Runner) http(ctx context.Context, a *Action, vars Vars, out *boundedBuffer) (int, error) {
	url, err := vars.expandEscaped(a.URL, urlEscaper(a.URL))
	if err != nil {
		return -1, err
	}
	body, err := vars.expandEscaped(a.Body, func(_ int, v string) (string, error) { return jsonStringContent(v), nil })
	if err != nil {
		return -1, err
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, a.Method, url, strings.NewReader(body))
	if err != nil {
		return -1, err
	}
	for k, raw := range a.Headers {
		v, err := vars.expandEscaped(raw, headerValue)
		if err != nil {
			return -1, err
		}
		req.Header.Set(k, v)
	}
	return r.send(req, a, out, a.Method+" "+url)
}

// send sends an http or forward action's request and keeps what the
// answer says: it succeeds on 2xx or the codes the action expects.
func (r *Runner) send(req *http.Request, a *Action, out *boundedBuffer, what string) (int, error) {
	client := r.HTTP
	if client == nil {
		client = &http.Client{}
	}
	resp, err := client.Do(req)
	if err != nil {
		return -1, err
	}
	defer resp.Body.Close()
	fmt.Fprintf(out, "%s → %s\n", what, resp.Status)
	_, _ = io.Copy(out, io.LimitReader(resp.Body, int64(out.limit)))
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if len(a.Expect) > 0 {
		ok = slices.Contains(a.Expect, resp.StatusCode)
	}
	if !ok {
		return resp.StatusCode, fmt.Errorf("answered %s", resp.Status)
	}
	return 0, nil
}

// urlEscaper escapes a job parameter for its place in the URL template
// tmpl: the path, the query (or fragment), never the scheme or the host.
func urlEscaper(tmpl string) func(i int, v string) (string, error) {
	hostEnd := 0
	if k := strings.Index(tmpl, "://"); k >= 0 {
		hostEnd = k + 3
		if slash := strings.IndexAny(tmpl[hostEnd:], "/?#"); slash >= 0 {
			hostEnd += slash
		} else {
			hostEnd = len(tmpl)
		}
	}
	query := strings.IndexAny(tmpl, "?#")
	return func(i int, v string) (string, error) {
		switch {
		case i < hostEnd:
			return "", errors.New("a job parameter may not choose the scheme or the host of an http action's URL")
		case query >= 0 && i > query:
			return neturl.QueryEscape(v), nil
		}
		return neturl.PathEscape(v), nil
	}
}

// jsonStringContent returns v encoded as the inside of a JSON string.
func jsonStringContent(v string) string {
	b, _ := json.Marshal(v)
	return string(b[1 : len(b)-1])
}

// headerValue refuses a job parameter that would break out of its header.
func headerValue(_ int, v string) (string, error) {
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", errors.New("a control character (CR, LF, …) may not reach a header")
	}
	return v, nil
}

// boundedBuffer keeps the first limit bytes written and counts the rest;
// tee, when set, gets every byte.
type boundedBuffer struct {
	buf     bytes.Buffer
	limit   int
	dropped int
	tee     io.Writer
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if b.tee != nil {
		_, _ = b.tee.Write(p)
	}
	room := b.limit - b.buf.Len()
	if room >= len(p) {
		return b.buf.Write(p)
	}
	if room > 0 {
		b.buf.Write(p[:room])
	}
	b.dropped += len(p) - max(room, 0)
	return len(p), nil
}

func (b *boundedBuffer) String() string {
	if b.dropped == 0 {
		return b.buf.String()
	}
	return fmt.Sprintf("%s\n… (%d more bytes not kept)", b.buf.String(), b.dropped)
}
