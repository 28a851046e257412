package cases

import (
	"fmt"

	"google.golang.org/grpc"

	"interopmatrix/gen/userrecommend"
)

// maxArticles is the largest article_num a UserRecommend request may ask for.
const maxArticles = 1000

// userRecommendMaxArticles: the boundary of UserRecommend. article_num:1000 → exactly 1000
// articles, article i (0-based) with article_id i+1.
func userRecommendMaxArticles(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		call := recommendCall(maxArticles)
		reply, err := invoke(t, userrecommend.NewUserRecommendClient(conn).UserRecommend, recommendRequest(maxArticles))
		if err != nil {
			return failed(call, err)
		}
		if err := expect(call+": number of recommends", maxArticles, len(reply.GetRecommends())); err != nil {
			return err
		}
		for i, article := range reply.GetRecommends() {
			if err := expect(fmt.Sprintf("%s: recommends[%d].article_id", call, i), int64(i+1), article.GetArticleId()); err != nil {
				return err
			}
		}
		return nil
	})
}
