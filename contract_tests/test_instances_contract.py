"""Registering a real server (instances helper, issue 13): SimplyAddInstance and DeleteInstance
only succeed against a server the target can reach, so this suite brings a private MariaDB and
drives both to success on an emulator target (the real service cannot reach it)."""

from __future__ import annotations

import pytest
from alibabacloud_dms_enterprise20181101 import models as dm
from alibabacloud_dms_enterprise20181101.client import Client as Dms

from contract_tests.seeds import config
from emulator.testing.dbservers import MariaDBServer, mariadb_server  # noqa: F401


def test_instance_registration_round_trip(target, mariadb_server: MariaDBServer) -> None:  # noqa: F811
    if not (target.control and target.mutations):
        pytest.skip("registers a private server: an emulator target with --allow-mutations")
    client = Dms(config(target))
    added = client.simply_add_instance(
        dm.SimplyAddInstanceRequest(
            host="127.0.0.1",
            port=mariadb_server.port,
            database_user=mariadb_server.user,
            database_password=mariadb_server.password,
        )
    ).body
    assert added.success, added.to_map()
    target.covered.add("sdk:SimplyAddInstance")
    got = client.get_instance(dm.GetInstanceRequest(host="127.0.0.1", port=mariadb_server.port))
    assert got.body.instance.instance_id == added.instance.instance_id
    gone = client.delete_instance(
        dm.DeleteInstanceRequest(host="127.0.0.1", port=mariadb_server.port)
    ).body
    assert gone.success, gone.to_map()
    target.covered.add("sdk:DeleteInstance")
