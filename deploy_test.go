package hookflow_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// The deployment files are checked statically: no Docker engine is needed. They must
// describe the scale-out of docs/scaling.md: one PostgreSQL, a one-shot migration, at
// least two ingest-only servers and two workers sharing one database URL and one secret
// key.

// composeService is one service of docker-compose.yml, decoded generically because the
// compose format allows several shapes for the same setting.
type composeService map[string]any

// command returns the service's command as words.
func (s composeService) command() []string {
	switch c := s["command"].(type) {
	case string:
		return strings.Fields(c)
	case []any:
		out := make([]string, len(c))
		for i, w := range c {
			out[i], _ = w.(string)
		}
		return out
	}
	return nil
}

// env returns the service's environment, from either the map or the list form.
func (s composeService) env() map[string]string {
	out := map[string]string{}
	switch e := s["environment"].(type) {
	case map[string]any:
		for k, v := range e {
			switch v := v.(type) {
			case string:
				out[k] = v
			case nil:
				out[k] = ""
			default:
				b, _ := json.Marshal(v)
				out[k] = string(b)
			}
		}
	case []any:
		for _, kv := range e {
			k, v, _ := strings.Cut(kv.(string), "=")
			out[k] = v
		}
	}
	return out
}

// dependsOn returns the condition of each dependency ("" in the list form, which has
// none).
func (s composeService) dependsOn() map[string]string {
	out := map[string]string{}
	switch d := s["depends_on"].(type) {
	case []any:
		for _, name := range d {
			out[name.(string)] = ""
		}
	case map[string]any:
		for name, spec := range d {
			cond, _ := spec.(map[string]any)["condition"].(string)
			out[name] = cond
		}
	}
	return out
}

// publishedPort is a host port a service publishes, and the container port behind it.
type publishedPort struct{ host, container string }

// ports returns the host ports the service publishes, from the short ("8080:8080",
// "127.0.0.1:8080:8080/tcp") or the long form. A bare container port publishes a random
// host port, which cannot clash, and is left out.
func (s composeService) ports(t *testing.T) []publishedPort {
	t.Helper()
	list, _ := s["ports"].([]any)
	var out []publishedPort
	for _, p := range list {
		switch p := p.(type) {
		case string:
			spec, proto, _ := strings.Cut(p, "/")
			parts := strings.Split(spec, ":")
			if len(parts) < 2 {
				continue
			}
			host := parts[len(parts)-2]
			if len(parts) == 3 {
				host = parts[0] + ":" + host
			}
			out = append(out, publishedPort{host: host + "/" + orDefault(proto, "tcp"), container: parts[len(parts)-1]})
		case map[string]any:
			host := jsonString(p["published"])
			if host == "" {
				continue
			}
			if ip, _ := p["host_ip"].(string); ip != "" {
				host = ip + ":" + host
			}
			proto, _ := p["protocol"].(string)
			out = append(out, publishedPort{host: host + "/" + orDefault(proto, "tcp"), container: jsonString(p["target"])})
		default:
			t.Fatalf("unexpected port entry %#v", p)
		}
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func jsonString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func loadCompose(t *testing.T) map[string]composeService {
	t.Helper()
	raw, err := os.ReadFile("docker-compose.yml")
	require.NoError(t, err)
	var doc struct {
		Services map[string]composeService `json:"services"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc), "docker-compose.yml parses, anchors and merge keys included")
	require.NotEmpty(t, doc.Services)
	return doc.Services
}

// TestComposeScaleOut checks docker-compose.yml describes the scale-out: PostgreSQL with
// a healthcheck, a migration run once before anything else, ingest-only servers and
// workers on one image, one database and one secret key, each host port published once.
func TestComposeScaleOut(t *testing.T) {
	t.Parallel()
	services := loadCompose(t)

	pg, ok := services["postgres"]
	require.True(t, ok, "a postgres service")
	require.Regexp(t, `^postgres:\d+`, pg["image"])
	hc, _ := pg["healthcheck"].(map[string]any)
	require.NotNil(t, hc, "postgres has a healthcheck, so others can wait for it")
	require.Contains(t, jsonString(hc["test"]), "pg_isready")

	migrate, ok := services["migrate"]
	require.True(t, ok, "a migrate service")
	require.Equal(t, []string{"migrate"}, migrate.command())
	require.Equal(t, "service_healthy", migrate.dependsOn()["postgres"], "migrate waits for a healthy postgres")
	require.NotEqual(t, "always", migrate["restart"], "migrate runs once")
	require.NotEqual(t, "unless-stopped", migrate["restart"], "migrate runs once")

	knownVars := cliEnvVars(t)
	var servers, workers []string
	hookflow := map[string]composeService{}
	for name, svc := range services {
		if name == "postgres" {
			continue
		}
		cmd := svc.command()
		require.NotEmpty(t, cmd, "service %s sets its hookflow command", name)
		hookflow[name] = svc
		switch cmd[0] {
		case "serve":
			servers = append(servers, name)
		case "worker":
			workers = append(workers, name)
		case "migrate":
		default:
			t.Errorf("service %s runs %q: expected serve, worker or migrate", name, cmd[0])
		}
		for k := range svc.env() {
			if strings.HasPrefix(k, "HOOKFLOW_") {
				require.Contains(t, knownVars, k, "service %s sets %s, which no command reads", name, k)
			}
		}
	}
	slices.Sort(servers)
	slices.Sort(workers)
	require.GreaterOrEqual(t, len(servers), 2, "at least two serve processes: %v", servers)
	require.GreaterOrEqual(t, len(workers), 2, "at least two worker processes: %v", workers)

	// One image, one database, one secret key for every hookflow process.
	ref := hookflow["migrate"]
	refEnv := ref.env()
	require.NotEmpty(t, ref["image"], "hookflow services name their image")
	require.NotNil(t, ref["build"], "the image is built from this repository")
	require.True(t, strings.HasPrefix(refEnv["HOOKFLOW_DATABASE_URL"], "postgres://"), "the processes share PostgreSQL, not SQLite files")
	require.True(t, strings.HasPrefix(refEnv["HOOKFLOW_SECRET_KEY"], "${HOOKFLOW_SECRET_KEY:?"),
		"the secret key comes from the environment and is required, never written in the file: %q", refEnv["HOOKFLOW_SECRET_KEY"])
	for name, svc := range hookflow {
		env := svc.env()
		require.Equal(t, ref["image"], svc["image"], "service %s uses the same image", name)
		require.Equal(t, jsonString(ref["build"]), jsonString(svc["build"]), "service %s builds the same image", name)
		require.Equal(t, refEnv["HOOKFLOW_DATABASE_URL"], env["HOOKFLOW_DATABASE_URL"], "service %s uses the same database", name)
		require.Equal(t, refEnv["HOOKFLOW_SECRET_KEY"], env["HOOKFLOW_SECRET_KEY"], "service %s uses the same secret key", name)
		require.Equal(t, env["HOOKFLOW_ADMIN_EMAIL"] == "", env["HOOKFLOW_ADMIN_PASSWORD"] == "",
			"service %s sets both the admin email and password, or neither", name)
	}
	for _, name := range slices.Concat(servers, workers) {
		svc := hookflow[name]
		require.Equal(t, "service_completed_successfully", svc.dependsOn()["migrate"], "service %s starts after the migration", name)
		require.Equal(t, "unless-stopped", svc["restart"], "service %s is restarted when it dies", name)
	}
	for _, name := range servers {
		require.Equal(t, "0", hookflow[name].env()["HOOKFLOW_WORKERS"], "server %s only ingests; the workers run", name)
		require.NotEmpty(t, hookflow[name].ports(t), "server %s publishes a port for webhooks", name)
	}
	for _, name := range workers {
		require.NotEqual(t, "0", hookflow[name].env()["HOOKFLOW_WORKERS"], "worker %s runs workers", name)
	}

	// Each host port is published by exactly one service, and reaches the port the
	// process listens on (the image's HOOKFLOW_ADDR, :8080, unless the service sets one).
	owner := map[string]string{}
	for name, svc := range services {
		for _, p := range svc.ports(t) {
			prev, clash := owner[p.host]
			require.False(t, clash, "host port %s is published by both %s and %s", p.host, prev, name)
			owner[p.host] = name
			if _, ok := hookflow[name]; ok {
				addr := orDefault(svc.env()["HOOKFLOW_ADDR"], ":8080")
				require.True(t, strings.HasSuffix(addr, ":"+p.container), "service %s publishes container port %s but listens on %s", name, p.container, addr)
			}
		}
	}
	require.NotEmpty(t, owner)
}

// cliEnvVars returns the HOOKFLOW_* variables the commands read.
func cliEnvVars(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("cmd", "cli", "*.go"))
	require.NoError(t, err)
	re := regexp.MustCompile(`"(HOOKFLOW_[A-Z_]+)"`)
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			out = append(out, m[1])
		}
	}
	require.Contains(t, out, "HOOKFLOW_DATABASE_URL")
	return out
}

// dockerInstruction is one instruction of a Dockerfile, continuation lines joined.
type dockerInstruction struct{ op, args string }

func parseDockerfile(t *testing.T, path string) []dockerInstruction {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []dockerInstruction
	var cur strings.Builder
	for line := range strings.SplitSeq(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if cont, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(trimmed)
		op, args, _ := strings.Cut(strings.TrimSpace(cur.String()), " ")
		out = append(out, dockerInstruction{op: strings.ToUpper(op), args: strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// TestDockerfileBuildsAStaticNonRootImage checks the Dockerfile: a build stage compiling
// without cgo, and a final stage that runs /hookflow as a non-root user with its data
// under /data.
func TestDockerfileBuildsAStaticNonRootImage(t *testing.T) {
	t.Parallel()
	ins := parseDockerfile(t, "Dockerfile")
	last := -1
	froms := 0
	for i, in := range ins {
		if in.op == "FROM" {
			froms++
			last = i
		}
	}
	require.GreaterOrEqual(t, froms, 2, "multi-stage: a build stage and a small final stage")

	var build strings.Builder
	for _, in := range ins[:last] {
		if in.op == "RUN" || in.op == "ENV" || in.op == "ARG" {
			build.WriteString(in.args + "\n")
		}
	}
	require.Contains(t, build.String(), "CGO_ENABLED=0", "a static binary: no cgo")
	require.Regexp(t, `go build .*\./cmd/hookflow`, build.String())

	final := ins[last:]
	var user, entrypoint string
	var env, volumes, exposed []string
	for _, in := range final {
		switch in.op {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		case "ENV":
			env = append(env, strings.Fields(in.args)...)
		case "VOLUME":
			volumes = append(volumes, in.args)
		case "EXPOSE":
			exposed = append(exposed, strings.Fields(in.args)...)
		}
	}
	name, _, _ := strings.Cut(user, ":")
	require.NotEmpty(t, name, "the final stage sets a USER")
	require.NotContains(t, []string{"root", "0"}, name, "the final stage runs as a non-root user")

	var entry []string
	require.NoError(t, json.Unmarshal([]byte(entrypoint), &entry), "ENTRYPOINT in exec form, so signals reach hookflow: %q", entrypoint)
	require.Equal(t, "/hookflow", entry[0])
	require.Contains(t, env, "HOOKFLOW_DATA_DIR=/data")
	require.Contains(t, env, "HOOKFLOW_ADDR=:8080")
	require.Contains(t, exposed, "8080")
	require.True(t, slices.ContainsFunc(volumes, func(v string) bool { return strings.Contains(v, "/data") }), "VOLUME /data")

	ignore, err := os.ReadFile(".dockerignore")
	require.NoError(t, err)
	patterns := strings.Fields(string(ignore))
	for _, p := range []string{".git", "data", "**/*.db", "**/secret.key", ".env"} {
		require.Contains(t, patterns, p, ".dockerignore keeps %s out of the build context", p)
	}
}
