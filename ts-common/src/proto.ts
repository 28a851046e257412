import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { loadProtosWithOptionsSync } from '@grpc/proto-loader/build/src/util.js';
import type protobuf from 'protobufjs';
import type { ProtoGrpcType as Compute } from './generated/compute.js';
import type { ProtoGrpcType as ErrorDetails } from './generated/error_details.js';
import type { ProtoGrpcType as Health } from './generated/health.js';
import type { ProtoGrpcType as HelloWorldService } from './generated/hello_world_service.js';
import type { ProtoGrpcType as Helloworld } from './generated/helloworld.js';
import type { ProtoGrpcType as Panda } from './generated/panda.js';
import type { ProtoGrpcType as Scripted } from './generated/scripted.js';
import type { ProtoGrpcType as ServerInfo } from './generated/server_info.js';
import type { ProtoGrpcType as RpcStatus } from './generated/status.js';
import type { ProtoGrpcType as Streaming } from './generated/streaming.js';
import type { ProtoGrpcType as GrpcTesting } from './generated/test.js';
import type { ProtoGrpcType as TestServer } from './generated/test_server.js';
import type { ProtoGrpcType as UserRecommend } from './generated/user_recommend.js';
import { protosDir } from './paths.js';

/** Every package of `protos/`, typed by proto-loader-gen-types. */
export type Protos = Compute &
  ErrorDetails &
  GrpcTesting &
  Health &
  HelloWorldService &
  Helloworld &
  Panda &
  RpcStatus &
  Scripted &
  ServerInfo &
  Streaming &
  TestServer &
  UserRecommend;

/** Must match the options given to proto-loader-gen-types in ts-common/gen-types.sh. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

function protoFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.proto'))
    .map((f) => relative(dir, join(dir, f)))
    .sort();
}

let cached: Protos | undefined;

/** Loads every .proto under protos/ once: the one source the TypeScript peers share. */
export function loadProtos(): Protos {
  if (!cached) {
    const dir = protosDir();
    const definition = protoLoader.loadSync(protoFiles(dir), { ...LOADER_OPTIONS, includeDirs: [dir] });
    cached = grpc.loadPackageDefinition(definition) as unknown as Protos;
  }
  return cached;
}

let cachedRoot: protobuf.Root | undefined;

/**
 * The protobufjs Root of every .proto under protos/, built by proto-loader's own loader (the
 * same files and options as loadProtos): the schema behind the stubs' serializers, for code that
 * needs the types themselves (the scripted service: rich error details, RequestInfo, walking
 * the declared fields of a message).
 */
export function protoRoot(): protobuf.Root {
  if (!cachedRoot) {
    const dir = protosDir();
    cachedRoot = loadProtosWithOptionsSync(protoFiles(dir), { ...LOADER_OPTIONS, includeDirs: [dir] });
  }
  return cachedRoot;
}
