import { status } from '@grpc/grpc-js';
import type { UserRecommendHandlers } from '../../../ts-common/src/generated/UserRecommend.js';
import type { UserResponse } from '../../../ts-common/src/generated/UserResponse.js';
import type { Faults } from '../faults.js';
import { rpcError } from '../status.js';

export const MAX_ARTICLES = 1000;

/** The recommendation of seed 003, or an error message naming the bad field. */
export function recommend(articleNum: number, nowMs: number, faults: Faults): UserResponse | string {
  const limit = faults.has('article-limit-low') ? MAX_ARTICLES - 1 : MAX_ARTICLES;
  let n = articleNum;
  if (n < 0 || n > limit) {
    if (!faults.has('recommend-no-validation')) return `article_num must be in 0..${limit}, got ${n}`;
    n = Math.min(Math.max(n, 0), limit);
  }
  const share = faults.has('recommend-share-set') ? { share: 'share param' } : {};
  return {
    exposer: 'exposure',
    time_stamp: String(nowMs),
    recommends: Array.from({ length: n }, (_, i) => ({
      article_id: String(i + 1),
      track: { click: 'click param', collect: 'collect param', read: 'read param', ...share },
    })),
  };
}

/** UserRecommend (seed 003, package-less). */
export function userRecommendHandlers(faults: Faults): UserRecommendHandlers {
  return {
    UserRecommend(call, callback) {
      const result = recommend(call.request.article_num, Date.now(), faults);
      if (typeof result === 'string') callback(rpcError(status.INVALID_ARGUMENT, result));
      else callback(null, result);
    },
  };
}
