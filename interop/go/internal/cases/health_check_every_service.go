package cases

import (
	"slices"

	"google.golang.org/grpc"

	"interopmatrix/gen/health"
)

// healthCheckEveryService: Health/Check answers SERVING for the whole server ("") and for
// every served service.
func healthCheckEveryService(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		client := health.NewHealthClient(conn)
		for _, service := range slices.Concat([]string{""}, servedServices) {
			if err := expectServing(t, client, service); err != nil {
				return err
			}
		}
		return nil
	})
}
