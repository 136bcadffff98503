package archtest

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/reflexops/reflex"

// tiers places every package of the module in a layer. A package may
// import packages of its own tier or below, never above: the program
// (cmd) wires the server, the server the transports and services, these
// the domain, the domain the store, and the store the data model.
var tiers = map[string]int{
	// The data model, and parts that know nothing of Reflex's domain.
	"event": 0, "wire": 0, "keyspace": 0, "redisconn": 0, "fixtures": 0,
	"internal/archtest": 0, "internal/asynqlog": 0, "internal/jsonvalid": 0, "internal/keyspace": 0, "internal/redistest": 0, "internal/nettest": 0, "internal/loopback": 0, "internal/procnet": 0, "internal/periodic": 0, "internal/ratelimit": 0, "internal/testclock": 0, "internal/promtest": 0, "internal/schemacheck": 0, "internal/fuzzseed": 0,
	// The store of live state and events.
	"state": 1,
	// The domain: who may do what, what an event means, how it changes
	// live state and what it delivers.
	"auth": 2, "config": 2, "connectors": 2, "connectors/connectortest": 2, "connectors/github": 2, "connectors/registry": 2,
	"connectors/schemes": 2, "connectors/convert": 2, "connectors/pathnorm": 2,
	"connectors/azuredevops": 2, "connectors/bitbucket": 2, "connectors/bitbucketserver": 2, "connectors/cloudevents": 2,
	"connectors/gitea": 2, "connectors/gitlab": 2, "connectors/hmac": 2, "connectors/standardwebhooks": 2,
	"connectors/keyfetch": 2, "connectors/imageref": 2, "connectors/registryv2": 2, "connectors/awsevents": 2,
	"connectors/acr": 2, "connectors/artifactory": 2, "connectors/buildkite": 2, "connectors/circleci": 2,
	"connectors/dockerhub": 2, "connectors/eventbridge": 2, "connectors/harbor": 2, "connectors/jenkins": 2,
	"connectors/pubsub": 2, "connectors/quay": 2, "connectors/sns": 2,
	"connectors/github/deployments": 2, "delivery": 2, "plan": 2, "policies": 2, "projection": 2, "sources": 2, "triggers": 2,
	// Delivery jobs offered and leased to the agents of a zone, and the
	// record of those agents.
	"leases": 2, "fleet": 2,
	// The agent, which runs inside the secured network.
	"agent": 2,
	// Services on the queue.
	"jobs": 3, "intake": 3,
	// The metrics a process serves, beyond each package's own counters.
	"metrics": 3,
	// Hooks as code: the declared hooks, the providers' hook APIs.
	"hooks": 3, "hooks/hookset": 3, "hooks/github": 3, "hooks/gitlab": 3, "hooks/gitea": 3, "hooks/providers": 3, "hooks/restapi": 3, "hooks/bitbucket": 3, "hooks/harbor": 3, "hooks/quay": 3,
	// The load tool, and the baseline it compares Reflex with.
	"loadgen": 3,
	// The HTTP API.
	"handlers": 4,
	// The server, which wires everything.
	"server": 5,
	// The binary.
	"cmd/reflex": 6,
}

// TestNoUpwardImports fails when a package imports one of a higher tier,
// or when a package has no tier yet.
func TestNoUpwardImports(t *testing.T) {
	for pkg, imports := range modulePackages(t) {
		tier, ok := tiers[pkg]
		if !ok {
			t.Errorf("package %s has no tier: place it in tiers", pkg)
			continue
		}
		for _, imp := range imports {
			if to, ok := tiers[imp]; ok && to > tier {
				t.Errorf("%s (tier %d) imports %s (tier %d): an import may not point upward", pkg, tier, imp, to)
			}
		}
	}
}

// modulePackages lists the module's packages with their imports of other
// module packages (test files included), by path within the module.
func modulePackages(t *testing.T) map[string][]string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on PATH")
	}
	cmd := exec.Command(goTool, "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}} {{join .TestImports \" \"}}", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v: %s", err, stderr.String())
	}
	pkgs := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		pkgs[pkg] = nil
		for _, imp := range fields[1:] {
			if rest, ok := strings.CutPrefix(imp, module+"/"); ok && rest != pkg {
				pkgs[pkg] = append(pkgs[pkg], rest)
			}
		}
	}
	return pkgs
}
