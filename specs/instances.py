"""Catalogue entries for registering instances at run time (RegisterInstance, AddInstance, ...); merged by `specs.build.dms_actions`."""

from __future__ import annotations

from typing import Any

from specs.build import BOOL, ID, NOTHING, PORT, RLU, STR, TID, enum, obj, p

# what the emulator checks before it connects (a host name or an IP address)
HOST = {"type": "string", "pattern": "^[A-Za-z0-9_:][A-Za-z0-9_.:-]{0,252}$", "maxLength": 253}
TIMEOUT = {"type": "integer", "format": "int64", "minimum": 1, "maximum": 86400}
INSTANCE_TYPES = ["MySQL", "MariaDB", "PolarDB", "PostgreSQL"]
SOURCES = ["PUBLIC_OWN", "RDS", "ECS_OWN", "VPC_IDC"]
ENV_TYPES = ["product", "dev", "pre", "test", "sit", "uat", "pet", "stag"]


def text(n: int, required: bool = False) -> dict[str, Any]:
    return {"type": "string", "maxLength": n, **({"minLength": 1} if required else {})}


def registration(dba: str, dba_required: bool) -> list[dict[str, Any]]:
    """RegisterInstance/AddInstance: the SDK marks these required (conditional ones optional)."""
    return [
        TID,
        p("Host", HOST, True),
        p("Port", PORT, True),
        p("DatabaseUser", text(128, True), True),
        p("DatabasePassword", text(256, True), True),
        p("InstanceType", enum(INSTANCE_TYPES), True),
        p("InstanceAlias", text(256, True), True),
        p("InstanceSource", enum(SOURCES), True),
        p("NetworkType", enum(["CLASSIC", "VPC"]), True),
        p("EnvType", enum(ENV_TYPES), True),
        p("QueryTimeout", TIMEOUT, True),
        p("ExportTimeout", TIMEOUT, True),
        p("SafeRule", text(128, True), True),
        p(dba, ID, dba_required),
        p("SkipTest", BOOL, desc="Register without testing the connection."),
        p("Sid", text(128)),
        p("EcsRegion", text(128)),
        p("EcsInstanceId", text(128)),
        p("VpcId", text(128)),
        p("DataLinkName", text(64)),
        p("DdlOnline", {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2}),
        p("UseDsql", {"type": "integer", "format": "int64", "minimum": 0, "maximum": 1}),
        p("TemplateId", {"type": "integer", "format": "int64", "minimum": 0}),
        p("TemplateType", text(128)),
        p("EnableSellSitd", text(16)),
    ]


ACTIONS: dict[str, tuple[str, list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]] = {
    "RegisterInstance": (
        "Registers a MySQL/MariaDB/PostgreSQL server as an instance of the tenant (ADMIN, DBA); "
        "its databases become DMS databases. The answer has no instance id: call GetInstance.",
        [
            *registration("DbaUid", True),
            p("DbaUidByString", text(64)),
            p("ResourceGroup", text(128)),
        ],
        [],
        NOTHING,
    ),
    "AddInstance": (
        "Adds a MySQL/MariaDB/PostgreSQL server as an instance of the tenant (ADMIN, DBA).",
        [
            *registration("DbaId", False),
            p("EnableSellCommon", text(16)),
            p("EnableSellStable", text(16)),
            p("EnableSellTrust", text(16)),
            p("RoleArn", text(256)),
            p("UseSsl", {"type": "integer", "format": "int64", "minimum": 0, "maximum": 1}),
        ],
        [],
        NOTHING,
    ),
    "SimplyAddInstance": (
        "Adds a server by host, port and account; the engine is told by the server itself.",
        [
            p("Host", HOST, True, desc="Required by the emulator (it cannot resolve InstanceId)."),
            p("Port", PORT, True),
            p("DatabaseUser", text(128, True), True),
            p("DatabasePassword", text(256, True), True),
            p("InstanceId", text(128)),
            p("InstanceRegion", text(64)),
            RLU,
        ],
        [],
        {"Instance": obj({"Host": STR, "InstanceId": STR, "Port": STR})},
    ),
    "SyncInstanceMeta": (
        "Reads the instance's databases again from the server (ADMIN, DBA).",
        [TID, p("InstanceId", text(64, True), True), p("IgnoreTable", BOOL)],
        [],
        NOTHING,
    ),
    "DeleteInstance": (
        "Removes a registered instance and its databases from the tenant (ADMIN, DBA).",
        [TID, p("Host", text(256, True), True), p("Port", PORT, True), p("Sid", text(128))],
        [],
        NOTHING,
    ),
}
