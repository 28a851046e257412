import type * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { loadPackageDefinition } from '../../../ts-common/src/proto.js';
import type { Faults } from '../faults.js';

/**
 * Server reflection (grpc.reflection.v1 and v1alpha) through grpc-js's own package,
 * @grpc/reflection, over the package definition the services are loaded from: every file of
 * protos/. Under reflection-incomplete, over the same files but interop/scripted.proto (nothing
 * imports it), as if Scripted had not been registered with reflection: it is not listed, and
 * every symbol of interop.scripted is NOT_FOUND. Scripted itself is served either way.
 *
 * @grpc/reflection registers its services with the @grpc/grpc-js it resolves itself; for the
 * peers built against an older grpc-js, scripts/ts-version.mjs puts a copy of the package beside
 * that release, so that reflection too is served by the server's own grpc-js.
 */
export function addReflection(server: Pick<grpc.Server, 'addService'>, faults: Faults): void {
  const definition = faults.has('reflection-incomplete') ? loadPackageDefinition(['interop/scripted.proto']) : loadPackageDefinition();
  new ReflectionService(definition).addToServer(server);
}
