//go:build linux

package reliability

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"taxiihub/internal/load"
	"taxiihub/internal/mongotest"
)

// seedFile is the example spec every test hub is seeded with.
var seedFile = filepath.Join("..", "..", "deploy", "examples", "partnerships.yaml")

const (
	// hubReadyTimeout bounds a hub's start, seeding included.
	hubReadyTimeout = 60 * time.Second
	// hubStopTimeout bounds the wait for a hub to exit after SIGTERM; hubs drain for at most
	// their --shutdown-timeout (20 s by default).
	hubStopTimeout = 40 * time.Second
)

// hubOptions say how to run a hub process.
type hubOptions struct {
	// mongoDB selects the replica set's database of that name; empty means the embedded database.
	mongoDB string
	// set is the replica set holding mongoDB; nil means the one the package's tests share.
	set *mongotest.ReplicaSet
	// seed applies the example spec at start, writing partner tokens to the data directory.
	seed bool
	// extraArgs are added to the command line.
	extraArgs []string
	// dataDir is the hub's data directory; empty means a new one.
	dataDir string
}

// hub is a taxiihub process the test controls. It keeps its address and data directory across
// restarts, as a node behind a load balancer would.
type hub struct {
	t       testing.TB
	name    string
	opts    hubOptions
	addr    string
	dataDir string
	logPath string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd has exited
	err    error         // cmd.Wait's result, set before exited is closed
}

// startHub starts a hub process and waits until it serves; a cleanup stops it.
func startHub(t testing.TB, name string, opts hubOptions) *hub {
	t.Helper()
	h := &hub{t: t, name: name, opts: opts, addr: freeAddr(t), dataDir: opts.dataDir}
	if h.dataDir == "" {
		h.dataDir = t.TempDir()
	}
	h.logPath = filepath.Join(t.TempDir(), name+".log")
	h.start()
	t.Cleanup(func() {
		if h.running() {
			if err := h.terminate(); err != nil {
				t.Errorf("hub %s: %v", h.name, err)
			}
		}
		if t.Failed() {
			t.Logf("hub %s log, last lines:\n%s", h.name, h.logTail(40))
		}
	})
	return h
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// URL is the hub's base URL.
func (h *hub) URL() string { return "http://" + h.addr }

// start runs the hub process (again) and waits until it answers HTTP.
func (h *hub) start() {
	h.t.Helper()
	args := []string{"--listen", h.addr, "--data-dir", h.dataDir}
	if h.opts.seed {
		args = append(args, "--seed", seedFile)
	}
	args = append(args, h.opts.extraArgs...)
	cmd := exec.Command(hubBin, args...)
	// The load sends a member far more than the default per-member rate limit allows on purpose:
	// these tests are about failures, not limits.
	cmd.Env = append(os.Environ(), "TAXIIHUB_MEMBER_RATE=0")
	if h.opts.mongoDB != "" {
		// Through the environment, as the README asks of credentials.
		set := cmp.Or(h.opts.set, rs)
		cmd.Env = append(cmd.Env, "TAXIIHUB_MONGO_URI="+set.URI(), "TAXIIHUB_MONGO_DATABASE="+h.opts.mongoDB)
	}
	logFile, err := os.OpenFile(h.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		h.t.Fatal(err)
	}
	defer logFile.Close()
	fmt.Fprintf(logFile, "--- reliability: starting %s: %s\n", h.name, strings.Join(args, " "))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The kernel kills the hub should the test binary die first, so that none outlives its test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		h.t.Fatalf("start hub %s: %v", h.name, err)
	}
	exited := make(chan struct{})
	h.mu.Lock()
	h.cmd, h.exited = cmd, exited
	h.mu.Unlock()
	go func() {
		err := cmd.Wait()
		h.mu.Lock()
		h.err = err
		h.mu.Unlock()
		close(exited)
	}()

	deadline := time.Now().Add(hubReadyTimeout)
	for {
		// Any answer will do: without a token the hub answers 401, once it serves.
		resp, err := http.Get(h.URL() + "/taxii2/")
		if err == nil {
			resp.Body.Close()
			return
		}
		select {
		case <-exited:
			h.t.Fatalf("hub %s exited before serving: %v\n%s", h.name, h.exitErr(), h.logTail(30))
		default:
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("hub %s did not serve within %s: %v\n%s", h.name, hubReadyTimeout, err, h.logTail(30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *hub) running() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.exited == nil {
		return false
	}
	select {
	case <-h.exited:
		return false
	default:
		return true
	}
}

func (h *hub) exitErr() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// pid is the process id of the hub's current process.
func (h *hub) pid() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cmd.Process.Pid
}

// kill kills the hub with SIGKILL, as a crash or the OOM killer would, and waits until it is gone.
func (h *hub) kill() {
	h.t.Helper()
	h.mu.Lock()
	cmd, exited := h.cmd, h.exited
	h.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		h.t.Fatalf("kill hub %s: %v", h.name, err)
	}
	<-exited
}

// signalTerm sends SIGTERM, as an orchestrator does to stop a node, without waiting.
func (h *hub) signalTerm() {
	h.t.Helper()
	h.mu.Lock()
	cmd := h.cmd
	h.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		h.t.Fatalf("signal hub %s: %v", h.name, err)
	}
}

// wait waits until the hub has exited and returns how: nil for exit status 0.
func (h *hub) wait(timeout time.Duration) error {
	h.mu.Lock()
	cmd, exited := h.cmd, h.exited
	h.mu.Unlock()
	select {
	case <-exited:
		return h.exitErr()
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("did not exit within %s; killed it", timeout)
	}
}

// terminate stops the hub with SIGTERM and reports an unclean exit.
func (h *hub) terminate() error {
	h.signalTerm()
	if err := h.wait(hubStopTimeout); err != nil {
		return fmt.Errorf("exit after SIGTERM: %w", err)
	}
	return nil
}

// members are the partners seeded into the hub's data directory, with their tokens.
func (h *hub) members() []load.Member {
	h.t.Helper()
	ms, err := load.ReadMembers(filepath.Join(h.dataDir, "tokens"))
	if err != nil {
		h.t.Fatal(err)
	}
	return ms
}

// logTail is the end of the hub's log, across its restarts.
func (h *hub) logTail(lines int) string {
	b, err := os.ReadFile(h.logPath)
	if err != nil {
		return err.Error()
	}
	all := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return string(bytes.Join(all, []byte("\n")))
}

// vmHWM is the peak resident set size of the hub's current process, from /proc.
func (h *hub) vmHWM() (int64, error) { return procStatusKB(h.pid(), "VmHWM:") }

// vmRSS is the current resident set size of the hub's current process.
func (h *hub) vmRSS() (int64, error) { return procStatusKB(h.pid(), "VmRSS:") }

func procStatusKB(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err != nil {
				return 0, fmt.Errorf("parse %s %q: %w", field, rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no " + field + " in /proc/<pid>/status")
}
