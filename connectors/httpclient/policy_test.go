package httpclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
)

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	base := PolicyConfig{Listeners: []string{"127.0.0.1:8080", "[::]:9090", "192.0.2.10:7070"}}
	denyPrivate := base
	denyPrivate.DenyPrivate = true
	lists := denyPrivate
	lists.Allow = []string{"10.1.0.0/16", "crm.internal", "*.corp.example", "169.254.169.254", "127.0.0.1"}
	lists.Deny = []string{"203.0.113.0/24", "evil.example", "10.0.0.0/8", "*.ads.example"}
	tests := []struct {
		name string
		cfg  PolicyConfig
		host string
		ip   string
		port int
		rule string // "" means allowed
	}{
		{"public", base, "", "93.184.215.14", 443, ""},
		{"metadata v4", base, "", "169.254.169.254", 80, "link-local and cloud metadata addresses are never allowed"},
		{"link-local v4", base, "", "169.254.10.1", 80, "link-local and cloud metadata"},
		{"link-local v6", base, "", "fe80::1", 80, "link-local and cloud metadata"},
		{"metadata aws v6", base, "", "fd00:ec2::254", 80, "link-local and cloud metadata"},
		{"metadata alibaba", base, "", "100.100.100.200", 80, "link-local and cloud metadata"},
		{"metadata by name", base, "metadata.google.internal", "10.9.9.9", 80, "link-local and cloud metadata"},
		{"metadata by name with dot", base, "Metadata.Google.Internal.", "10.9.9.9", 80, "link-local and cloud metadata"},
		{"v4-mapped metadata", base, "", "::ffff:169.254.169.254", 80, "link-local and cloud metadata"},
		{"nat64 metadata", base, "", "64:ff9b::a9fe:a9fe", 80, "link-local and cloud metadata"},
		{"allow never beats metadata", lists, "", "169.254.169.254", 80, "link-local and cloud metadata"},
		{"own listener loopback", base, "", "127.0.0.1", 8080, "the server's own listeners are never called"},
		{"own listener other port", base, "", "127.0.0.1", 8081, ""},
		{"own listener any address, loopback", base, "", "127.0.0.1", 9090, "own listeners"},
		{"own listener any address, v6 loopback", base, "", "::1", 9090, "own listeners"},
		{"own listener any address, v4-mapped", base, "", "::ffff:127.0.0.2", 9090, "own listeners"},
		{"own listener via 0.0.0.0", base, "", "0.0.0.0", 7070, "own listeners"},
		{"own listener exact address", base, "", "192.0.2.10", 7070, "own listeners"},
		{"allow never beats own listener", lists, "", "127.0.0.1", 8080, "own listeners"},
		{"loopback allowed by default", base, "", "127.0.0.1", 5432, ""},
		{"private allowed by default", base, "", "192.168.1.20", 80, ""},
		{"loopback denied", denyPrivate, "", "127.0.0.1", 5432, "private and loopback addresses are denied (HOOKFLOW_OUTBOUND_PRIVATE=deny)"},
		{"v6 loopback denied", denyPrivate, "", "::1", 5432, "HOOKFLOW_OUTBOUND_PRIVATE=deny"},
		{"v4-mapped loopback denied", denyPrivate, "", "::ffff:127.0.0.1", 5432, "HOOKFLOW_OUTBOUND_PRIVATE=deny"},
		{"private denied", denyPrivate, "", "10.2.3.4", 80, "HOOKFLOW_OUTBOUND_PRIVATE=deny"},
		{"unique local denied", denyPrivate, "", "fd12:3456::1", 80, "HOOKFLOW_OUTBOUND_PRIVATE=deny"},
		{"cgnat denied", denyPrivate, "", "100.64.1.1", 80, "HOOKFLOW_OUTBOUND_PRIVATE=deny"},
		{"unspecified denied", denyPrivate, "", "0.0.0.0", 80, "HOOKFLOW_OUTBOUND_PRIVATE=deny"},
		{"public with private denied", denyPrivate, "", "93.184.215.14", 443, ""},
		{"allow cidr beats private", lists, "", "10.1.2.3", 80, ""},
		{"allow ip beats private", lists, "", "127.0.0.1", 5432, ""},
		{"allow name beats private", lists, "crm.internal", "10.5.5.5", 80, ""},
		{"allow wildcard beats private", lists, "a.corp.example", "192.168.9.9", 80, ""},
		{"wildcard is not the domain itself", lists, "corp.example", "192.168.9.9", 80, "HOOKFLOW_OUTBOUND_PRIVATE=deny"},
		{"allow beats deny", lists, "", "10.1.0.1", 80, ""},
		{"deny cidr", lists, "", "203.0.113.9", 443, "matches 203.0.113.0/24 on the deny list (HOOKFLOW_OUTBOUND_DENY)"},
		{"deny cidr v4-mapped", lists, "", "::ffff:203.0.113.9", 443, "203.0.113.0/24 on the deny list"},
		{"deny name", lists, "evil.example", "93.184.215.14", 443, "matches evil.example on the deny list"},
		{"deny wildcard", lists, "x.ads.example", "93.184.215.14", 443, "matches *.ads.example on the deny list"},
		{"deny beats private rule", lists, "", "10.9.9.9", 80, "matches 10.0.0.0/8 on the deny list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := NewPolicy(tt.cfg)
			require.NoError(t, err)
			err = p.Check(tt.host, netip.MustParseAddr(tt.ip), tt.port)
			if tt.rule == "" {
				require.NoError(t, err)
				return
			}
			var refused *RefusedError
			require.ErrorAs(t, err, &refused)
			require.Contains(t, err.Error(), tt.rule)
			require.Contains(t, err.Error(), "outbound call to ")
		})
	}
}

func TestPolicyErrorText(t *testing.T) {
	t.Parallel()
	p, err := NewPolicy(PolicyConfig{})
	require.NoError(t, err)
	require.EqualError(t, p.Check("", netip.MustParseAddr("169.254.169.254"), 80),
		"outbound call to 169.254.169.254:80 refused: link-local and cloud metadata addresses are never allowed")
	require.EqualError(t, p.Check("metadata.google.internal", netip.MustParseAddr("169.254.169.254"), 80),
		"outbound call to metadata.google.internal (169.254.169.254:80) refused: link-local and cloud metadata addresses are never allowed")
}

func TestNewPolicyRefusesBadEntries(t *testing.T) {
	t.Parallel()
	_, err := NewPolicy(PolicyConfig{Allow: []string{"10.0.0.0/33"}, Deny: []string{"http://x.example/", "ok.example"}, Listeners: []string{"nope"}})
	require.ErrorContains(t, err, `outbound allow list: "10.0.0.0/33" is not a CIDR`)
	require.ErrorContains(t, err, `outbound deny list: "http://x.example/" is not a CIDR`)
	require.ErrorContains(t, err, `own listener "nope"`)
	require.Equal(t, []string{"a", "b.example", "10.0.0.0/8"}, ParseList(" a, ,b.example,10.0.0.0/8 ,"))
}

// dialRecorder stands in for the network: it records what would be dialed, and dials
// nothing.
type dialRecorder struct {
	mu    sync.Mutex
	addrs []string
}

func (d *dialRecorder) dial(_ context.Context, _, address string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.addrs = append(d.addrs, address)
	return nil, errors.New("recorded, not dialed")
}

func (d *dialRecorder) dialed() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.addrs...)
}

// fakeDNS answers from a table.
func fakeDNS(table map[string][]string) func(context.Context, string, string) ([]netip.Addr, error) {
	return func(_ context.Context, _, host string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, s := range table[host] {
			out = append(out, netip.MustParseAddr(s))
		}
		if len(out) == 0 {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return out, nil
	}
}

func TestPolicyDialChecksEveryResolvedAddress(t *testing.T) {
	t.Parallel()
	rec := &dialRecorder{}
	p, err := NewPolicy(PolicyConfig{DenyPrivate: true, Dial: rec.dial, LookupNetIP: fakeDNS(map[string][]string{
		"api.example":    {"93.184.215.14"},
		"rebind.example": {"93.184.215.14", "169.254.169.254"}, // one bad answer refuses the name
		"lan.example":    {"192.168.1.5"},
		"v6.example":     {"2001:db8::1", "::ffff:10.0.0.1"},
	})})
	require.NoError(t, err)
	ctx := context.Background()

	_, err = p.DialContext(ctx, "tcp", "api.example:443")
	require.ErrorContains(t, err, "recorded, not dialed")
	require.Equal(t, []string{"93.184.215.14:443"}, rec.dialed(), "the checked IP is dialed, never the name again")

	for addr, rule := range map[string]string{
		"rebind.example:80":           "outbound call to rebind.example (169.254.169.254:80) refused: link-local",
		"lan.example:80":              "outbound call to lan.example (192.168.1.5:80) refused: private and loopback",
		"v6.example:80":               "outbound call to v6.example (10.0.0.1:80) refused: private and loopback",
		"169.254.169.254:80":          "outbound call to 169.254.169.254:80 refused: link-local",
		"[fe80::1%25eth0]:80":         "link-local",
		"metadata.google.internal:80": "outbound call to metadata.google.internal:80 refused: link-local and cloud metadata",
	} {
		_, err := p.DialContext(ctx, "tcp", addr)
		require.ErrorContains(t, err, rule, addr)
		require.True(t, connectors.IsPermanent(err), addr)
		var refused *RefusedError
		require.ErrorAs(t, err, &refused, addr)
	}
	require.Len(t, rec.dialed(), 1, "nothing refused reaches the dialer")

	_, err = p.DialContext(ctx, "tcp", "missing.example:80")
	require.ErrorContains(t, err, "resolve missing.example")
	require.False(t, connectors.IsPermanent(err), "a failed lookup may be retried")
}

func TestPolicyControlRefusesWhateverReachesTheSocket(t *testing.T) {
	t.Parallel()
	p, err := NewPolicy(PolicyConfig{Listeners: []string{"127.0.0.1:8080"}})
	require.NoError(t, err)
	require.ErrorContains(t, p.control("tcp4", "169.254.169.254:80", nil), "link-local")
	require.ErrorContains(t, p.control("tcp4", "127.0.0.1:8080", nil), "own listeners")
	require.NoError(t, p.control("tcp4", "127.0.0.1:8081", nil))
}

// TestClientUsesTheContextPolicy: the client dials through the context's policy, keeps a
// pool per policy, and a refusal is permanent and sends nothing.
func TestClientUsesTheContextPolicy(t *testing.T) {
	t.Parallel()
	hits := 0
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	c := New(Options{})

	resp, err := c.Do(context.Background(), newRequest(t, http.MethodGet, srv.URL, nil))
	require.NoError(t, err, "loopback is allowed without a policy in the context")
	require.Equal(t, http.StatusOK, resp.Status)

	deny, err := NewPolicy(PolicyConfig{DenyPrivate: true})
	require.NoError(t, err)
	_, err = c.Do(connectors.WithDialer(context.Background(), deny), newRequest(t, http.MethodGet, srv.URL+"/again", nil))
	require.ErrorContains(t, err, "refused: private and loopback addresses are denied")
	require.True(t, connectors.IsPermanent(err))
	require.Equal(t, 1, hits, "the idle connection of the other policy is not reused")

	own, err := NewPolicy(PolicyConfig{})
	require.NoError(t, err)
	require.NoError(t, own.AddListener(srv.Listener.Addr().String()))
	_, err = c.Do(connectors.WithDialer(context.Background(), own), newRequest(t, http.MethodGet, "http://localhost:"+srv.URL[len("http://127.0.0.1:"):], nil))
	require.ErrorContains(t, err, "the server's own listeners are never called")
	require.True(t, connectors.IsPermanent(err))

	_, err = c.Do(context.Background(), newRequest(t, http.MethodGet, "http://169.254.169.254/latest/meta-data/", nil))
	require.ErrorContains(t, err, "outbound call to 169.254.169.254:80 refused: link-local and cloud metadata addresses are never allowed")
	require.True(t, connectors.IsPermanent(err))
	require.Equal(t, 1, hits)
}
