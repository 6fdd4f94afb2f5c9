//go:build linux

package hostile

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"taxiihub/internal/load"
)

// seedFile is the example spec every test hub is seeded with.
var seedFile = filepath.Join("..", "..", "deploy", "examples", "partnerships.yaml")

// backends are the stores a test runs on when the backend matters.
var backends = []string{"sqlite", "mongodb"}

const (
	hubReadyTimeout = 60 * time.Second
	hubStopTimeout  = 40 * time.Second
)

// hubOptions say how to run a hub process.
type hubOptions struct {
	// backend is "sqlite" (the default) or "mongodb", on a fresh database of the shared mongod.
	backend string
	// fileLimit, when set, is the hub's limit on open files, set with prlimit(1) as a service
	// manager's LimitNOFILE would.
	fileLimit int
	// args are added to the command line.
	args []string
}

// hub is a taxiihub process seeded with the example partnerships.
type hub struct {
	t       testing.TB
	addr    string
	dataDir string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	err     error
}

// startHub starts a hub and waits until it serves; a cleanup stops it with SIGTERM and fails the
// test if it does not exit cleanly.
func startHub(t testing.TB, opts hubOptions) *hub {
	t.Helper()
	h := &hub{t: t, addr: freeAddr(t), dataDir: t.TempDir()}
	h.logPath = filepath.Join(t.TempDir(), "hub.log")
	args := append([]string{"--listen", h.addr, "--data-dir", h.dataDir, "--seed", seedFile}, opts.args...)
	name := hubBin
	if opts.fileLimit > 0 {
		args = append([]string{"--nofile=" + strconv.Itoa(opts.fileLimit), hubBin}, args...)
		name = "prlimit"
	}
	cmd := exec.Command(name, args...)
	// Tests are about hostile clients, not the per-member rate limit.
	cmd.Env = append(os.Environ(), "TAXIIHUB_MEMBER_RATE=0")
	if opts.backend == "mongodb" {
		cmd.Env = append(cmd.Env, "TAXIIHUB_MONGO_URI="+mongod.URI(), "TAXIIHUB_MONGO_DATABASE="+mongod.Database(t))
	}
	logFile, err := os.Create(h.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The kernel kills the hub should the test binary die first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start hub: %v", err)
	}
	h.cmd, h.exited = cmd, make(chan struct{})
	go func() {
		h.err = cmd.Wait()
		close(h.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-h.exited:
			if h.err != nil {
				t.Errorf("hub exited after SIGTERM with %v", h.err)
			}
		case <-time.After(hubStopTimeout):
			_ = cmd.Process.Kill()
			<-h.exited
			t.Errorf("hub did not exit within %s of SIGTERM", hubStopTimeout)
		}
		if t.Failed() {
			t.Logf("hub log, last lines:\n%s", h.logTail(40))
		}
	})
	deadline := time.Now().Add(hubReadyTimeout)
	for {
		resp, err := http.Get(h.URL() + "/healthz")
		if err == nil {
			resp.Body.Close()
			return h
		}
		select {
		case <-h.exited:
			t.Fatalf("hub exited before serving: %v\n%s", h.err, h.logTail(30))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub did not serve within %s: %v\n%s", hubReadyTimeout, err, h.logTail(30))
		}
		time.Sleep(50 * time.Millisecond)
	}
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

// pid is the hub's process id; with a file limit, prlimit has exec'd the hub in its own process.
func (h *hub) pid() int { return h.cmd.Process.Pid }

// token is the seeded partner token of a member.
func (h *hub) token(member string) string {
	h.t.Helper()
	ms, err := load.ReadMembers(filepath.Join(h.dataDir, "tokens"))
	if err != nil {
		h.t.Fatal(err)
	}
	for _, m := range ms {
		if m.ID == member {
			return m.Token
		}
	}
	h.t.Fatalf("no token for %s", member)
	return ""
}

// openFiles counts the hub process's open file descriptors.
func (h *hub) openFiles() int {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", h.pid()))
	if err != nil {
		h.t.Fatalf("open files of the hub: %v", err)
	}
	return len(entries)
}

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

// vmHWM is the peak resident set size of the hub's process, from /proc.
func (h *hub) vmHWM() int64 {
	h.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", h.pid()))
	if err != nil {
		h.t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err != nil {
				h.t.Fatalf("parse VmHWM %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	h.t.Fatal(errors.New("no VmHWM in /proc/<pid>/status"))
	return 0
}
