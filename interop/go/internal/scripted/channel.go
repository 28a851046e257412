package scripted

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
)

// The executor's channels and per-call options (docs/peer-contract.md, "Client: the generic
// executor": INSTRUCTION's timeout_ms, compression and channel, the client faults
// scripted-client-limits-ignored, scripted-server-name-ignored, scripted-target-ignored and
// scripted-authority-ignored).

// MaxTimeoutMs is the longest deadline an instruction may give: 366 days, in ms. It is given to
// grpc-go as it is (time.Duration holds about 292 years).
const MaxTimeoutMs = 31_622_400_000

// channelCompressions are the names INSTRUCTION's channel.compression takes. The per-call
// compression takes any name: one grpc-go does not have is passed on all the same.
var channelCompressions = []string{"identity", "gzip", "deflate"}

// Channel is INSTRUCTION's channel: the instruction runs on a channel of its own, made with
// these options and closed after it. Every member is optional.
type Channel struct {
	MaxReceiveMessageLength *int64  `json:"max_receive_message_length"`
	MaxSendMessageLength    *int64  `json:"max_send_message_length"`
	Compression             *string `json:"compression"`
	// ServerName is the name the server's certificate must match on a TLS transport, in place of
	// --server_host_override (ignored on an insecure one): the server name of the channel's TLS
	// credentials, exactly as written.
	ServerName *string `json:"server_name"`
	// Target is what the channel dials instead of --server_host:--server_port, its placeholders
	// {host}, {port} and {unix_socket} replaced (see target), then given to grpc.NewClient
	// untouched: grpc-go's own resolvers parse it.
	Target *string `json:"target"`
	// Authority is the :authority the channel sends (grpc.WithAuthority).
	Authority *string `json:"authority"`
	// KeepaliveTimeMs, KeepaliveTimeoutMs and KeepalivePermitWithoutCalls are the client's
	// keepalive pings (grpc.WithKeepaliveParams).
	KeepaliveTimeMs             *int64 `json:"keepalive_time_ms"`
	KeepaliveTimeoutMs          *int64 `json:"keepalive_timeout_ms"`
	KeepalivePermitWithoutCalls *bool  `json:"keepalive_permit_without_calls"`
	// Addresses are IPv4 host:port addresses the channel dials as one channel, one subchannel
	// each, instead of --server_host:--server_port (never with Target), their placeholders {host}
	// and {port} replaced: grpc-go has no ipv4: scheme for a static list, so they go to a
	// resolver/manual resolver of the channel's own (see target).
	Addresses []string `json:"addresses"`
	// LBPolicy is the channel's load-balancing policy, pick_first or round_robin, through its
	// default service config (grpc.WithDefaultServiceConfig).
	LBPolicy *string `json:"lb_policy"`
}

// channelMembers are the members of a channel object.
const channelMembers = "max_receive_message_length, max_send_message_length, compression, server_name, target, authority, " +
	"keepalive_time_ms, keepalive_timeout_ms, keepalive_permit_without_calls, addresses, lb_policy"

// lbPolicies are the names INSTRUCTION's channel.lb_policy takes.
var lbPolicies = []string{"pick_first", "round_robin"}

// maxKeepaliveMs bounds the keepalive durations: the longest time.Duration, in ms.
const maxKeepaliveMs = math.MaxInt64 / int64(time.Millisecond)

// UnmarshalJSON reads a channel object: only its eleven members (none of them null), lengths and
// keepalive durations non-negative integers, compression one of identity, gzip, deflate,
// server_name, target and authority non-empty strings, addresses a non-empty list of non-empty
// strings (not with target), lb_policy one of pick_first, round_robin,
// keepalive_permit_without_calls a boolean.
func (c *Channel) UnmarshalJSON(data []byte) error {
	var members map[string]json.RawMessage
	if jsonType(data) != "object" || json.Unmarshal(data, &members) != nil {
		return fmt.Errorf("channel must be an object, got %s", data)
	}
	var p Channel
	for key, value := range members {
		var dest any
		switch key {
		case "max_receive_message_length":
			dest = &p.MaxReceiveMessageLength
		case "max_send_message_length":
			dest = &p.MaxSendMessageLength
		case "compression":
			dest = &p.Compression
		case "server_name":
			dest = &p.ServerName
		case "target":
			dest = &p.Target
		case "authority":
			dest = &p.Authority
		case "keepalive_time_ms":
			dest = &p.KeepaliveTimeMs
		case "keepalive_timeout_ms":
			dest = &p.KeepaliveTimeoutMs
		case "keepalive_permit_without_calls":
			dest = &p.KeepalivePermitWithoutCalls
		case "addresses":
			dest = &p.Addresses
		case "lb_policy":
			dest = &p.LBPolicy
		default:
			return fmt.Errorf("channel: unknown member %q (its members: %s)", key, channelMembers)
		}
		if jsonType(value) == "null" {
			return fmt.Errorf("channel.%s must not be null", key)
		}
		if err := json.Unmarshal(value, dest); err != nil {
			return fmt.Errorf("channel.%s: %v", key, err)
		}
	}
	for name, n := range map[string]*int64{"max_receive_message_length": p.MaxReceiveMessageLength, "max_send_message_length": p.MaxSendMessageLength} {
		if n != nil && *n < 0 {
			return fmt.Errorf("channel.%s must be a non-negative integer, got %d", name, *n)
		}
	}
	for name, n := range map[string]*int64{"keepalive_time_ms": p.KeepaliveTimeMs, "keepalive_timeout_ms": p.KeepaliveTimeoutMs} {
		if n != nil && (*n < 0 || *n > maxKeepaliveMs) {
			return fmt.Errorf("channel.%s must be an integer from 0 to %d, got %d", name, maxKeepaliveMs, *n)
		}
	}
	if p.Compression != nil && !slices.Contains(channelCompressions, *p.Compression) {
		return fmt.Errorf("channel.compression must be one of %q, got %q", channelCompressions, *p.Compression)
	}
	if p.LBPolicy != nil && !slices.Contains(lbPolicies, *p.LBPolicy) {
		return fmt.Errorf("channel.lb_policy must be one of %q, got %q", lbPolicies, *p.LBPolicy)
	}
	if p.Addresses != nil {
		switch {
		case p.Target != nil:
			return errors.New("channel.addresses does not go with channel.target: give one of them")
		case len(p.Addresses) == 0 || slices.Contains(p.Addresses, ""):
			return fmt.Errorf("channel.addresses must be a non-empty list of host:port addresses, got %q", p.Addresses)
		}
	}
	// An empty authority is none to grpc-go (grpc.WithAuthority("") derives it from the target).
	for name, text := range map[string]*string{"server_name": p.ServerName, "target": p.Target, "authority": p.Authority} {
		if text != nil && *text == "" {
			return fmt.Errorf("channel.%s must be a non-empty string", name)
		}
	}
	*c = p
	return nil
}

// jsonType is the JSON type of a value: "object", "array", "string", "number", "true",
// "false", "null", or "" for nothing.
func jsonType(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't':
		return "true"
	case 'f':
		return "false"
	case 'n':
		return "null"
	}
	return "number"
}

// limitsIgnored are the call options of scripted-client-limits-ignored: the largest message
// size limits grpc-go takes (an int32, as HTTP/2 and the gRPC message prefix allow), both ways.
func limitsIgnored() grpc.DialOption {
	return grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32), grpc.MaxCallSendMsgSize(math.MaxInt32))
}

// SharedDialOptions are the dial options of the run's shared channel (beyond the transport's):
// none, except under scripted-client-limits-ignored, which lifts its message size limits.
func (o Options) SharedDialOptions() []grpc.DialOption {
	if o.LimitsIgnored {
		return []grpc.DialOption{limitsIgnored()}
	}
	return nil
}

// dialOptions are the dial options of an instruction's own channel: its message size limits and
// default request compression as grpc-go's default call options (every call of the channel
// starts with them: dialoptions.go, WithDefaultCallOptions), and its server name as the
// transport credentials opts.ServerName gives for it (nil, so none, on an insecure transport).
// Under scripted-client-limits-ignored the limits are ignored and lifted; under
// scripted-server-name-ignored the server name is ignored (the channel keeps the shared
// channel's credentials, --server_host_override). Its authority is grpc.WithAuthority, which
// grpc-go refuses (grpc.NewClient fails) on TLS credentials with another server name
// (clientconn.go, initAuthority); under scripted-authority-ignored there is none. Its keepalive
// members are grpc.WithKeepaliveParams (see keepaliveParams). Its lb_policy is the default
// service config {"loadBalancingConfig":[{"NAME":{}}]} (grpc.WithDefaultServiceConfig; with no
// resolver giving a service config of its own, the channel uses it).
func (c *Channel) dialOptions(opts Options) ([]grpc.DialOption, error) {
	var calls []grpc.CallOption
	if c.MaxReceiveMessageLength != nil && !opts.LimitsIgnored {
		calls = append(calls, grpc.MaxCallRecvMsgSize(int(*c.MaxReceiveMessageLength)))
	}
	if c.MaxSendMessageLength != nil && !opts.LimitsIgnored {
		calls = append(calls, grpc.MaxCallSendMsgSize(int(*c.MaxSendMessageLength)))
	}
	if c.Compression != nil {
		calls = append(calls, grpc.UseCompressor(*c.Compression))
	}
	var dial []grpc.DialOption
	if c.Authority != nil && !opts.AuthorityIgnored {
		dial = append(dial, grpc.WithAuthority(*c.Authority))
	}
	if len(calls) > 0 {
		dial = append(dial, grpc.WithDefaultCallOptions(calls...))
	}
	if kp, ok := c.keepaliveParams(); ok {
		dial = append(dial, grpc.WithKeepaliveParams(kp))
	}
	if c.LBPolicy != nil {
		dial = append(dial, grpc.WithDefaultServiceConfig(fmt.Sprintf(`{"loadBalancingConfig":[{%q:{}}]}`, *c.LBPolicy)))
	}
	if opts.LimitsIgnored {
		dial = append(dial, limitsIgnored())
	}
	if c.ServerName != nil && !opts.ServerNameIgnored {
		if opts.ServerName == nil {
			return nil, errNoServerName
		}
		// After the transport's own credentials (Options.Dial puts them first), so these win:
		// a later grpc.WithTransportCredentials replaces an earlier one.
		creds, err := opts.ServerName(*c.ServerName)
		if err != nil {
			return nil, fmt.Errorf("channel.server_name: %v", err)
		}
		if creds != nil {
			dial = append(dial, creds)
		}
	}
	return dial, nil
}

// keepaliveOff is keepalive.ClientParameters.Time when the channel gives no keepalive_time_ms:
// grpc-go's own default, "infinity", which turns the pings off (v1.85.0
// internal/transport/defaults.go, defaultClientKeepaliveTime; http2_client.go, NewHTTP2Client:
// keepaliveEnabled only when kp.Time != infinity). A zero Time would not do:
// grpc.WithKeepaliveParams raises any Time under 10 s to 10 s (dialoptions.go,
// internal.KeepaliveMinPingTime), so it would turn pings on every 10 s.
const keepaliveOff = time.Duration(math.MaxInt64)

// keepaliveParams are the client keepalive parameters of the channel's keepalive members, given
// as they are (a keepalive_time_ms under 10 s is raised to 10 s by grpc-go itself; a
// keepalive_timeout_ms of 0 is grpc-go's default, 20 s); ok is false when it has none.
func (c *Channel) keepaliveParams() (kp keepalive.ClientParameters, ok bool) {
	if c.KeepaliveTimeMs == nil && c.KeepaliveTimeoutMs == nil && c.KeepalivePermitWithoutCalls == nil {
		return kp, false
	}
	kp.Time = keepaliveOff
	if c.KeepaliveTimeMs != nil {
		kp.Time = time.Duration(*c.KeepaliveTimeMs) * time.Millisecond
	}
	if c.KeepaliveTimeoutMs != nil {
		kp.Timeout = time.Duration(*c.KeepaliveTimeoutMs) * time.Millisecond
	}
	if c.KeepalivePermitWithoutCalls != nil {
		kp.PermitWithoutStream = *c.KeepalivePermitWithoutCalls
	}
	return kp, true
}

// target is what the instruction's own channel dials, and the dial options its resolution needs:
// channel.target with {host}, {port} and {unix_socket} replaced by --server_host, --server_port
// and --server_unix_socket; or channel.addresses, {host} and {port} replaced likewise, held by a
// resolver of the channel's own (see addressesResolver); or without either (or under
// scripted-target-ignored) --server_host:--server_port. A target that names {unix_socket} when
// the client was given no --server_unix_socket cannot run.
func (c *Channel) target(opts Options) (string, []grpc.DialOption, error) {
	port := strconv.Itoa(opts.Server.Port)
	placeholders := strings.NewReplacer("{host}", opts.Server.Host, "{port}", port, unixSocketPlaceholder, opts.Server.UnixSocket)
	switch {
	case opts.TargetIgnored || (c.Target == nil && c.Addresses == nil):
		return net.JoinHostPort(opts.Server.Host, port), nil, nil
	case c.Addresses != nil:
		addresses := make([]string, len(c.Addresses))
		for i, a := range c.Addresses {
			addresses[i] = placeholders.Replace(a)
		}
		target, resolve := addressesResolver(addresses)
		return target, resolve, nil
	case strings.Contains(*c.Target, unixSocketPlaceholder) && opts.Server.UnixSocket == "":
		return "", nil, fmt.Errorf("channel.target %q names %s, and the client was given no --server_unix_socket", *c.Target, unixSocketPlaceholder)
	}
	return placeholders.Replace(*c.Target), nil, nil
}

// addressesScheme is the scheme of the resolver that holds a channel's addresses. The resolver
// is the channel's own (grpc.WithResolvers), so every channel may use the same scheme.
const addressesScheme = "interop-addresses"

// addressesResolver is the target and dial option of a channel that dials addresses (host:port,
// in order) as one channel: grpc-go's resolver/manual resolver, its initial state holding the
// addresses, given to that channel alone with grpc.WithResolvers, and the target
// interop-addresses:///backends that names it. grpc-go has no resolver for a static list in a
// target string (no ipv4: scheme, unlike grpc-core and grpc-js: see TestIPSchemesAreNotGRPCGos);
// manual.NewBuilderWithScheme and Resolver.InitialState are in every release the peer builds with
// (grpc-go 1.64 on). The manual resolver hands its state to each channel it is built for again
// (Build), so a channel that went idle and comes back resolves the same addresses. A new
// resolver per channel: one may serve a single grpc.ClientConn only (its doc).
func addressesResolver(addresses []string) (string, []grpc.DialOption) {
	r := manual.NewBuilderWithScheme(addressesScheme)
	state := resolver.State{Addresses: make([]resolver.Address, len(addresses))}
	for i, a := range addresses {
		state.Addresses[i] = resolver.Address{Addr: a}
	}
	r.InitialState(state)
	return addressesScheme + ":///backends", []grpc.DialOption{grpc.WithResolvers(r)}
}

// unixSocketPlaceholder is what channel.target writes for --server_unix_socket.
const unixSocketPlaceholder = "{unix_socket}"

// errNoDialer: an instruction asks for a channel of its own, and the executor was given no way
// to make one.
var errNoDialer = errors.New("the instruction asks for a channel of its own (channel), and the executor has no dialer")

// errNoServerName: an instruction gives channel.server_name, and the executor was given no way
// to set a channel's server name.
var errNoServerName = errors.New("the instruction gives channel.server_name, and the executor has no way to set a channel's server name")
