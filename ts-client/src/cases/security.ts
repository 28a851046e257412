import { status } from '@grpc/grpc-js';
import { expectStatus, expectThat } from '../check.js';
import { unary } from '../rpc.js';
import type { CaseFn } from './registry.js';

/** The `security` suite: over mtls, a client that presents no certificate must be turned away. */
const mtlsClientWithoutCertificate: CaseFn = async (ctx) => {
  const tls = ctx.target.tls;
  expectThat('mtls_client_without_certificate', tls !== undefined, 'needs --use_tls=true (run it over the mtls transport)');
  const { cert: _cert, key: _key, ...withoutCertificate } = tls!;
  // Self-test: --client_fault=with-certificate presents the certificate after all, so the call must succeed and the case fail.
  const presented = ctx.target.clientFault === 'with-certificate' ? tls : withoutCertificate;
  const client = ctx.client(ctx.protos.grpc.testing.TestService, {}, ctx.address, presented);
  await expectStatus('EmptyCall over TLS without a client certificate', unary((cb) => client.EmptyCall({}, ctx.deadline(), cb)), status.UNAVAILABLE);
};

export const SECURITY_CASES: Record<string, CaseFn> = {
  mtls_client_without_certificate: mtlsClientWithoutCertificate,
};
