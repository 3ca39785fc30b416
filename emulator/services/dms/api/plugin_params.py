"""`PluginParam` of CreateOrder, validated per `PluginType` with marshmallow schemas.

Keys are accepted in the docs' lowerCamel style (`dbId`, `exeSQL`) and in the SDK model's
PascalCase (`DbId`, `ExeSQL`): the first letter is folded to lower case before validation.
Unknown keys are refused, naming the key, so a typo never passes silently.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from emulator.services.dms.domain.plugin_types import PLUGIN_TYPES, TRACK_TYPES, PluginParamError

MAX_ID = 2**63 - 1
MAX_SQL = 1_000_000
MAX_TEXT = 4_000


class StrictInt(fields.Integer):
    """An integer that is really an integer: no bools, floats or numeric strings."""

    def __init__(self, **kw: Any):
        kw.setdefault("validate", validate.Range(min=0, max=MAX_ID))
        super().__init__(strict=True, **kw)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kw: Any) -> Any:
        if isinstance(value, bool):
            raise ValidationError("Not a valid integer.")
        return super()._deserialize(value, attr, data, **kw)


class StrictBool(fields.Boolean):
    def _deserialize(self, value: Any, attr: Any, data: Any, **kw: Any) -> Any:
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean (use true or false).")
        return value


def Text(required: bool = False, max_len: int = MAX_TEXT, **kw: Any) -> fields.String:
    kw.setdefault("validate", validate.Length(max=max_len))
    return fields.String(required=required, **kw)


def Sql(required: bool = False) -> fields.String:
    return fields.String(required=required, validate=validate.Length(min=1, max=MAX_SQL))


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class DbItem(_Strict):
    dbId = StrictInt(required=True)
    logic = StrictBool(load_default=False)
    instanceId = StrictInt(load_default=None, allow_none=True)


class Watermark(_Strict):
    columnName = Text(allow_none=True)
    dataWatermark = Text(allow_none=True)
    fileWatermark = Text(allow_none=True)
    keys = fields.List(Text(), allow_none=True, validate=validate.Length(max=100))
    watermarkTypes = fields.List(Text(), allow_none=True, validate=validate.Length(max=10))


class DataExport(_Strict):
    classify = Text(load_default="")
    dbId = StrictInt(required=True)
    exeSQL = Sql(required=True)
    logic = StrictBool(load_default=False)
    ignoreAffectRows = StrictBool(load_default=False)
    affectRows = StrictInt(load_default=None, allow_none=True)
    ignoreAffectRowsReason = Text(load_default="", allow_none=True)
    instanceId = StrictInt(load_default=None, allow_none=True)
    watermark = fields.Nested(Watermark, load_default=None, allow_none=True)


class DcCommon(_Strict):
    classify = Text(load_default="")
    estimateAffectRows = StrictInt(load_default=None, allow_none=True)
    execSQL = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_SQL)
    )
    dbItemList = fields.List(
        fields.Nested(DbItem), required=True, validate=validate.Length(min=1, max=100)
    )
    rbSQL = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=MAX_SQL))
    rbAttachmentName = Text(load_default=None, allow_none=True)
    sqlType = fields.String(load_default="TEXT", validate=validate.OneOf(("TEXT", "ATTACHMENT")))
    rbSQLType = fields.String(load_default="TEXT", validate=validate.OneOf(("TEXT", "ATTACHMENT")))
    attachmentName = Text(load_default=None, allow_none=True)

    @validates_schema
    def _sql_present(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("sqlType", "TEXT") == "TEXT" and not data.get("execSQL"):
            raise ValidationError("execSQL is required when sqlType is TEXT.", "execSQL")
        if data.get("sqlType") == "ATTACHMENT" and not data.get("attachmentName"):
            raise ValidationError(
                "attachmentName is required when sqlType is ATTACHMENT.", "attachmentName"
            )


EXEC_MODES = ("COMMITOR", "AUTO", "LAST_AUDITOR")
SQL_TYPES = ("TEXT", "ATTACHMENT")


class DataCorrect(_Strict):
    """CreateDataCorrectOrder's Param (the SDK model's names, first letter folded)."""

    dbItemList = fields.List(
        fields.Nested(DbItem), required=True, validate=validate.Length(min=1, max=100)
    )
    sqlType = fields.String(required=True, validate=validate.OneOf(SQL_TYPES))
    execSQL = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_SQL)
    )
    estimateAffectRows = StrictInt(required=True)
    execMode = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(EXEC_MODES)
    )
    rollbackSQL = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_SQL)
    )
    rollbackSqlType = fields.String(
        load_default="TEXT", allow_none=True, validate=validate.OneOf(SQL_TYPES)
    )
    classify = Text(load_default="", allow_none=True)
    attachmentName = Text(load_default=None, allow_none=True)
    rollbackAttachmentName = Text(load_default=None, allow_none=True)

    @validates_schema
    def _sql_present(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("sqlType") == "TEXT" and not data.get("execSQL"):
            raise ValidationError("ExecSQL is required when SqlType is TEXT.", "execSQL")


class DcChunk(_Strict):
    classify = Text(load_default="")
    execSQL = Sql(required=True)
    dbItemList = fields.List(
        fields.Nested(DbItem), required=True, validate=validate.Length(min=1, max=100)
    )


class CronClearItem(_Strict):
    filterSQL = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_SQL)
    )
    columnName = Text(required=True, validate=validate.Length(min=1, max=256))
    remainDays = StrictInt(required=True, validate=validate.Range(min=1, max=36500))
    tableName = Text(required=True, validate=validate.Length(min=1, max=256))


class DcCronClear(_Strict):
    duration = StrictInt(load_default=0, validate=validate.Range(min=0, max=1440))
    specifyDuration = StrictBool(load_default=False)
    classify = Text(load_default="")
    cronFormat = Text(required=True, validate=validate.Length(min=1, max=256))
    execSql = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_SQL)
    )
    dbItemList = fields.List(
        fields.Nested(DbItem), required=True, validate=validate.Length(min=1, max=100)
    )
    cronClearItemList = fields.List(
        fields.Nested(CronClearItem), required=True, validate=validate.Length(min=1, max=100)
    )


class Nddl(_Strict):
    title = Text(required=True, validate=validate.Length(min=1, max=256))
    description = Text(load_default="")
    dbId = StrictInt(required=True)
    logic = StrictBool(load_default=False)
    relatedIds = fields.List(StrictInt(), load_default=list, validate=validate.Length(max=100))


class PermApply(_Strict):
    """Not in the seed documents: the emulator's documented shape (specs/README.md)."""

    reason = Text(required=True, validate=validate.Length(min=1, max=MAX_TEXT))
    dbId = StrictInt(required=True)
    logic = StrictBool(load_default=False)
    permTypes = fields.List(
        fields.String(
            validate=validate.OneOf(("QUERY", "EXPORT", "CORRECT", "LOGIN", "PERF_VIEW"))
        ),
        required=True,
        validate=validate.Length(min=1, max=5),
    )
    tables = fields.List(Text(validate=validate.Length(min=1, max=256)), load_default=list)
    seconds = StrictInt(load_default=86400, validate=validate.Range(min=60, max=366 * 86400))


class OwnerApply(_Strict):
    """Not in the seed documents: the emulator's documented shape (specs/README.md)."""

    reason = Text(required=True, validate=validate.Length(min=1, max=MAX_TEXT))
    resourceType = fields.String(
        required=True, validate=validate.OneOf(("INSTANCE", "DB", "TABLE"))
    )
    dbId = StrictInt(required=True)
    logic = StrictBool(load_default=False)
    tableName = Text(load_default=None, allow_none=True)


class DigitsInt(StrictInt):
    """The SDK sends CreateDataTrackOrder's DbId as a string: accept "17001" and 17001."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kw: Any) -> Any:
        if isinstance(value, str) and value.isdigit() and len(value) < 20:
            value = int(value)
        return super()._deserialize(value, attr, data, **kw)


class DataTrack(_Strict):
    """CreateDataTrackOrder's Param (the SDK model's fields)."""

    dbId = DigitsInt(required=True)
    jobStartTime = fields.String(
        required=True, validate=validate.Regexp(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
    )
    jobEndTime = fields.String(
        required=True, validate=validate.Regexp(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
    )
    tableNames = fields.List(
        Text(validate=validate.Length(min=1, max=256)),
        required=True,
        validate=validate.Length(min=1, max=50),
    )
    trackTypes = fields.List(
        fields.String(validate=validate.OneOf(TRACK_TYPES)),
        required=True,
        validate=validate.Length(min=1, max=3),
    )

    @validates_schema
    def _window(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("jobStartTime", "") >= data.get("jobEndTime", "~"):
            raise ValidationError("jobStartTime must be before jobEndTime.", "jobEndTime")


SCHEMAS: dict[str, type[Schema]] = {
    "DATA_EXPORT": DataExport,
    "DC_COMMON": DcCommon,
    "DC_CHUNK": DcChunk,
    "DC_CRON_CLEAR": DcCronClear,
    "NDDL": Nddl,
    "PERM_APPLY": PermApply,
    "OWNER_APPLY": OwnerApply,
}
if tuple(SCHEMAS) != PLUGIN_TYPES:  # one list of what CreateOrder accepts
    raise RuntimeError("plugin_types.PLUGIN_TYPES and plugin_params.SCHEMAS disagree")
SCHEMAS["DATA_TRACK"] = DataTrack  # created by CreateDataTrackOrder only
# CreateDataCorrectOrder's Param: a DC_COMMON ticket in the SDK's names
DATA_CORRECT = "DATA_CORRECT"
SCHEMAS[DATA_CORRECT] = DataCorrect


def fold_keys(value: Any) -> Any:
    """`DbId` -> `dbId`, recursively, so both documented spellings validate."""
    if isinstance(value, dict):
        return {
            (k[:1].lower() + k[1:] if isinstance(k, str) else k): fold_keys(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [fold_keys(v) for v in value]
    return value


def _messages(errors: Any, prefix: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(errors, dict):
        for key, val in errors.items():
            sub = (
                f"{prefix}[{key}]"
                if isinstance(key, int)
                else (f"{prefix}.{key}" if prefix else str(key))
            )
            out.extend(_messages(val, sub))
    elif isinstance(errors, list):
        texts = [e for e in errors if isinstance(e, str)]
        if texts:
            out.append(f"{prefix or 'value'}: {' '.join(texts)}")
        for e in errors:
            if not isinstance(e, str):
                out.extend(_messages(e, prefix))
    return out


def validate_plugin_param(plugin_type: str, raw: Any) -> dict[str, Any]:
    if plugin_type not in SCHEMAS:
        raise PluginParamError(f"unknown PluginType {plugin_type!r}")
    if not isinstance(raw, dict):
        kind = "null" if raw is None else type(raw).__name__
        raise PluginParamError(f"PluginParam must be a JSON object, not {kind}")
    try:
        return dict(SCHEMAS[plugin_type]().load(fold_keys(raw)))
    except ValidationError as exc:
        raise PluginParamError("; ".join(_messages(exc.messages))) from None
