package cli

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLocalURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ addr, want string }{
		{"[::]:8080", "http://localhost:8080"},
		{"0.0.0.0:8080", "http://localhost:8080"},
		{"127.0.0.1:9000", "http://127.0.0.1:9000"},
		{"[::1]:8081", "http://[::1]:8081"},
		{"192.0.2.7:80", "http://192.0.2.7:80"},
	}
	for _, tt := range tests {
		addr, err := net.ResolveTCPAddr("tcp", tt.addr)
		require.NoError(t, err)
		require.Equal(t, tt.want, localURL(addr), tt.addr)
	}
}

func TestSelfCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		arg0 string
		opts Options
		want string
	}{
		{"hookflow", Options{DataDir: "./data"}, "hookflow"},
		{"/tmp/go-build123/b001/exe/hookflow", Options{DataDir: "./data"}, "go run ./cmd/hookflow"},
		{"./hookflow", Options{DataDir: "/var/lib/hook flow"}, "./hookflow --data-dir '/var/lib/hook flow'"},
		{"hookflow", Options{DataDir: "./data", DatabaseURL: "postgres://app:s3cret@db:5432/hookflow"},
			"hookflow --database-url postgres://app:xxxxx@db:5432/hookflow"},
		{"hookflow", Options{DataDir: "it's"}, `hookflow --data-dir 'it'\''s'`},
		{"hookflow", Options{DataDir: "./data", DatabaseURL: "postgres://app:pw@db/h?sslmode=disable&x=1"},
			"hookflow --database-url 'postgres://app:xxxxx@db/h?sslmode=disable&x=1'"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, selfCommand(tt.arg0, &tt.opts), tt.arg0)
	}
}
