import { status, type ServiceError } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';

/** A gRPC error to hand to a unary callback or to emit on a stream. */
export function rpcError(code: status, details: string): Partial<ServiceError> {
  return { code, details, metadata: new Metadata() };
}
