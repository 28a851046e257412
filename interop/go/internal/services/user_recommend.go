package services

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"interopmatrix/gen/userrecommend"
	"interopmatrix/internal/faults"
)

// maxArticles is the largest article_num a UserRequest may ask for.
const maxArticles = 1000

// userRecommend is the package-less UserRecommend service.
type userRecommend struct {
	userrecommend.UnimplementedUserRecommendServer
	faults faults.Set
}

func (u *userRecommend) UserRecommend(_ context.Context, req *userrecommend.UserRequest) (*userrecommend.UserResponse, error) {
	n, err := articleCount(req.GetArticleNum(), u.faults)
	if err != nil {
		return nil, err
	}
	return &userrecommend.UserResponse{
		Exposer:    "exposure",
		TimeStamp:  time.Now().UnixMilli(),
		Recommends: articles(n, u.faults),
	}, nil
}

// articleCount validates article_num (0..1000); the recommend-no-validation fault clamps it
// instead, and the article-limit-low fault lowers the limit to 999.
func articleCount(articleNum int32, f faults.Set) (int, error) {
	limit := int32(maxArticles)
	if f.Has(faults.ArticleLimitLow) {
		limit = maxArticles - 1
	}
	if articleNum >= 0 && articleNum <= limit {
		return int(articleNum), nil
	}
	if !f.Has(faults.RecommendNoValidation) {
		return 0, status.Errorf(codes.InvalidArgument, "article_num must be in 0..%d, got %d", limit, articleNum)
	}
	return int(min(max(articleNum, 0), limit)), nil
}

// articles returns n articles with ids 1..n and the fixed track parameters.
func articles(n int, f faults.Set) []*userrecommend.UserResponse_Article {
	list := make([]*userrecommend.UserResponse_Article, n)
	for i := range list {
		track := &userrecommend.UserResponse_Article_Track{
			Click:   "click param",
			Collect: "collect param",
			Read:    "read param",
		}
		if f.Has(faults.RecommendShareSet) {
			track.Share = "share param"
		}
		list[i] = &userrecommend.UserResponse_Article{ArticleId: int64(i + 1), Track: track}
	}
	return list
}
