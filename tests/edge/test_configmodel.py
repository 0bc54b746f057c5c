"""edge/configmodel.py: the checks several settings models share refuse what they should."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from edge.configmodel import WebListenerSettings
from sync.settings import BrokerSettings, SyncSettings, TlsSettings


@pytest.mark.parametrize(
    ("build", "problem"),
    [
        (lambda: WebListenerSettings(tls_key="/c.key"), "tls_cert and tls_key go together"),
        (lambda: TlsSettings(cert_file="/c.crt"), "cert_file and key_file go together"),
        (
            lambda: BrokerSettings(reconnect_min_s=30, reconnect_max_s=10),
            "reconnect_max_s must be at least reconnect_min_s",
        ),
        (
            lambda: SyncSettings(
                downlink_signers=["office-1"], ack_timeout_s=120, ack_timeout_max_s=60
            ),
            "ack_timeout_max_s must be at least ack_timeout_s",
        ),
    ],
)
def test_shared_checks_refuse_a_lone_half_or_bounds_the_wrong_way_round(
    build: Callable[[], object], problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        build()


def test_shared_checks_accept_a_whole_pair_and_equal_bounds() -> None:
    tls = TlsSettings(cert_file="/c.crt", key_file="/c.key")
    broker = BrokerSettings(reconnect_min_s=10, reconnect_max_s=10)
    assert (tls.cert_file, tls.key_file) == (Path("/c.crt"), Path("/c.key"))
    assert broker.reconnect_max_s == broker.reconnect_min_s == 10
