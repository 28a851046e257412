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

const definitions = new Map<string, protoLoader.PackageDefinition>();

/**
 * proto-loader's package definition of every .proto under protos/ but the files `without`
 * (paths relative to protos/, e.g. `interop/scripted.proto`), loaded once per list. Every entry
 * carries the file descriptors of all the files loaded (what server reflection describes).
 */
export function loadPackageDefinition(without: readonly string[] = []): protoLoader.PackageDefinition {
  const key = [...without].sort().join('\n');
  let definition = definitions.get(key);
  if (!definition) {
    const dir = protosDir();
    const files = protoFiles(dir).filter((f) => !without.includes(f));
    definition = protoLoader.loadSync(files, { ...LOADER_OPTIONS, includeDirs: [dir] });
    definitions.set(key, definition);
  }
  return definition;
}

let cached: Protos | undefined;

/** Loads every .proto under protos/ once: the one source the TypeScript peers share. */
export function loadProtos(): Protos {
  cached ??= grpc.loadPackageDefinition(loadPackageDefinition()) as unknown as Protos;
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
