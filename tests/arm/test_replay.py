"""Fidelity check: replay every recording in ``shared/conformance/arm-recordings`` and the ASO v2
recordings kept in ``tests/arm/recordings`` (see replay.py; their origin is in that folder's README).

Prints matched/total per file. Every interaction that does not match must be listed in
KNOWN_DIFFERENCES with the reason the difference is acceptable (also in the emulator README).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aso.testing.arm import ArmEmulatorHandle

from .conftest import REPLAY_RESULTS
from .replay import Replayer

RECORDINGS = Path(__file__).parents[2] / ".." / "shared" / "conformance" / "arm-recordings"
# Further public ASO v2 recordings of the same resource types, kept with the tests.
OWN_RECORDINGS = Path(__file__).parent / "recordings"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"

# file -> {interaction index: why the emulator answers differently, and why that is fine}
KNOWN_DIFFERENCES: dict[str, dict[int, str]] = {
    "Test_Storage_StorageAccount_20230101_CRUD": {
        2: "Creating a storage account answers 202 + Location (as recorded in Test_SQL_Server_CRUD, and as "
        "Azure documents it); this recording got a synchronous 200, most likely because the account "
        "already existed from an earlier run. Clients that handle one handle both.",
    },
    "Test_Storage_StorageAccount_CRUD": {
        5: "Recorded in 2022: a new account then left allowBlobPublicAccess, allowCrossTenantReplication "
        "and minimumTlsVersion unset unless sent. Azure has since made them secure defaults for new "
        "accounts whatever the API version (Test_SQL_Server_CRUD shows them at the same 2021-04-01); "
        "the emulator answers as Azure does today.",
        9: "Recorded in 2022: queue services then reported no logging settings; today's answer "
        "(Test_Storage_StorageAccount_20230101_CRUD) has them.",
    },
    "Test_Storage_Samples_CreationAndDeletion": dict.fromkeys(
        (5, 16),
        "Recorded in 2022: new accounts then left allowBlobPublicAccess, allowCrossTenantReplication "
        "and minimumTlsVersion unset, as in Test_Storage_StorageAccount_CRUD #5; the emulator answers "
        "with today's defaults.",
    ),
    "Test_Storage_StorageAccount_20220901_CRUD": {
        5: "Recorded in 2023 at 2022-09-01, before Azure's secure defaults for new accounts: the account "
        "then had no allowCrossTenantReplication (and allowed public blob access over TLS 1.0). The "
        "emulator answers with today's defaults, as for Test_Storage_StorageAccount_CRUD #5.",
        **dict.fromkeys(
            (35, 36, 37, 38),
            "Deleting a service of an account whose group is gone: Azure answered 404 "
            "ParentResourceNotFound here and 404 ResourceGroupNotFound to the same request in "
            "Test_SQL_Server_CRUD #144 and #148; the emulator answers the latter (the status, which "
            "clients act on, is the same).",
        ),
    },
    "Test_CosmosDB_MongoDatabase_CRUD": dict.fromkeys(
        (5, 6, 14, 15),
        "Recorded in 2023: a MongoDB account then had no sqlEndpoint. The same test recorded again "
        "in 2025 at the same API version 2021-05-15 (commit 0f627d813bb533b280284604678bc66f8a1988bf "
        "of the cassette, interaction 2) shows sqlEndpoint beside mongoEndpoint; the emulator answers "
        "as Azure does today.",
    ),
    "Test_SQL_Server_FailoverGroup_CRUD": dict.fromkeys(
        (7, 8, 10, 11),
        "Recorded in 2023: a new server then had no minimalTlsVersion unless sent. Test_SQL_Server_CRUD "
        "(recorded in 2025 at the same API version 2021-11-01) shows minimalTlsVersion 1.2 on a new "
        "server; the emulator answers as Azure does today.",
    ),
    "Test_AzureName_IsMutableIfNotSuccessfullyCreated": {
        5: "Recorded in 2022: a new account then left allowBlobPublicAccess, allowCrossTenantReplication "
        "and minimumTlsVersion unset, as in Test_Storage_StorageAccount_CRUD #5; the emulator answers "
        "with today's defaults.",
        **dict.fromkeys(
            (9, 10, 11, 12),
            "Timing: the recorded client read the group while Azure was still deleting it (200, "
            "provisioningState Deleting, which the emulator also answers while a group's delete runs: "
            "test_resource_groups.py) instead of polling the operation. The emulator has no clock and "
            "the replay follows every operation to its end before the next request, so the group is "
            "already gone (404, as the recording's last read, #13).",
        ),
    },
    "Test_Cache_Redis_20241101_CRUD": {
        **dict.fromkeys(
            (24, 25, 26, 27, 28),
            "Aftermath of a transient failure: the two access policies were sent together (#15, #16); "
            "the second's operation ended Failed (#23, reproduced with fault injection) and Azure then "
            "refused its retries with the cache's busy 409 for a few seconds, although nothing the "
            "client had started was running on the cache except the assignment's operation (#21), "
            "which went on running while the same PUT was accepted at #29. No state explains the "
            "refusal, and a 409 is never injected; the emulator accepts the retry.",
        ),
        **dict.fromkeys(
            (83, 84, 85),
            "Timing: Azure's unlinking after the link's delete is clock-based. Here the secondary cache "
            "was Unlinking for 12 requests (#70-#83), in Test_Cache_Redis_20230801_CRUD for 10 (#40-#54), "
            "which the profile's after_delete reproduces; so the emulator's unlinking ends one request "
            "earlier and the retried delete (#83) is accepted, the next read (#84) finds the cache gone "
            "and the last delete (#85) answers 204.",
        ),
        93: "Timing: reading a patch schedule just after the group's delete ended, the request still "
        "reached the Redis provider, which answered ResourceNotFound naming the cache; in "
        "Test_Cache_Redis_20230801_CRUD #83 the same read got ARM's ResourceGroupNotFound, which the "
        "emulator answers (the status, which clients act on, is the same).",
    },
    "Test_SQL_Server_CRUD": {
        88: "Azure SQL answered this 404 (outbound firewall rule gone) with an empty body; the emulator "
        "answers every 404 with an ARM error body (ResourceNotFound). The status, which clients act on, "
        "is the same.",
    },
}


def _files() -> list[Path]:
    files = sorted(RECORDINGS.glob("*.json"))
    assert files, f"no recordings under {RECORDINGS.resolve()}"
    return files + sorted(OWN_RECORDINGS.glob("*.json"))


@pytest.mark.parametrize("recording", _files(), ids=lambda p: p.stem)
def test_replay(recording: Path, arm_emulator: ArmEmulatorHandle, capsys: pytest.CaptureFixture[str]) -> None:
    arm_emulator.control.add_subscription(SUBSCRIPTION, principals=[arm_emulator.client_id])
    result = Replayer(arm_emulator, SUBSCRIPTION).run(recording)
    REPLAY_RESULTS.append(result)
    with capsys.disabled():
        print(
            f"\n[arm replay] {result.name}: matched {result.matched}/{result.total} "
            f"({result.operations} long-running operations followed to their end; "
            f"{result.injected} transient Azure failures reproduced with fault injection)"
        )
        for index, problems in result.mismatches().items():
            print(f"    #{index}: {'; '.join(problems)}")
    known = KNOWN_DIFFERENCES.get(recording.stem, {})
    unexpected = {i: p for i, p in result.mismatches().items() if i not in known}
    assert not unexpected, f"unexpected differences from the recording: {unexpected}"
    # A known difference that is gone (the emulator learned it) leaves the list, so it never hides one.
    healed = sorted(set(known) - set(result.mismatches()))
    assert not healed, f"interactions {healed} match now: remove them from KNOWN_DIFFERENCES"
