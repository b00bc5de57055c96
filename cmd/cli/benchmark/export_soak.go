package benchmark

import (
	"context"
	"io"
)

// Server is a `hookflow serve` child process on a fresh temporary data dir, started for
// another tool (hookflow soak) with the bench's life cycle: loopback port, generated
// secrets, cleaned environment, death with the parent, temporary dir removed on Stop.
type Server struct{ s *server }

// StartServer starts `binary serve` with workers (0: the server's default) on SQLite in
// a temporary dir, or on databaseURL (an empty PostgreSQL database or schema), and waits
// until it is ready.
func StartServer(ctx context.Context, binary, databaseURL string, workers int, log io.Writer) (*Server, error) {
	s, err := startServer(ctx, Config{Binary: binary, DatabaseURL: databaseURL, Mode: ModeE2E, Workers: workers}, log)
	if err != nil {
		return nil, err
	}
	return &Server{s: s}, nil
}

// PID returns the server's process id.
func (s *Server) PID() int { return s.s.cmd.Process.Pid }

// BaseURL returns http://127.0.0.1:<port>.
func (s *Server) BaseURL() string { return s.s.baseURL }

// Token creates an API token for the server's admin.
func (s *Server) Token(ctx context.Context) (string, error) { return s.s.token(ctx) }

// Alive reports whether the process still runs.
func (s *Server) Alive() bool { return s.s.alive() }

// Exited is closed when the process has exited.
func (s *Server) Exited() <-chan struct{} { return s.s.exited }

// LogTail returns the end of the server's log, prefixed for appending to an error.
func (s *Server) LogTail() string { return s.s.logTail() }

// Stop stops the process (SIGTERM, then SIGKILL) and removes its temporary dir.
func (s *Server) Stop(log io.Writer) { s.s.stop(log) }

// ReadMemory returns the resident set size of pid and its high-water mark, in bytes.
func ReadMemory(pid int) (rss, peak int64, err error) { return readMemory(pid) }

// ProcSupported reports whether ReadMemory works on this system.
const ProcSupported = procSupported
