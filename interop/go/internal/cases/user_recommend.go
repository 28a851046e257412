package cases

import (
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"interopmatrix/gen/userrecommend"
)

// maxClockSkew is how far the server's time_stamp may be from the client's clock.
const maxClockSkew = 5 * time.Minute

// userRecommend: ten articles with their tracks, none, and article_num out of range on both sides.
func userRecommend(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		client := userrecommend.NewUserRecommendClient(conn)
		reply, err := recommend(t, client, 10)
		if err != nil {
			return err
		}
		if err := checkRecommends(recommendCall(10), reply); err != nil {
			return err
		}
		if _, err := recommend(t, client, 0); err != nil {
			return err
		}
		for _, n := range []int32{-1, 1001} {
			_, err := invoke(t, client.UserRecommend, recommendRequest(n))
			if err := expectStatus(recommendCall(n), err, codes.InvalidArgument, "article_num"); err != nil {
				return err
			}
		}
		return nil
	})
}

// recommend asks for n articles and checks the exposer and the number of articles.
func recommend(t Target, client userrecommend.UserRecommendClient, n int32) (*userrecommend.UserResponse, error) {
	call := recommendCall(n)
	reply, err := invoke(t, client.UserRecommend, recommendRequest(n))
	if err != nil {
		return nil, failed(call, err)
	}
	if err := expect(call+": exposer", "exposure", reply.GetExposer()); err != nil {
		return nil, err
	}
	if err := expect(call+": number of recommends", int(n), len(reply.GetRecommends())); err != nil {
		return nil, err
	}
	return reply, nil
}

// checkRecommends checks the server's time stamp and every article.
func checkRecommends(call string, reply *userrecommend.UserResponse) error {
	if skew := time.Since(time.UnixMilli(reply.GetTimeStamp())).Abs(); skew > maxClockSkew {
		return fmt.Errorf("%s: expected time_stamp within %v of the client's clock, got %d (%v off)", call, maxClockSkew, reply.GetTimeStamp(), skew)
	}
	for i, article := range reply.GetRecommends() {
		if err := checkArticle(fmt.Sprintf("%s: recommends[%d]", call, i), int64(i+1), article); err != nil {
			return err
		}
	}
	return nil
}

func checkArticle(path string, id int64, article *userrecommend.UserResponse_Article) error {
	if err := expect(path+".article_id", id, article.GetArticleId()); err != nil {
		return err
	}
	track := article.GetTrack()
	if track == nil {
		return fmt.Errorf("%s: expected a track, got none", path)
	}
	for _, field := range []struct{ name, want, got string }{
		{"click", "click param", track.GetClick()},
		{"collect", "collect param", track.GetCollect()},
		{"read", "read param", track.GetRead()},
		{"share", "", track.GetShare()},
	} {
		if err := expect(path+".track."+field.name, field.want, field.got); err != nil {
			return err
		}
	}
	return nil
}

func recommendRequest(articleNum int32) *userrecommend.UserRequest {
	return &userrecommend.UserRequest{UserId: 1, ChannelId: 1, ArticleNum: articleNum, TimeStamp: time.Now().UnixMilli()}
}

func recommendCall(articleNum int32) string {
	return fmt.Sprintf("UserRecommend(article_num=%d)", articleNum)
}
