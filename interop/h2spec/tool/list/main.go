// Command list prints the id of every test of the pinned h2spec, one per line, as h2spec's own
// section arguments name them (generic/1/1, http2/6.5.3/2, hpack/2.3.3/1), a tab, and the
// test's description: the default set, without h2spec's strict tests (--strict), in the order
// h2spec runs them. The http2 suite's case list in matrix.yaml is these ids with "/" → "-".
package main

import (
	"fmt"
	"strings"

	"github.com/summerwind/h2spec/generic"
	"github.com/summerwind/h2spec/hpack"
	"github.com/summerwind/h2spec/http2"
	"github.com/summerwind/h2spec/spec"
)

func main() {
	for _, g := range []*spec.TestGroup{generic.Spec(), http2.Spec(), hpack.Spec()} {
		walk(g)
	}
}

func walk(g *spec.TestGroup) {
	if g.Strict {
		return
	}
	for i, tc := range g.Tests {
		if tc.Strict {
			continue // keeps its number: h2spec numbers a group's tests strict ones included
		}
		fmt.Printf("%s/%d\t%s\n", g.ID(), i+1, strings.TrimSpace(tc.Desc))
	}
	for _, sub := range g.Groups {
		walk(sub)
	}
}
