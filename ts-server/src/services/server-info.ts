import type { ServerInfoHandlers } from '../../../ts-common/src/generated/interop/ServerInfo.js';
import type { ServerInfoReply } from '../../../ts-common/src/generated/interop/ServerInfoReply.js';
import { grpcJsVersion } from '../../../ts-common/src/grpc-compat.js';
import type { Faults } from '../faults.js';

/** The version of @grpc/grpc-js this process actually loaded. */
export { grpcJsVersion };

export function serverInfo(faults: Faults): ServerInfoReply {
  const version = faults.has('version-wrong') ? '0.0.0-fault' : grpcJsVersion();
  return { language: 'typescript', implementation: 'grpc-js', version, pid: process.pid };
}

/** interop.ServerInfo: which library serves, and which process answered. */
export function serverInfoHandlers(faults: Faults): ServerInfoHandlers {
  return {
    GetInfo(_call, callback) {
      callback(null, serverInfo(faults));
    },
  };
}
