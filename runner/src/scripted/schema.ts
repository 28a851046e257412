/**
 * The message types of the data suites, read from protos/ with protobufjs: the runner compares
 * what a client observed with what a case expects field by field, by type, so it needs the
 * schema (which fields are 64-bit, which are enums, which have explicit presence).
 */
import { isAbsolute, join } from 'node:path';
import protobuf from 'protobufjs';

const FILES = ['interop/scripted.proto', 'google/rpc/status.proto', 'google/rpc/error_details.proto'];

const roots = new Map<string, protobuf.Root>();

/** The schema of the scripted service and the rich error details, loaded once per protos folder. */
export function scriptedRoot(protosDir: string): protobuf.Root {
  let root = roots.get(protosDir);
  if (!root) {
    root = new protobuf.Root();
    // Well-known types (google/protobuf/*.proto) come from protobufjs' bundled definitions.
    root.resolvePath = (_origin, target) => (isAbsolute(target) || target.startsWith('google/protobuf/') ? target : join(protosDir, target));
    root.loadSync(FILES.map((f) => join(protosDir, f)), { keepCase: true });
    root.resolveAll();
    roots.set(protosDir, root);
  }
  return root;
}

export const SCRIPTED = 'interop.scripted';
