"""Wire rendering: JSON (default) or XML (`Format=XML`), success or the error envelope."""

from __future__ import annotations

import json
from typing import Any

from emulator.gateway.errors import ApiError
from emulator.gateway.registry import Product

JSON_TYPE = "application/json;charset=utf-8"
XML_TYPE = "text/xml;charset=utf-8"  # exactly what tea-openapi needs to parse <Error>


def _xml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    # xml.sax.saxutils.escape's three replacements, in its order (importing xml.sax pulls in
    # urllib.request: ~5 ms of every start, issue 18)
    return str(value).replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def _xml(name: str, value: Any) -> str:
    """Objects nest; a list repeats its element name once per item (Alibaba's XML style)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "".join(_xml(name, item) for item in value)
    if isinstance(value, dict):
        inner = "".join(_xml(k, v) for k, v in value.items())
        return f"<{name}>{inner}</{name}>"
    return f"<{name}>{_xml_value(value)}</{name}>"


def success(action: str, body: dict[str, Any], request_id: str, xml: bool) -> tuple[bytes, str]:
    doc = {"RequestId": request_id}
    doc.update(body)
    doc["RequestId"] = request_id  # a body's own RequestId never wins
    if xml:
        text = '<?xml version="1.0" encoding="UTF-8"?>' + _xml(f"{action}Response", doc)
        return text.encode("utf-8"), XML_TYPE
    return json.dumps(doc, ensure_ascii=False).encode("utf-8"), JSON_TYPE


def error_doc(
    err: ApiError, request_id: str, host_id: str, product: Product | None
) -> dict[str, Any]:
    code = product.code if product else "dms-enterprise"
    return {
        "RequestId": request_id,
        "HostId": host_id,
        "Code": err.code,
        "Message": err.message,
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={err.code}&product={code}&requestId={request_id}",
    }


def error(
    err: ApiError, request_id: str, host_id: str, product: Product | None, xml: bool
) -> tuple[bytes, str]:
    doc = error_doc(err, request_id, host_id, product)
    if xml:
        return ('<?xml version="1.0" encoding="UTF-8"?>' + _xml("Error", doc)).encode(
            "utf-8"
        ), XML_TYPE
    return json.dumps(doc, ensure_ascii=False).encode("utf-8"), JSON_TYPE
