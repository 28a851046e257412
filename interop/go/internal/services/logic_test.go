package services

import (
	"math"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"interopmatrix/internal/faults"
)

func set(names ...faults.Name) faults.Set {
	s := faults.Set{}
	for _, n := range names {
		s[n] = true
	}
	return s
}

func TestLengthCountsCodePoints(t *testing.T) {
	for _, tc := range []struct {
		text                       string
		codePoints, utf16, utf8len int
	}{
		{"", 0, 0, 0},
		{"123456", 6, 6, 6},
		{"你好😈", 3, 4, 10},
		{"世界🌏", 3, 4, 10},
		{"é", 1, 1, 2},
	} {
		if got := length(tc.text, nil); got != tc.codePoints {
			t.Errorf("length(%q) = %d, want %d code points", tc.text, got, tc.codePoints)
		}
		if got := length(tc.text, set(faults.LengthUTF16)); got != tc.utf16 {
			t.Errorf("length-utf16: length(%q) = %d, want %d", tc.text, got, tc.utf16)
		}
		if got := length(tc.text, set(faults.LengthBytes)); got != tc.utf8len {
			t.Errorf("length-bytes: length(%q) = %d, want %d", tc.text, got, tc.utf8len)
		}
	}
}

func TestIncrementIsExact(t *testing.T) {
	for _, tc := range []struct{ arg, want int64 }{
		{123, 124},
		{-1, 0},
		{9007199254740993, 9007199254740994},
		{math.MinInt64, math.MinInt64 + 1},
		{math.MaxInt64 - 1, math.MaxInt64},
	} {
		if got, err := increment(tc.arg, nil); err != nil || got != tc.want {
			t.Errorf("increment(%d) = %d, %v; want %d", tc.arg, got, err, tc.want)
		}
	}
}

func TestIncrementOverflowIsOutOfRange(t *testing.T) {
	for _, f := range []faults.Set{nil, set(faults.PandaFloat64)} {
		_, err := increment(math.MaxInt64, f)
		if s := status.Convert(err); s.Code() != codes.OutOfRange || !strings.Contains(s.Message(), "overflow") {
			t.Errorf("faults %q: increment(MaxInt64) error = %v, want OUT_OF_RANGE mentioning overflow", f, err)
		}
	}
}

func TestPandaFloat64FaultLosesPrecision(t *testing.T) {
	f := set(faults.PandaFloat64)
	if got, _ := increment(123, f); got != 124 {
		t.Errorf("panda-float64: increment(123) = %d, want 124 (small numbers stay right)", got)
	}
	for _, arg := range []int64{9007199254740993, math.MinInt64} {
		if got, _ := increment(arg, f); got == arg+1 {
			t.Errorf("panda-float64: increment(%d) = %d, exact; the fault must lose precision", arg, got)
		}
	}
}

func TestArticleCountValidation(t *testing.T) {
	for _, n := range []int32{0, 1, 10, 1000} {
		if got, err := articleCount(n, nil); err != nil || got != int(n) {
			t.Errorf("articleCount(%d) = %d, %v", n, got, err)
		}
	}
	for _, n := range []int32{-1, 1001, math.MinInt32, math.MaxInt32} {
		_, err := articleCount(n, nil)
		if s := status.Convert(err); s.Code() != codes.InvalidArgument || !strings.Contains(s.Message(), "article_num") {
			t.Errorf("articleCount(%d) error = %v, want INVALID_ARGUMENT naming article_num", n, err)
		}
	}
}

func TestRecommendNoValidationClamps(t *testing.T) {
	f := set(faults.RecommendNoValidation)
	for _, tc := range []struct {
		n    int32
		want int
	}{{-1, 0}, {math.MinInt32, 0}, {1001, 1000}, {10, 10}} {
		if got, err := articleCount(tc.n, f); err != nil || got != tc.want {
			t.Errorf("recommend-no-validation: articleCount(%d) = %d, %v; want %d, nil", tc.n, got, err, tc.want)
		}
	}
}

func TestArticles(t *testing.T) {
	list := articles(3, nil)
	for i, a := range list {
		track := a.GetTrack()
		if a.GetArticleId() != int64(i+1) || track.GetClick() != "click param" || track.GetCollect() != "collect param" ||
			track.GetRead() != "read param" || track.GetShare() != "" {
			t.Errorf("article %d = %v", i, a)
		}
	}
	if len(list) != 3 {
		t.Errorf("articles(3) has %d articles", len(list))
	}
	if got := articles(1, set(faults.RecommendShareSet))[0].GetTrack().GetShare(); got != "share param" {
		t.Errorf("recommend-share-set: share = %q", got)
	}
}

func TestReplyCountBounds(t *testing.T) {
	for _, tc := range []struct {
		fault  faults.Name // "" for a correct server
		accept []int32
		reject []int32
	}{
		{"", []int32{0, 5, 9999, 10000}, []int32{-1, 10001, math.MaxInt32}},
		{faults.CountLimitLow, []int32{0, 9999}, []int32{-1, 10000, 10001}},
		{faults.CountLimitNone, []int32{0, 10000, 10001, math.MaxInt32}, []int32{-1, math.MinInt32}},
	} {
		f := set()
		if tc.fault != "" {
			f = set(tc.fault)
		}
		for _, count := range tc.accept {
			if got, err := replyCount(count, f); err != nil || got != count {
				t.Errorf("faults %q: replyCount(%d) = %d, %v; want %d, nil", f, count, got, err, count)
			}
		}
		for _, count := range tc.reject {
			_, err := replyCount(count, f)
			if s := status.Convert(err); s.Code() != codes.InvalidArgument || !strings.Contains(s.Message(), "count") {
				t.Errorf("faults %q: replyCount(%d) error = %v, want INVALID_ARGUMENT naming count", f, count, err)
			}
		}
	}
}

func TestStreamTruncateSendsOneReplyFewer(t *testing.T) {
	for count, want := range map[int32]int32{0: 0, 1: 0, 5: 4, 10000: 9999} {
		if got, err := replyCount(count, set(faults.StreamTruncate)); err != nil || got != want {
			t.Errorf("stream-truncate: replyCount(%d) = %d, %v; want %d", count, got, err, want)
		}
	}
}

func TestArticleLimitLowRejects1000(t *testing.T) {
	f := set(faults.ArticleLimitLow)
	if got, err := articleCount(999, f); err != nil || got != 999 {
		t.Errorf("article-limit-low: articleCount(999) = %d, %v; want 999", got, err)
	}
	for _, n := range []int32{1000, 1001, -1} {
		_, err := articleCount(n, f)
		if s := status.Convert(err); s.Code() != codes.InvalidArgument || !strings.Contains(s.Message(), "article_num") {
			t.Errorf("article-limit-low: articleCount(%d) error = %v, want INVALID_ARGUMENT naming article_num", n, err)
		}
	}
}
