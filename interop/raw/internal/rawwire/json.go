// Package rawwire is what the raw server and the raw client share: the reading of their JSON
// action lists (the actions both take, and a way to add each program's own), the writing of
// frames under one mutex with a sticky error, header blocks cut into HEADERS and CONTINUATION
// frames, and gRPC's length prefix. README.md describes the actions.
package rawwire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Members decodes one JSON object into its members, refusing anything after it.
func Members(doc []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	var m map[string]json.RawMessage
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	if m == nil {
		return nil, errors.New("not a JSON object: null")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("text after the JSON object")
	}
	return m, nil
}

// SortedKeys returns the names of the members of m, sorted.
func SortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
