package services

import (
	"errors"
	"io"
)

// eachRequest calls f with every message the client sends, in order, until the client
// half-closes (io.EOF, which is not an error); a receive error or an error from f ends it.
func eachRequest[Req any](recv func() (*Req, error), f func(*Req) error) error {
	for {
		req, err := recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := f(req); err != nil {
			return err
		}
	}
}
