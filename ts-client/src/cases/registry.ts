import type { CaseContext } from '../context.js';
import { DISCOVERY_CASES } from './discovery.js';
import { GRPC_TESTING_CASES } from './grpc-testing.js';
import { NETRPC_CASES } from './netrpc.js';
import { SECURITY_CASES } from './security.js';
import { SEEDS_CASES } from './seeds.js';
import { TESTING_EDGES_CASES } from './testing-edges.js';

/** A case: RPCs and checks; it throws (CheckFailure or a gRPC error) to fail. */
export type CaseFn = (ctx: CaseContext) => Promise<void>;

export const CASES: ReadonlyMap<string, CaseFn> = new Map(Object.entries({ ...SEEDS_CASES, ...GRPC_TESTING_CASES, ...TESTING_EDGES_CASES, ...SECURITY_CASES, ...DISCOVERY_CASES, ...NETRPC_CASES }));
