// Package deploy holds the operator manifests: docker-compose.yml (at the repository root) with
// deploy/Dockerfile and deploy/nginx.conf, and the Kubernetes manifests in deploy/kubernetes. No
// container engine runs where the tests run, so these tests read every file and check what a
// broken deployment would get wrong: images, ports, environment, probes, the replica set's name
// and members, and that the pieces name each other consistently.
package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// The files under test, relative to this directory.
const (
	composeFile    = "../docker-compose.yml"
	dockerfileFile = "Dockerfile"
	nginxFile      = "nginx.conf"
	goModFile      = "../go.mod"
	kubeDir        = "kubernetes"
)

// problems collects what a check finds, so that one run reports everything wrong.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ---- docker compose -------------------------------------------------------------------------

type composeFileT struct {
	Services map[string]service `yaml:"services"`
	Networks map[string]struct {
		IPAM struct {
			Config []struct {
				Subnet string `yaml:"subnet"`
			} `yaml:"config"`
		} `yaml:"ipam"`
	} `yaml:"networks"`
}

type service struct {
	Image string `yaml:"image"`
	Build *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Command     any `yaml:"command"`
	Environment any `yaml:"environment"`
	DependsOn   any `yaml:"depends_on"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	Ports    []string `yaml:"ports"`
	Volumes  []string `yaml:"volumes"`
	Networks any      `yaml:"networks"`
}

// words is a command as a list of words, whichever form compose was given it in.
func (s service) words() []string {
	switch c := s.Command.(type) {
	case string:
		return strings.Fields(c)
	case []any:
		out := make([]string, len(c))
		for i, w := range c {
			out[i] = fmt.Sprint(w)
		}
		return out
	}
	return nil
}

// env is the service's environment, from either the map or the KEY=value list form.
func (s service) env() map[string]string {
	out := map[string]string{}
	switch e := s.Environment.(type) {
	case map[string]any:
		for k, v := range e {
			out[k] = fmt.Sprint(v)
		}
	case []any:
		for _, item := range e {
			k, v, _ := strings.Cut(fmt.Sprint(item), "=")
			out[k] = v
		}
	}
	return out
}

// dependsOn maps each dependency to its condition ("service_started" for the list form).
func (s service) dependsOn() map[string]string {
	out := map[string]string{}
	switch d := s.DependsOn.(type) {
	case []any:
		for _, name := range d {
			out[fmt.Sprint(name)] = "service_started"
		}
	case map[string]any:
		for name, v := range d {
			cond := "service_started"
			if m, ok := v.(map[string]any); ok && m["condition"] != nil {
				cond = fmt.Sprint(m["condition"])
			}
			out[name] = cond
		}
	}
	return out
}

// ipv4 is the fixed address the service has on any network, or "".
func (s service) ipv4() string {
	if nets, ok := s.Networks.(map[string]any); ok {
		for _, n := range nets {
			if m, ok := n.(map[string]any); ok && m["ipv4_address"] != nil {
				return fmt.Sprint(m["ipv4_address"])
			}
		}
	}
	return ""
}

var mongoImage = regexp.MustCompile(`^mongo:(7|8)(\.[0-9]+){0,2}$`)

// flagValue is the word after flag in words, or "".
func flagValue(words []string, flag string) string {
	if i := slices.Index(words, flag); i >= 0 && i+1 < len(words) {
		return words[i+1]
	}
	return ""
}

// portOf is the port of a host:port listen address.
func portOf(addr string) string {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return ""
	}
	return addr[i+1:]
}

// checkCompose checks docker-compose.yml with the nginx config and Dockerfile it uses.
func checkCompose(composeYAML, nginxConf, dockerfile, goMod []byte) problems {
	var bad problems
	var c composeFileT
	if err := yaml.Unmarshal(composeYAML, &c); err != nil {
		bad.add("docker-compose.yml does not parse: %v", err)
		return bad
	}

	// Three mongod members of one replica set, on MongoDB 7 or 8.
	var members []string // host:port, as the other services must name them
	replSet := ""
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		w := s.words()
		if len(w) == 0 || w[0] != "mongod" {
			continue
		}
		if !mongoImage.MatchString(s.Image) {
			bad.add("%s runs image %q; the hub supports MongoDB 7 or 8 (mongo:7.x, mongo:8.x)", name, s.Image)
		}
		rs := flagValue(w, "--replSet")
		switch {
		case rs == "":
			bad.add("%s runs mongod without --replSet: the hub needs a replica set for its transactions", name)
		case replSet == "":
			replSet = rs
		case rs != replSet:
			bad.add("%s is in replica set %q, the others in %q", name, rs, replSet)
		}
		if !slices.Contains(w, "--bind_ip_all") && flagValue(w, "--bind_ip") == "" {
			bad.add("%s listens on localhost only; the other members and the hubs cannot reach it", name)
		}
		if s.Healthcheck == nil {
			bad.add("%s has no health check, so the replica set's init step cannot wait for it", name)
		}
		port := flagValue(w, "--port")
		if port == "" {
			port = "27017"
		}
		members = append(members, name+":"+port)
	}
	if len(members) != 3 {
		bad.add("%d mongod services (%v), want a replica set of three", len(members), members)
	}

	// The init step: rs.initiate with every member, once they are healthy.
	var inits []string
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		script := strings.Join(s.words(), " ")
		if !strings.Contains(script, "rs.initiate") {
			continue
		}
		inits = append(inits, name)
		if !mongoImage.MatchString(s.Image) {
			bad.add("%s runs image %q; want the members' mongo:7.x or mongo:8.x", name, s.Image)
		}
		if !strings.Contains(script, `_id: "`+replSet+`"`) {
			bad.add("%s does not initiate replica set %q (_id: %q)", name, replSet, replSet)
		}
		deps := s.dependsOn()
		for _, m := range members {
			host := strings.Split(m, ":")[0]
			if !strings.Contains(script, `"`+m+`"`) {
				bad.add("%s's rs.initiate does not list member %s", name, m)
			}
			if deps[host] != "service_healthy" {
				bad.add("%s does not wait for %s to be healthy (depends_on condition %q)", name, host, deps[host])
			}
		}
	}
	if len(inits) != 1 {
		bad.add("%d services run rs.initiate (%v), want one init step", len(inits), inits)
	}

	// The hub nodes: built from deploy/Dockerfile, pointed at every member, with health checks.
	lb := ""
	for _, name := range sortedKeys(c.Services) {
		if strings.HasPrefix(c.Services[name].Image, "nginx:") {
			lb = name
		}
	}
	var hubs []string // service:port, as the load balancer must name them
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		if s.Build == nil {
			continue
		}
		if s.Build.Context != "." || s.Build.Dockerfile != "deploy/Dockerfile" {
			bad.add("%s builds %s in %s; want deploy/Dockerfile in the repository root", name, s.Build.Dockerfile, s.Build.Context)
		}
		env := s.env()
		port := portOf(env["TAXIIHUB_LISTEN"])
		if port == "" || !strings.HasPrefix(env["TAXIIHUB_LISTEN"], "0.0.0.0:") {
			bad.add("%s listens on %q; want 0.0.0.0:<port> so that the load balancer reaches it", name, env["TAXIIHUB_LISTEN"])
		}
		hubs = append(hubs, name+":"+port)
		bad = append(bad, checkMongoURI(name, env["TAXIIHUB_MONGO_URI"], members, replSet)...)
		bad = append(bad, checkOperatorSafety(name, env, s.words(), env["TAXIIHUB_LISTEN"])...)
		if len(s.Ports) > 0 {
			bad.add("%s publishes ports %v itself; partners reach the hubs through the load balancer only", name, s.Ports)
		}
		if s.Healthcheck == nil {
			bad.add("%s has no health check", name)
		} else if test := strings.Join(s.Healthcheck.Test, " "); !regexp.MustCompile(`(127\.0\.0\.1|localhost):` + port + `/(healthz|readyz)\b`).MatchString(test) {
			bad.add("%s's health check %q does not ask its own /healthz or /readyz on port %s", name, test, port)
		}
		if deps := s.dependsOn(); !slices.ContainsFunc(inits, func(i string) bool { return deps[i] == "service_completed_successfully" }) {
			bad.add("%s does not wait for the replica set's init step to complete", name)
		}
		if lb != "" && c.Services[lb].ipv4() != "" && !slices.Contains(strings.Split(env["TAXIIHUB_TRUSTED_PROXIES"], ","), c.Services[lb].ipv4()) {
			bad.add("%s does not trust the load balancer's address %s (TAXIIHUB_TRUSTED_PROXIES=%q): every client would look like the balancer",
				name, c.Services[lb].ipv4(), env["TAXIIHUB_TRUSTED_PROXIES"])
		}
		if lb != "" && env["TAXIIHUB_MAX_CONNECTIONS_PER_ADDRESS"] != "0" {
			bad.add("%s keeps its per-address connection limit behind the load balancer (TAXIIHUB_MAX_CONNECTIONS_PER_ADDRESS=%q): "+
				"every client shares the balancer's address, and with it one limit; set it to 0 and limit clients in the balancer",
				name, env["TAXIIHUB_MAX_CONNECTIONS_PER_ADDRESS"])
		}
		for k, v := range env {
			if strings.HasPrefix(k, "TAXIIHUB_") && strings.Contains(v, "@") {
				bad.add("%s passes credentials in %s in plain sight; use a secret file", name, k)
			}
		}
	}
	if len(hubs) < 2 {
		bad.add("%d hub services (%v), want at least two behind the load balancer", len(hubs), hubs)
	}

	// The load balancer: nginx, its config mounted, its upstream naming every hub.
	if lb == "" {
		bad.add("no nginx load balancer service")
	} else {
		s := c.Services[lb]
		if !slices.ContainsFunc(s.Volumes, func(v string) bool { return strings.HasPrefix(v, "./deploy/nginx.conf:/etc/nginx/nginx.conf") }) {
			bad.add("%s does not mount ./deploy/nginx.conf as /etc/nginx/nginx.conf", lb)
		}
		if len(s.Ports) == 0 {
			bad.add("%s publishes no port", lb)
		}
		for _, h := range hubs {
			if _, ok := s.dependsOn()[strings.Split(h, ":")[0]]; !ok {
				bad.add("%s does not depend on %s", lb, h)
			}
		}
		bad = append(bad, checkNginx(nginxConf, hubs)...)
		bad = append(bad, checkNginxAdmin(nginxConf)...)
	}
	bad = append(bad, checkDockerfile(dockerfile, goMod, hubs)...)
	return bad
}

// checkOperatorSafety checks what keeps operators' rules and API away from accidents: no seed
// applied at start (a deployment's hubs restart often, and a seed file is for bootstrapping a hub
// by hand), and the admin API on a loopback address of its own, never on the partners' port.
func checkOperatorSafety(where string, env map[string]string, args []string, listen string) problems {
	var bad problems
	if env["TAXIIHUB_SEED"] != "" || slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--seed") }) {
		bad.add("%s applies a seed file at start; apply specs on purpose with taxiictl apply", where)
	}
	admin := env["TAXIIHUB_ADMIN_LISTEN"]
	host, port, err := net.SplitHostPort(admin)
	switch {
	case admin == "":
		bad.add("%s sets no TAXIIHUB_ADMIN_LISTEN: the admin API needs an address of its own, off the partners' port", where)
	case err != nil:
		bad.add("%s: TAXIIHUB_ADMIN_LISTEN %q is not host:port", where, admin)
	case !(host == "localhost" || net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback()):
		bad.add("%s serves the admin API on %s; want a loopback address, which operators reach with exec", where, admin)
	case port == portOf(listen):
		bad.add("%s serves the admin API on the partners' port %s", where, port)
	}
	return bad
}

var adminLocation = regexp.MustCompile(`location\s+(?:\^~\s+|=\s+)?/admin/?\s*\{([^}]*)\}`)

// checkNginxAdmin checks that nginx answers /admin/ itself and never forwards it to a hub.
func checkNginxAdmin(conf []byte) problems {
	var bad problems
	text := regexp.MustCompile(`#[^\n]*`).ReplaceAllString(string(conf), "")
	m := adminLocation.FindStringSubmatch(text)
	switch {
	case m == nil:
		bad.add("nginx has no location for /admin/: it forwards the admin API's paths to the hubs")
	case strings.Contains(m[1], "proxy_pass"):
		bad.add("nginx forwards /admin/ to the hubs")
	case !regexp.MustCompile(`return\s+40[34]\b`).MatchString(m[1]):
		bad.add("nginx's /admin/ location does not answer 404 (or 403) itself")
	}
	return bad
}

// checkMongoURI checks that a hub's connection string names every member and the replica set.
func checkMongoURI(service, uri string, members []string, replSet string) problems {
	var bad problems
	rest, ok := strings.CutPrefix(uri, "mongodb://")
	if !ok {
		bad.add("%s: TAXIIHUB_MONGO_URI %q is not a mongodb:// URI", service, uri)
		return bad
	}
	hostList, query, _ := strings.Cut(rest, "?")
	hostList = strings.TrimSuffix(strings.Split(hostList, "/")[0], "/")
	hosts := strings.Split(hostList, ",")
	for _, m := range members {
		if !slices.Contains(hosts, m) {
			bad.add("%s: TAXIIHUB_MONGO_URI does not name member %s (it names %v)", service, m, hosts)
		}
	}
	q, err := url.ParseQuery(query)
	if err != nil || q.Get("replicaSet") != replSet {
		bad.add("%s: TAXIIHUB_MONGO_URI names replica set %q, want %q", service, q.Get("replicaSet"), replSet)
	}
	return bad
}

var (
	upstreamBlock = regexp.MustCompile(`(?s)upstream\s+(\S+)\s*\{(.*?)\}`)
	serverLine    = regexp.MustCompile(`(?m)^\s*server\s+([^\s;]+)`)
	proxyPass     = regexp.MustCompile(`proxy_pass\s+http://([^\s;/]+)`)
)

// checkNginx checks that the load balancer's upstream names exactly the hubs and is used.
func checkNginx(conf []byte, hubs []string) problems {
	var bad problems
	text := regexp.MustCompile(`#[^\n]*`).ReplaceAllString(string(conf), "")
	blocks := upstreamBlock.FindAllStringSubmatch(text, -1)
	if len(blocks) != 1 {
		bad.add("nginx.conf has %d upstream blocks, want one for the hubs", len(blocks))
		return bad
	}
	name := blocks[0][1]
	var servers []string
	for _, m := range serverLine.FindAllStringSubmatch(blocks[0][2], -1) {
		servers = append(servers, m[1])
	}
	slices.Sort(servers)
	want := slices.Sorted(slices.Values(hubs))
	if !slices.Equal(servers, want) {
		bad.add("nginx upstream %s has servers %v; want the hubs %v", name, servers, want)
	}
	if m := proxyPass.FindStringSubmatch(text); m == nil || m[1] != name {
		bad.add("nginx does not proxy_pass to upstream %s", name)
	}
	return bad
}

// checkDockerfile checks that the image is multi-stage, static, non-root, on the module's Go.
func checkDockerfile(df, goMod []byte, hubs []string) problems {
	var bad problems
	var froms []string
	user := ""
	var exposed []string
	for line := range strings.SplitSeq(string(df), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms = append(froms, f[1])
			user = "" // USER applies to its own stage
		case "USER":
			user = f[1]
		case "EXPOSE":
			exposed = append(exposed, f[1:]...)
		}
	}
	if len(froms) < 2 {
		bad.add("the Dockerfile has %d stages; want a build stage and a small runtime stage", len(froms))
	}
	if user == "" || user == "root" || user == "0" || strings.HasPrefix(user, "0:") || strings.HasPrefix(user, "root:") {
		bad.add("the image runs as %q; want an unprivileged user", cmpOr(user, "root"))
	}
	if !strings.Contains(string(df), "CGO_ENABLED=0") {
		bad.add("the Dockerfile does not build with CGO_ENABLED=0: the binary would not be static")
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(goMod)
	if goVersion == nil {
		bad.add("go.mod has no go directive")
	} else if len(froms) > 0 && !strings.HasPrefix(froms[0], "golang:"+string(goVersion[1])) {
		bad.add("the build stage is %s; want golang:%s, the Go of go.mod", froms[0], goVersion[1])
	}
	for _, h := range hubs {
		if !slices.Contains(exposed, portOf(h)) {
			bad.add("the Dockerfile does not EXPOSE %s, the port %s listens on", portOf(h), h)
		}
	}
	return bad
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ---- Kubernetes ------------------------------------------------------------------------------

type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec      spec     `yaml:"spec"`
	Resources []string `yaml:"resources"` // kustomization
}

type spec struct {
	// Deployment and PodDisruptionBudget ({matchLabels: …}), Service (a plain map): see labelsOf.
	Selector any  `yaml:"selector"`
	Replicas *int `yaml:"replicas"`
	Template struct {
		Metadata struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec struct {
			TerminationGracePeriodSeconds *int `yaml:"terminationGracePeriodSeconds"`
			SecurityContext               struct {
				RunAsNonRoot *bool `yaml:"runAsNonRoot"`
			} `yaml:"securityContext"`
			Containers []container `yaml:"containers"`
		} `yaml:"spec"`
	} `yaml:"template"`
	// Service (selector is a plain map there)
	Ports []struct {
		Port       int `yaml:"port"`
		TargetPort any `yaml:"targetPort"`
	} `yaml:"ports"`
	// PodDisruptionBudget
	MinAvailable   any `yaml:"minAvailable"`
	MaxUnavailable any `yaml:"maxUnavailable"`
}

type container struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Command []string `yaml:"command"`
	Args    []string `yaml:"args"`
	Ports   []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name      string  `yaml:"name"`
		Value     *string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
}

type probe struct {
	HTTPGet *struct {
		Path   string `yaml:"path"`
		Port   any    `yaml:"port"`
		Scheme string `yaml:"scheme"`
	} `yaml:"httpGet"`
}

// decodeAll reads every document of a multi-document YAML file.
func decodeAll(data []byte) ([]object, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []object
	for {
		var o object
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
}

// labelsOf reads a selector: a Deployment's or a budget's matchLabels, or a Service's plain map.
func labelsOf(selector any) map[string]string {
	m, ok := selector.(map[string]any)
	if !ok {
		return nil
	}
	if inner, ok := m["matchLabels"].(map[string]any); ok {
		m = inner
	}
	out := map[string]string{}
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}

// selects reports whether every label of selector is in labels with the same value.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// checkKubernetes checks the manifests in files (name → content) as kustomization.yaml applies them.
func checkKubernetes(files map[string][]byte) problems {
	var bad problems
	byKind := map[string][]object{}
	for _, name := range sortedKeys(files) {
		objs, err := decodeAll(files[name])
		if err != nil {
			bad.add("%s does not parse: %v", name, err)
			continue
		}
		for _, o := range objs {
			byKind[o.Kind] = append(byKind[o.Kind], o)
		}
	}
	if k := byKind["Kustomization"]; len(k) != 1 {
		bad.add("%d kustomizations, want one", len(k))
	} else {
		var manifests []string
		for name := range files {
			if name != "kustomization.yaml" {
				manifests = append(manifests, name)
			}
		}
		if !slices.Equal(slices.Sorted(slices.Values(k[0].Resources)), slices.Sorted(slices.Values(manifests))) {
			bad.add("kustomization.yaml lists %v; the directory holds %v", k[0].Resources, manifests)
		}
	}
	for _, kind := range []string{"Deployment", "Service", "PodDisruptionBudget"} {
		if n := len(byKind[kind]); n != 1 {
			bad.add("%d %s objects, want one", n, kind)
		}
	}
	if len(bad) > 0 {
		return bad
	}
	d, svc, pdb := byKind["Deployment"][0], byKind["Service"][0], byKind["PodDisruptionBudget"][0]

	replicas := 1
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	if replicas < 2 {
		bad.add("the Deployment runs %d replica(s); want at least two, so that one can be drained", replicas)
	}
	podLabels := d.Spec.Template.Metadata.Labels
	if sel := labelsOf(d.Spec.Selector); !selects(sel, podLabels) {
		bad.add("the Deployment's selector %v does not select its pods' labels %v", sel, podLabels)
	}
	if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g == nil || *g <= 20 {
		bad.add("terminationGracePeriodSeconds must exceed the hub's 20 s shutdown timeout")
	}
	if nr := d.Spec.Template.Spec.SecurityContext.RunAsNonRoot; nr == nil || !*nr {
		bad.add("the pod does not set runAsNonRoot")
	}
	containers := d.Spec.Template.Spec.Containers
	if len(containers) != 1 {
		bad.add("the pod has %d containers, want the hub alone", len(containers))
		return bad
	}
	c := containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.Name == "TAXIIHUB_MONGO_URI":
			if e.Value != nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name == "" || e.ValueFrom.SecretKeyRef.Key == "" {
				bad.add("TAXIIHUB_MONGO_URI must come from a Secret by secretKeyRef, not a value in the manifest")
			}
			env[e.Name] = "(secret)"
		case e.Value != nil:
			env[e.Name] = *e.Value
			if strings.Contains(*e.Value, "mongodb://") || strings.Contains(*e.Value, "mongodb+srv://") {
				bad.add("%s holds a MongoDB URI in the manifest; it belongs in the Secret", e.Name)
			}
		}
	}
	if env["TAXIIHUB_MONGO_URI"] == "" {
		bad.add("the hub has no TAXIIHUB_MONGO_URI: it would run on an embedded database per pod")
	}
	bad = append(bad, checkOperatorSafety("the hub", env, slices.Concat(c.Command, c.Args), env["TAXIIHUB_LISTEN"])...)
	// The TAXII port: the container port that TAXIIHUB_LISTEN listens on.
	listenPort := portOf(env["TAXIIHUB_LISTEN"])
	taxiiPort := ""
	ports := map[string]string{} // name and number → number
	for _, p := range c.Ports {
		n := strconv.Itoa(p.ContainerPort)
		ports[n], ports[p.Name] = n, n
		if n == listenPort {
			taxiiPort = n
		}
	}
	if taxiiPort == "" {
		bad.add("no container port matches TAXIIHUB_LISTEN=%q", env["TAXIIHUB_LISTEN"])
	}
	if adminPort := portOf(env["TAXIIHUB_ADMIN_LISTEN"]); adminPort != "" && ports[adminPort] != "" {
		bad.add("container port %s is the admin API's; it must not be exposed", adminPort)
	}
	scheme := "HTTP"
	if env["TAXIIHUB_TLS_CERT"] != "" {
		scheme = "HTTPS"
	}
	for _, p := range []struct {
		what, path string
		probe      *probe
	}{{"readiness", "/readyz", c.ReadinessProbe}, {"liveness", "/healthz", c.LivenessProbe}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			bad.add("the hub has no HTTP %s probe", p.what)
			continue
		}
		g := p.probe.HTTPGet
		if g.Path != p.path {
			bad.add("the %s probe asks %s; want %s", p.what, g.Path, p.path)
		}
		if ports[fmt.Sprint(g.Port)] != taxiiPort || taxiiPort == "" {
			bad.add("the %s probe asks port %v, not the TAXII port %s", p.what, g.Port, taxiiPort)
		}
		if cmpOr(g.Scheme, "HTTP") != scheme {
			bad.add("the %s probe speaks %s to a hub that serves %s", p.what, cmpOr(g.Scheme, "HTTP"), scheme)
		}
	}
	for _, r := range []string{"cpu", "memory"} {
		if c.Resources.Limits[r] == "" {
			bad.add("the hub has no %s limit", r)
		}
		if c.Resources.Requests[r] == "" {
			bad.add("the hub has no %s request", r)
		}
	}

	if sel := labelsOf(svc.Spec.Selector); !selects(sel, podLabels) {
		bad.add("the Service's selector %v does not select the Deployment's pods %v", sel, podLabels)
	}
	if len(svc.Spec.Ports) == 0 {
		bad.add("the Service exposes no port")
	}
	for _, p := range svc.Spec.Ports {
		if ports[fmt.Sprint(p.TargetPort)] != taxiiPort {
			bad.add("the Service's port %d targets %v, not the TAXII port %s", p.Port, p.TargetPort, taxiiPort)
		}
	}

	if pdbSel := labelsOf(pdb.Spec.Selector); !selects(pdbSel, podLabels) {
		bad.add("the PodDisruptionBudget's selector %v does not select the Deployment's pods %v", pdbSel, podLabels)
	}
	switch minA, maxU := pdb.Spec.MinAvailable, pdb.Spec.MaxUnavailable; {
	case (minA == nil) == (maxU == nil):
		bad.add("the PodDisruptionBudget must set one of minAvailable and maxUnavailable")
	case minA != nil:
		if n, err := strconv.Atoi(fmt.Sprint(minA)); err == nil && n >= replicas {
			bad.add("minAvailable %d with %d replicas lets no node drain", n, replicas)
		}
	}
	return bad
}

func readKubernetes(t *testing.T) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(kubeDir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".yaml") {
			files[e.Name()] = read(t, filepath.Join(kubeDir, e.Name()))
		}
	}
	return files
}

// ---- tests ------------------------------------------------------------------------------------

func TestCompose(t *testing.T) {
	for _, p := range checkCompose(read(t, composeFile), read(t, nginxFile), read(t, dockerfileFile), read(t, goModFile)) {
		t.Error(p)
	}
}

func TestKubernetes(t *testing.T) {
	for _, p := range checkKubernetes(readKubernetes(t)) {
		t.Error(p)
	}
}

// TestChecksCatchBrokenFiles breaks the real files one way at a time and expects the checks to say
// so: a check that passes everything would be worse than none.
func TestChecksCatchBrokenFiles(t *testing.T) {
	type files struct{ compose, nginx, dockerfile, goMod []byte }
	good := files{read(t, composeFile), read(t, nginxFile), read(t, dockerfileFile), read(t, goModFile)}
	replace := func(b []byte, old, new string) []byte {
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("the file no longer contains %q; update this test", old)
		}
		return bytes.Replace(b, []byte(old), []byte(new), 1)
	}
	for _, tc := range []struct {
		name  string
		spoil func(f *files)
		want  string
	}{
		{"MongoDB 6", func(f *files) { f.compose = replace(f.compose, "image: mongo:8.0", "image: mongo:6.0") }, `"mongo:6.0"`},
		{"a member left out of rs.initiate", func(f *files) {
			f.compose = replace(f.compose, `{_id: 2, host: "mongo3:27017"},`, "")
		}, "does not list member mongo3:27017"},
		{"another replica set name", func(f *files) {
			f.compose = replace(f.compose, `"--replSet", "rs0"`, `"--replSet", "rs1"`)
		}, `replica set "rs0", want "rs1"`},
		{"a member left out of a hub's URI", func(f *files) {
			f.compose = replace(f.compose, "mongo1:27017,mongo2:27017,mongo3:27017/?replicaSet=rs0", "mongo1:27017,mongo2:27017/?replicaSet=rs0")
		}, "does not name member mongo3:27017"},
		{"mongod on localhost only", func(f *files) { f.compose = replace(f.compose, `"--bind_ip_all", `, "") }, "localhost only"},
		{"health check on the wrong path", func(f *files) {
			f.compose = replace(f.compose, "http://127.0.0.1:8080/readyz", "http://127.0.0.1:8080/")
		}, "does not ask its own /healthz or /readyz"},
		{"a hub left out of the upstream", func(f *files) {
			f.nginx = replace(f.nginx, "server hub2:8080 max_fails=3 fail_timeout=10s;", "")
		}, "want the hubs [hub1:8080 hub2:8080]"},
		{"the load balancer not trusted", func(f *files) {
			f.compose = replace(f.compose, "TAXIIHUB_TRUSTED_PROXIES: 172.28.0.10", "TAXIIHUB_TRUSTED_PROXIES: 10.0.0.1")
		}, "does not trust the load balancer"},
		{"the per-address connection limit behind the balancer", func(f *files) {
			f.compose = replace(f.compose, `TAXIIHUB_MAX_CONNECTIONS_PER_ADDRESS: "0"`, `TAXIIHUB_MAX_CONNECTIONS_PER_ADDRESS: "64"`)
		}, "per-address connection limit behind the load balancer"},
		{"a password in compose", func(f *files) {
			f.compose = replace(f.compose, "mongodb://mongo1:27017,", "mongodb://hub:secret@mongo1:27017,")
		}, "credentials"},
		{"a seed applied at every start", func(f *files) {
			f.compose = replace(f.compose, "TAXIIHUB_MAX_CONNECTIONS_PER_ADDRESS: \"0\"\n    volumes:\n      - hub1",
				"TAXIIHUB_MAX_CONNECTIONS_PER_ADDRESS: \"0\"\n      TAXIIHUB_SEED: /etc/taxiihub/partnerships.yaml\n    volumes:\n      - hub1")
		}, "hub1 applies a seed file at start"},
		{"the admin API with the partners", func(f *files) {
			f.compose = replace(f.compose, "TAXIIHUB_ADMIN_LISTEN: 127.0.0.1:8081\n      TAXIIHUB_URL: http://127.0.0.1:8081\n      TAXIIHUB_METRICS_LISTEN", "TAXIIHUB_METRICS_LISTEN")
		}, "hub2 sets no TAXIIHUB_ADMIN_LISTEN"},
		{"the admin API on every interface", func(f *files) {
			f.compose = replace(f.compose, "TAXIIHUB_ADMIN_LISTEN: 127.0.0.1:8081", "TAXIIHUB_ADMIN_LISTEN: 0.0.0.0:8081")
		}, "want a loopback address"},
		{"nginx forwards /admin/", func(f *files) {
			f.nginx = replace(f.nginx, "location ^~ /admin/ {\n            return 404;\n        }", "")
		}, "nginx has no location for /admin/"},
		{"nginx proxies /admin/", func(f *files) {
			f.nginx = replace(f.nginx, "return 404;", "proxy_pass http://taxiihub;")
		}, "nginx forwards /admin/"},
		{"the image runs as root", func(f *files) { f.dockerfile = replace(f.dockerfile, "USER 10001:10001", "USER root") }, `runs as "root"`},
		{"a dynamic binary", func(f *files) {
			f.dockerfile = bytes.ReplaceAll(f.dockerfile, []byte("CGO_ENABLED=0 "), nil)
		}, "CGO_ENABLED=0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := good
			tc.spoil(&f)
			got := checkCompose(f.compose, f.nginx, f.dockerfile, f.goMod)
			if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("no problem mentions %q; found %q", tc.want, got)
			}
		})
	}

	kube := readKubernetes(t)
	for _, tc := range []struct {
		name, file, old, new, want string
	}{
		{"one replica", "deployment.yaml", "replicas: 3", "replicas: 1", "at least two"},
		{"readiness on the wrong path", "deployment.yaml", "path: /readyz", "path: /ready", "want /readyz"},
		{"liveness on another port", "deployment.yaml", "path: /healthz\n              port: https", "path: /healthz\n              port: metrics", "not the TAXII port"},
		{"probes over plain HTTP", "deployment.yaml", "scheme: HTTPS", "scheme: HTTP", "speaks HTTP to a hub that serves HTTPS"},
		{"no limits", "deployment.yaml", "limits:\n              cpu: \"2\"\n              memory: 1Gi", "limits: {}", "no cpu limit"},
		{"the URI in the manifest", "deployment.yaml", "valueFrom:\n                secretKeyRef:\n                  name: taxiihub-mongodb\n                  key: uri",
			"value: mongodb://db1,db2,db3/?replicaSet=rs0", "secretKeyRef"},
		{"a Service selecting nothing", "service.yaml", "app.kubernetes.io/component: hub\n  ports", "app.kubernetes.io/component: web\n  ports", "Service's selector"},
		{"a budget without a bound", "poddisruptionbudget.yaml", "maxUnavailable: 1", "", "one of minAvailable and maxUnavailable"},
		{"a budget that blocks drains", "poddisruptionbudget.yaml", "maxUnavailable: 1", "minAvailable: 3", "lets no node drain"},
		{"a budget for other pods", "poddisruptionbudget.yaml", "      app.kubernetes.io/component: hub", "      app.kubernetes.io/component: db", "PodDisruptionBudget's selector"},
		{"a seed at every start", "deployment.yaml", "            - name: TAXIIHUB_DATA_DIR\n",
			"            - name: TAXIIHUB_SEED\n              value: /etc/taxiihub/seed.yaml\n            - name: TAXIIHUB_DATA_DIR\n", "applies a seed file at start"},
		{"no admin address", "deployment.yaml", "            - name: TAXIIHUB_ADMIN_LISTEN\n              value: 127.0.0.1:8081\n", "", "sets no TAXIIHUB_ADMIN_LISTEN"},
		{"the admin API exposed", "deployment.yaml", "            - name: metrics\n              containerPort: 9090",
			"            - name: metrics\n              containerPort: 9090\n            - name: admin\n              containerPort: 8081", "admin API's; it must not be exposed"},
		{"a manifest left out of the kustomization", "kustomization.yaml", "  - poddisruptionbudget.yaml\n", "", "kustomization.yaml lists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			broken := map[string][]byte{}
			for k, v := range kube {
				broken[k] = v
			}
			broken[tc.file] = replace(kube[tc.file], tc.old, tc.new)
			got := checkKubernetes(broken)
			if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("no problem mentions %q; found %q", tc.want, got)
			}
		})
	}
}
