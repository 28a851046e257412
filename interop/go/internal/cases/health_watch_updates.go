package cases

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"google.golang.org/grpc"

	"interopmatrix/gen/health"
	"interopmatrix/gen/scripted"
)

// healthWatchUpdates: Health/Watch of a fresh name first sends SERVICE_UNKNOWN; then, on the same
// channel, each Scripted/Unary whose script's set_health gives the name a status (SERVING, then
// NOT_SERVING) ends OK and the Watch stream's next message has that status; Health/Check then
// answers NOT_SERVING, and the client cancels the stream. Every wait for a Watch message ends at
// the stream's deadline (--rpc_timeout_ms): a server that never tells the stream fails the case.
func healthWatchUpdates(t Target) error {
	service := "interop.watched." + randomHex()
	return t.onChannel(func(conn *grpc.ClientConn) error {
		client := health.NewHealthClient(conn)
		call := healthCall("Watch", service)
		stream, cancel, err := watchFrom(t, client, service, "SERVICE_UNKNOWN")
		if err != nil {
			return err
		}
		defer cancel() // the client cancels the stream once it has seen every status
		for _, status := range []string{"SERVING", "NOT_SERVING"} {
			if err := setHealth(t, scripted.NewScriptedClient(conn), service, status); err != nil {
				return err
			}
			if err := expectWatchMessage(stream, call+" after set_health "+status, "next", status); err != nil {
				return err
			}
		}
		reply, err := invoke(t, client.Check, &health.HealthCheckRequest{Service: service})
		return expectOK(healthCall("Check", service), err, "NOT_SERVING", reply.GetStatus().String())
	})
}

// setHealth makes the scripted service's Unary set service's health status to status
// (script.set_health), and checks that the call ends OK.
func setHealth(t Target, client scripted.ScriptedClient, service, status string) error {
	call := fmt.Sprintf("Scripted/Unary{script:{set_health:[{service:%q,status:%q}]}}", service, status)
	_, err := invoke(t, client.Unary, &scripted.ScriptedRequest{Script: &scripted.Script{
		SetHealth: []*scripted.HealthChange{{Service: service, Status: status}},
	}})
	if err != nil {
		return failed(call, err)
	}
	return nil
}

// randomHex is 16 random hex digits.
func randomHex() string {
	b := make([]byte, 8)
	rand.Read(b) // never fails (crypto/rand.Read: it crashes the program instead)
	return hex.EncodeToString(b)
}
