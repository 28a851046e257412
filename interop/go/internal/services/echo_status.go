package services

import (
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"interopmatrix/gen/grpctesting"
	"interopmatrix/internal/faults"
)

// echoedStatus is the status a request's response_status asks the call to end with, or nil
// when it asks for none (unset, or code 0).
func echoedStatus(f faults.Set, requested *grpctesting.EchoStatus) error {
	if requested.GetCode() == 0 || f.Has(faults.TestingStatusIgnored) {
		return nil
	}
	message := requested.GetMessage()
	if f.Has(faults.TestingStatusMessageTrimmed) {
		message = strings.TrimSpace(message)
	}
	code := codes.Code(requested.GetCode())
	if f.Has(faults.TestingStatusUnknown) {
		code = codes.Unknown
	}
	return status.Error(code, message)
}
