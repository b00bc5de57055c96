package httpclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hookflow/hookflow/connectors"
)

// PolicyConfig configures a Policy. The zero value refuses only what is always refused:
// link-local and cloud metadata addresses.
type PolicyConfig struct {
	// DenyPrivate refuses private, loopback and shared (CGNAT) addresses
	// (HOOKFLOW_OUTBOUND_PRIVATE=deny). By default they are allowed: self-hosters call
	// services on their own network.
	DenyPrivate bool
	// Allow lists CIDRs, IP addresses and host names ("*.corp.example" for subdomains)
	// that are allowed whatever DenyPrivate and Deny say (HOOKFLOW_OUTBOUND_ALLOW).
	Allow []string
	// Deny lists CIDRs, IP addresses and host names that are refused unless Allow lists
	// them (HOOKFLOW_OUTBOUND_DENY).
	Deny []string
	// Listeners are this server's own listen addresses ("127.0.0.1:8080", ":8080"); more
	// can be added with AddListener once the server listens.
	Listeners []string
	// DialTimeout bounds connecting. Default DialTimeoutDefault.
	DialTimeout time.Duration
	// Dial connects to an address the policy allowed, always an IP and a port. Default: a
	// net.Dialer whose Control checks the address once more. Tests replace it with a hook
	// that records instead of dialing.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// LookupNetIP resolves host names. Default net.DefaultResolver.LookupNetIP.
	LookupNetIP func(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Policy is the outbound network policy: it decides which addresses connectors may
// connect to, and dials only those. It implements connectors.Dialer and is safe for
// concurrent use.
//
// The rules, first match wins:
//  1. link-local addresses (169.254.0.0/16, fe80::/10) and cloud metadata addresses and
//     names (169.254.169.254, fd00:ec2::254, 100.100.100.200, metadata.google.internal...)
//     are always refused;
//  2. the server's own listeners are always refused;
//  3. an address or host name on the allow list is allowed;
//  4. one on the deny list is refused;
//  5. private, loopback and shared addresses are refused with DenyPrivate;
//  6. anything else is allowed.
type Policy struct {
	denyPrivate bool
	allow, deny []matcher
	dialTimeout time.Duration
	dial        func(ctx context.Context, network, address string) (net.Conn, error)
	lookup      func(ctx context.Context, network, host string) ([]netip.Addr, error)

	mu        sync.RWMutex
	gen       uint64 // counts AddListener calls, so pools can drop connections opened before
	listeners []netip.AddrPort
	// local holds this machine's interface addresses, which a listener on 0.0.0.0 or [::]
	// answers on.
	local []netip.Addr
}

var _ connectors.Dialer = (*Policy)(nil)

// NewPolicy returns the policy cfg describes, or an error naming an entry of its lists
// that is neither a CIDR, an IP address nor a host name.
func NewPolicy(cfg PolicyConfig) (*Policy, error) {
	p := &Policy{denyPrivate: cfg.DenyPrivate, dialTimeout: cfg.DialTimeout, dial: cfg.Dial, lookup: cfg.LookupNetIP}
	var errs []error
	for _, e := range cfg.Allow {
		m, err := parseMatcher(e)
		if err != nil {
			errs = append(errs, fmt.Errorf("outbound allow list: %w", err))
			continue
		}
		p.allow = append(p.allow, m)
	}
	for _, e := range cfg.Deny {
		m, err := parseMatcher(e)
		if err != nil {
			errs = append(errs, fmt.Errorf("outbound deny list: %w", err))
			continue
		}
		p.deny = append(p.deny, m)
	}
	for _, l := range cfg.Listeners {
		if err := p.AddListener(l); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if p.dialTimeout <= 0 {
		p.dialTimeout = DialTimeoutDefault
	}
	if p.dial == nil {
		d := &net.Dialer{Timeout: p.dialTimeout, KeepAlive: 30 * time.Second, Control: p.control}
		p.dial = d.DialContext
	}
	if p.lookup == nil {
		p.lookup = net.DefaultResolver.LookupNetIP
	}
	return p, nil
}

// defaultPolicy refuses link-local and metadata addresses; it is used when a call's
// context carries no Dialer (tests, tools), so that nothing ever reaches them.
var defaultPolicy = sync.OnceValue(func() *Policy {
	p, err := NewPolicy(PolicyConfig{})
	if err != nil {
		panic(err) // an empty config cannot fail
	}
	return p
})

// DialerFor returns the Dialer of ctx (connectors.DialerFrom), or a policy that refuses
// link-local and cloud metadata addresses when ctx carries none.
func DialerFor(ctx context.Context) connectors.Dialer {
	if d := connectors.DialerFrom(ctx); d != nil {
		return d
	}
	return defaultPolicy()
}

// AddListener adds one of the server's own listen addresses ("host:port"; an empty or
// unspecified host means every local address). Calls to it are refused from then on:
// clients drop their idle connections opened before, though a request already in flight
// finishes. Add listeners before starting work.
func (p *Policy) AddListener(addr string) error {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("own listener %q: %w", addr, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return fmt.Errorf("own listener %q: the port must be between 1 and 65535", addr)
	}
	var ips []netip.Addr
	switch ip, err := netip.ParseAddr(host); {
	case host == "":
		ips = []netip.Addr{netip.IPv6Unspecified()}
	case err == nil:
		ips = []netip.Addr{ip.Unmap()}
	default:
		// A name such as localhost: every address it stands for now.
		addrs, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", host)
		if err != nil {
			return fmt.Errorf("own listener %q: %w", addr, err)
		}
		for _, a := range addrs {
			ips = append(ips, a.Unmap())
		}
	}
	local := localAddrs()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ip := range ips {
		p.listeners = append(p.listeners, netip.AddrPortFrom(ip, uint16(port)))
	}
	p.local = local
	p.gen++
	return nil
}

// generation changes with every AddListener.
func (p *Policy) generation() uint64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.gen
}

func localAddrs() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		if pfx, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, pfx.Addr().Unmap())
		}
	}
	return out
}

// RefusedError is a connection the outbound policy refused. It names the address and
// the rule.
type RefusedError struct {
	// Host is the host name asked for, when it differs from the address.
	Host string
	// Addr is the address refused, ip:port.
	Addr string
	// Rule says which rule refused it.
	Rule string
}

func (e *RefusedError) Error() string {
	if e.Host != "" {
		return fmt.Sprintf("outbound call to %s (%s) refused: %s", e.Host, e.Addr, e.Rule)
	}
	return fmt.Sprintf("outbound call to %s refused: %s", e.Addr, e.Rule)
}

// The rules' texts.
const (
	ruleMetadata = "link-local and cloud metadata addresses are never allowed"
	ruleOwn      = "the server's own listeners are never called"
	rulePrivate  = "private and loopback addresses are denied (HOOKFLOW_OUTBOUND_PRIVATE=deny)"
)

// Check decides whether a connection to ip:port may be opened; host is the name it was
// resolved from ("" or the IP itself when there was none). It returns nil or a
// *RefusedError.
func (p *Policy) Check(host string, ip netip.Addr, port int) error {
	ip = ip.Unmap()
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	refuse := func(rule string) error {
		e := &RefusedError{Addr: netip.AddrPortFrom(ip.WithZone(""), uint16(port)).String(), Rule: rule}
		if host != "" && host != ip.String() {
			e.Host = host
		}
		return e
	}
	if metadataHost(host) || neverAllowed(ip) {
		return refuse(ruleMetadata)
	}
	if p.ownListener(ip, port) {
		return refuse(ruleOwn)
	}
	for _, m := range p.allow {
		if m.match(host, ip) {
			return nil
		}
	}
	for _, m := range p.deny {
		if m.match(host, ip) {
			return refuse(fmt.Sprintf("matches %s on the deny list (HOOKFLOW_OUTBOUND_DENY)", m.text))
		}
	}
	if p.denyPrivate && private(ip) {
		return refuse(rulePrivate)
	}
	return nil
}

// DialContext resolves address's host, checks every address it resolves to, and
// connects to the first allowed one that answers. It dials the checked IP itself, never
// the name again, so a DNS answer that changes between check and connect (rebinding)
// cannot slip through. If any address is refused, the name is refused as a whole. A
// refusal is a connectors.Permanent *RefusedError.
func (p *Policy) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial %s: invalid port", address)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		if metadataHost(strings.TrimSuffix(strings.ToLower(host), ".")) {
			// Refused by name, before any lookup.
			return nil, connectors.Permanent(&RefusedError{Addr: address, Rule: ruleMetadata})
		}
		ips, err = p.lookup(ctx, ipNetwork(network), host)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", host, err)
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("resolve %s: no addresses", host)
		}
	}
	for _, ip := range ips {
		if err := p.Check(host, ip, int(port)); err != nil {
			return nil, connectors.Permanent(err)
		}
	}
	var errs []error
	for _, ip := range ips {
		conn, err := p.dial(ctx, network, netip.AddrPortFrom(ip.Unmap(), uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// control is the default dialer's last check, on the address the socket is about to
// connect to: whatever reached the dialer, it never connects to an always-refused one.
func (p *Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("outbound call to %s refused: not an IP address and port", address)
	}
	ip := ap.Addr().Unmap()
	switch {
	case neverAllowed(ip):
		return connectors.Permanent(&RefusedError{Addr: address, Rule: ruleMetadata})
	case p.ownListener(ip, int(ap.Port())):
		return connectors.Permanent(&RefusedError{Addr: address, Rule: ruleOwn})
	}
	return nil
}

func ipNetwork(network string) string {
	switch network {
	case "tcp4", "udp4":
		return "ip4"
	case "tcp6", "udp6":
		return "ip6"
	}
	return "ip"
}

// ownListener reports whether ip:port reaches one of the server's listeners. A listener
// on an unspecified address answers on every local address; connecting to an unspecified
// address (0.0.0.0, ::) reaches a local listener.
func (p *Policy) ownListener(ip netip.Addr, port int) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, l := range p.listeners {
		if int(l.Port()) != port {
			continue
		}
		la := l.Addr()
		switch {
		case ip.IsUnspecified(), la == ip:
			return true
		case la.IsUnspecified() && (ip.IsLoopback() || slices.Contains(p.local, ip)):
			return true
		}
	}
	return false
}

// Cloud metadata services that are not link-local: AWS over IPv6, Google over IPv6,
// Alibaba Cloud, Oracle Cloud's legacy address.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("fd00:ec2::254"),
	netip.MustParseAddr("fd20:ce::254"),
	netip.MustParseAddr("100.100.100.200"),
	netip.MustParseAddr("192.0.0.192"),
}

// metadataNames are the metadata services' host names, refused whatever they resolve to.
var metadataNames = []string{
	"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal",
	"metadata.azure.internal", "metadata.tencentyun.com",
}

func metadataHost(host string) bool { return slices.Contains(metadataNames, host) }

// nat64 is the well-known NAT64 prefix: its addresses carry an IPv4 address in their
// last 32 bits, which a NAT64 gateway connects to.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// neverAllowed reports the addresses no rule can allow: link-local, and metadata.
func neverAllowed(ip netip.Addr) bool {
	if nat64.Contains(ip) {
		b := ip.As16()
		if neverAllowed(netip.AddrFrom4([4]byte(b[12:]))) {
			return true
		}
	}
	return ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		slices.Contains(metadataAddrs, ip)
}

// Ranges refused with DenyPrivate besides net's private and loopback ones.
var privateExtra = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network": 0.0.0.0 reaches local listeners
	netip.MustParsePrefix("100.64.0.0/10"), // shared address space (CGNAT)
}

func private(ip netip.Addr) bool {
	if ip.IsPrivate() || ip.IsLoopback() || ip.IsUnspecified() {
		return true
	}
	for _, pfx := range privateExtra {
		if pfx.Contains(ip) {
			return true
		}
	}
	if nat64.Contains(ip) {
		b := ip.As16()
		return private(netip.AddrFrom4([4]byte(b[12:])))
	}
	return false
}

// matcher is one entry of the allow or deny list: a CIDR (an IP is a one-address CIDR)
// or a host name, "*.example.com" matching the subdomains of example.com.
type matcher struct {
	text   string
	prefix netip.Prefix
	host   string
	suffix string
}

func parseMatcher(entry string) (matcher, error) {
	s := strings.ToLower(strings.TrimSpace(entry))
	m := matcher{text: s}
	if pfx, err := netip.ParsePrefix(s); err == nil {
		if pfx.Addr().Is4In6() { // ::ffff:10.0.0.0/104 is 10.0.0.0/8
			pfx = netip.PrefixFrom(pfx.Addr().Unmap(), max(pfx.Bits()-96, 0))
		}
		m.prefix = pfx.Masked()
		return m, nil
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		ip = ip.Unmap()
		m.prefix = netip.PrefixFrom(ip, ip.BitLen())
		return m, nil
	}
	name := strings.TrimSuffix(s, ".")
	if suffix, ok := strings.CutPrefix(name, "*."); ok {
		if !hostNamePattern(suffix) {
			return m, fmt.Errorf("%q is not a CIDR, an IP address or a host name", entry)
		}
		m.suffix = "." + suffix
		return m, nil
	}
	if !hostNamePattern(name) {
		return m, fmt.Errorf("%q is not a CIDR, an IP address or a host name", entry)
	}
	m.host = name
	return m, nil
}

func hostNamePattern(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
				return false
			}
		}
	}
	return true
}

func (m matcher) match(host string, ip netip.Addr) bool {
	switch {
	case m.prefix.IsValid():
		return m.prefix.Contains(ip)
	case m.suffix != "":
		return strings.HasSuffix(host, m.suffix)
	default:
		return host == m.host
	}
}

// ParseList splits a comma-separated setting (HOOKFLOW_OUTBOUND_ALLOW) into its
// non-empty entries.
func ParseList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}
