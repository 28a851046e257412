package main

import (
	"net"
	"strconv"
	"strings"
	"time"
)

// A tool is a program this client runs: its binary's name (also the --tool value), how the
// contract's transport and deadline become its flags, and its cases.
type tool struct {
	name string
	// command is the tool's arguments for one run of inv against the server.
	command func(cfg *config, inv invocation) []string
	// deadlines is how many times --rpc_timeout_ms one run may last by the tool's own
	// deadlines (grpc-health-probe's connect timeout and RPC timeout add up).
	deadlines int
	cases     map[string][]step
}

// An invocation is what one run of a tool asks for, besides the transport: flags, and for
// grpcurl the operands after the address (verb or method, symbol).
type invocation struct {
	flags    []string
	operands []string
}

var tools = []*tool{
	{name: "grpcurl", command: grpcurlCommand, deadlines: 1, cases: grpcurlCases},
	{name: "grpc-health-probe", command: healthProbeCommand, deadlines: 2, cases: healthProbeCases},
}

func toolNames() []string {
	names := make([]string, len(tools))
	for i, t := range tools {
		names[i] = t.name
	}
	return names
}

func toolByName(name string) *tool {
	for _, t := range tools {
		if t.name == name {
			return t
		}
	}
	return nil
}

func address(cfg *config) string { return net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port)) }

// grpcurlCommand: grpcurl [transport] -max-time SECONDS [flags] HOST:PORT [operands].
// -max-time bounds the whole run (connection, reflection and the RPC).
func grpcurlCommand(cfg *config, inv invocation) []string {
	var args []string
	if t := cfg.tls; t == nil {
		args = append(args, "-plaintext")
	} else {
		if t.caFile != "" {
			args = append(args, "-cacert", t.caFile)
		}
		if t.serverName != "" {
			args = append(args, "-servername", t.serverName)
		}
		if t.certFile != "" {
			args = append(args, "-cert", t.certFile, "-key", t.keyFile)
		}
	}
	args = append(args, "-max-time", strconv.FormatFloat(cfg.timeout.Seconds(), 'f', -1, 64))
	args = append(args, inv.flags...)
	args = append(args, address(cfg))
	return append(args, inv.operands...)
}

// healthProbeCommand: grpc-health-probe -addr=HOST:PORT [transport] -connect-timeout=T
// -rpc-timeout=T [flags].
func healthProbeCommand(cfg *config, inv invocation) []string {
	args := []string{"-addr=" + address(cfg)}
	if t := cfg.tls; t != nil {
		args = append(args, "-tls")
		if t.caFile != "" {
			args = append(args, "-tls-ca-cert="+t.caFile)
		}
		if t.serverName != "" {
			args = append(args, "-tls-server-name="+t.serverName)
		}
		if t.certFile != "" {
			args = append(args, "-tls-client-cert="+t.certFile, "-tls-client-key="+t.keyFile)
		}
	}
	timeout := cfg.timeout.String() // a Go duration, as the tool's flags take
	args = append(args, "-connect-timeout="+timeout, "-rpc-timeout="+timeout)
	return append(args, inv.flags...)
}

// killAfter is how long a tool run may take before this client kills it: the tool's own
// deadlines, and a margin for starting the process and printing.
func killAfter(cfg *config, margin time.Duration) time.Duration {
	return time.Duration(cfg.tool.deadlines)*cfg.timeout + margin
}

// describe is how the errors name a run: the tool and what it was asked (not the transport).
func describe(cfg *config, inv invocation) string {
	return shellJoin(append([]string{cfg.tool.name}, append(inv.flags, inv.operands...)...))
}

// shellJoin renders a command line as a shell would take it back.
func shellJoin(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	return strings.Join(quoted, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
