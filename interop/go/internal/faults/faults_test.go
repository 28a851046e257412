package faults

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		list string
		want []Name
	}{
		{"", nil},
		{"again-wrong", []Name{AgainWrong}},
		{"panda-float64,single-worker", []Name{PandaFloat64, SingleWorker}},
		{"panda-float64,panda-float64", []Name{PandaFloat64}},
	} {
		got, err := Parse(tc.list)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.list, err)
		}
		if len(got) != len(tc.want) {
			t.Errorf("Parse(%q) = %v, want %v", tc.list, got, tc.want)
		}
		for _, n := range tc.want {
			if !got.Has(n) {
				t.Errorf("Parse(%q) lacks %s", tc.list, n)
			}
		}
	}
}

func TestParseRejectsUnknownNames(t *testing.T) {
	for _, list := range []string{"nope", "again-wrong,nope", "again-wrong,", ",", "Again-Wrong", " again-wrong"} {
		_, err := Parse(list)
		if err == nil {
			t.Errorf("Parse(%q) accepted an unknown fault", list)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q): error is not one line: %q", list, err)
		}
	}
}

func TestAllSixtyThreeFaultsRoundTrip(t *testing.T) {
	if len(All) != 63 {
		t.Fatalf("the contract has 63 faults (23 seeds and discovery, 11 grpc.testing, 3 testing-edges, 26 scripted), All has %d", len(All))
	}
	all := Set{}
	for _, n := range All {
		all[n] = true
	}
	back, err := Parse(all.String())
	if err != nil || len(back) != 63 {
		t.Fatalf("Parse(%q) = %v, %v", all.String(), back, err)
	}
	if got := (Set{}).String(); got != "" {
		t.Errorf("empty set renders as %q", got)
	}
}

func TestNamesAreTheContractsExactly(t *testing.T) {
	want := "greeting-punctuation,again-wrong,service-wrong,length-utf16,length-bytes," +
		"recommend-share-set,recommend-no-validation,random-constant,panda-float64," +
		"stream-truncate,greetings-reversed,bidi-buffered,unary-every-10th-unavailable,single-worker," +
		"count-limit-low,count-limit-none,article-limit-low,health-serving-any,version-wrong," +
		"reflection-incomplete,health-watch-silent,health-services-not-serving,health-watch-no-updates," +
		"testing-empty-payload,testing-aggregate-off,testing-stream-drop-last,testing-duplex-buffered," +
		"testing-duplex-extra,testing-no-echo-metadata,testing-status-ignored,testing-status-message-trimmed," +
		"testing-implement-everything,testing-empty-call-error,testing-compression-unchecked," +
		"testing-status-unknown,testing-stream-status-ok,testing-interval-ignored," +
		"scripted-status-unknown,scripted-message-mangled,scripted-details-dropped,scripted-trailers-as-headers," +
		"scripted-headers-dropped,scripted-metadata-joined,scripted-int64-double,scripted-enum-shifted," +
		"scripted-map-keys-off,scripted-floats-flushed,scripted-bytes-truncated,scripted-strings-truncated," +
		"scripted-presence-lost,scripted-repeated-truncated,scripted-replies-drop-last,scripted-request-info-empty," +
		"scripted-peer-ipv4,scripted-authority-dropped,scripted-read-all,scripted-delay-ignored,scripted-unknown-dropped,scripted-limits-ignored," +
		"scripted-lifecycle-ignored,scripted-cancel-ignored,scripted-second-host-ignored,scripted-shutdown-abrupt"
	if got := join(All, ","); got != want {
		t.Errorf("All = %s\nwant  %s", got, want)
	}
}
