/**
 * A server reflection client (grpc.reflection.v1 and v1alpha) over the .proto files grpc-js's
 * reflection package ships, @grpc/reflection, loaded with proto-loader like ours; a
 * FileDescriptorProto of a response decoded with protobufjs's own descriptor.proto.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import descriptor, { type IFileDescriptorProto } from 'protobufjs/ext/descriptor/index.js';
import { LOADER_OPTIONS } from '../../ts-common/src/proto.js';

export type ReflectionVersion = 'v1' | 'v1alpha';

/** ServerReflectionRequest, as far as the cases use it (proto-loader, keepCase). */
export interface ReflectionRequest {
  host?: string;
  list_services?: string;
  file_containing_symbol?: string;
}

/** ServerReflectionResponse as proto-loader decodes it (keepCase, oneofs: the set member's name). */
export interface ReflectionResponse {
  message_response?: 'file_descriptor_response' | 'all_extension_numbers_response' | 'list_services_response' | 'error_response';
  file_descriptor_response?: { file_descriptor_proto: Buffer[] } | null;
  list_services_response?: { service: Array<{ name: string }> } | null;
  error_response?: { error_code: number; error_message: string } | null;
}

export interface ReflectionClient extends grpc.Client {
  ServerReflectionInfo(options?: grpc.CallOptions): grpc.ClientDuplexStream<ReflectionRequest, ReflectionResponse>;
}

type ReflectionClientConstructor = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => ReflectionClient;

let stubs: Record<ReflectionVersion, ReflectionClientConstructor> | undefined;

/** The ServerReflection stub of `version`, from the protos inside @grpc/reflection (loaded once). */
export function reflectionStub(version: ReflectionVersion): ReflectionClientConstructor {
  if (!stubs) {
    const dir = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection/package.json')), 'build', 'proto');
    const files = ['grpc/reflection/v1/reflection.proto', 'grpc/reflection/v1alpha/reflection.proto'];
    const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(files, { ...LOADER_OPTIONS, includeDirs: [dir] })) as unknown as {
      grpc: { reflection: Record<ReflectionVersion, { ServerReflection: ReflectionClientConstructor }> };
    };
    stubs = { v1: loaded.grpc.reflection.v1.ServerReflection, v1alpha: loaded.grpc.reflection.v1alpha.ServerReflection };
  }
  return stubs[version];
}

/** A serialized google.protobuf.FileDescriptorProto (protobufjs field names: camelCase). */
export const decodeFileDescriptor = (bytes: Uint8Array): IFileDescriptorProto => descriptor.FileDescriptorProto.decode(bytes) as IFileDescriptorProto;
