"""The `security` suite (mtls only): a client that presents no certificate must be turned away."""

from __future__ import annotations

from functools import partial

import grpc

from .cases import Peer, case
from .checks import CaseFailure, expect_failure
from .protos import empty_pb2, test_pb2_grpc


@case
def mtls_client_without_certificate(peer: Peer) -> None:
    if peer.credentials is None or peer.credentials_without_certificate is None:
        raise CaseFailure("mtls_client_without_certificate: needs --use_tls=true (run it over the mtls transport)")
    # Self-test: --client_fault=with-certificate presents the certificate after all, so the call succeeds.
    credentials = peer.credentials if peer.with_certificate else peer.credentials_without_certificate
    options = [("grpc.enable_http_proxy", 0), *peer.tls_options]
    with grpc.secure_channel(peer.target, credentials, options=options) as channel:
        call = partial(test_pb2_grpc.TestServiceStub(channel).EmptyCall, empty_pb2.Empty(), timeout=peer.timeout)
        expect_failure("EmptyCall over TLS without a client certificate", call, grpc.StatusCode.UNAVAILABLE)
