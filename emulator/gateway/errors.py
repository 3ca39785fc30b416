"""Gateway errors: the Alibaba Cloud error vocabulary with its HTTP statuses.

Every failure on the API port becomes one `ApiError`, rendered in one place as
`{RequestId, HostId, Code, Message, Recommend}` (or `<Error>` XML).
"""

from __future__ import annotations


class ApiError(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        http_status: int = 400,
        headers: dict[str, str] | None = None,
        string_to_sign: str | None = None,
    ):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status
        self.headers = headers or {}
        # kept for the journal, so a user can see why their signature failed
        self.string_to_sign = string_to_sign


def missing(param: str) -> ApiError:
    return ApiError(f"Missing{param}", f"{param} is mandatory for this action.", 400)


def invalid(param: str, why: str | None = None) -> ApiError:
    msg = f"Specified parameter {param} is not valid."
    if why:
        msg += f" {why}"
    return ApiError(f"Invalid{param}", msg, 400)


def incomplete_signature(why: str) -> ApiError:
    return ApiError(
        "IncompleteSignature",
        f"The request signature does not conform to Aliyun standards. {why}",
        400,
    )


def access_key_not_found() -> ApiError:
    return ApiError("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)


def timestamp_format(value: str) -> ApiError:
    return ApiError(
        "InvalidTimeStamp.Format",
        f"Specified time stamp or date value is not well formatted: {value!r}.",
        400,
    )


def timestamp_expired() -> ApiError:
    return ApiError(
        "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.", 400
    )


def nonce_used() -> ApiError:
    return ApiError("SignatureNonceUsed", "Specified signature nonce was used already.", 400)


STRING_TO_SIGN_ECHO = 8192  # characters of the server's string to sign a refusal quotes


def signature_mismatch(string_to_sign: str) -> ApiError:
    shown = string_to_sign
    if len(shown) > STRING_TO_SIGN_ECHO:  # bounded: a 16 MiB body must not come back as 16 MiB
        total = len(shown.encode("utf-8", "replace"))
        shown = shown[:STRING_TO_SIGN_ECHO] + f"…[truncated: {total} bytes in all]"
    return ApiError(
        "SignatureDoesNotMatch",
        "Specified signature is not matched with our calculation. server string to sign is:"
        + shown,
        400,
        string_to_sign=string_to_sign,
    )


def signature_method(value: str) -> ApiError:
    return ApiError(
        "InvalidSignatureMethod", f"Specified signature method is not valid: {value!r}.", 400
    )


def action_not_found(action: str, version: str) -> ApiError:
    return ApiError(
        "InvalidAction.NotFound",
        f"Specified api is not found, please check your url and method. ({action}, {version})",
        404,
    )


def version_invalid(version: str) -> ApiError:
    return ApiError(
        "InvalidVersion", f"Specified parameter Version is not valid: {version!r}.", 400
    )


def internal_error(product: str | None = None) -> ApiError:
    """A bug of ours: the gateway's InternalError, or ServerError for Sas (its error table)."""
    if product == "sas":
        return ApiError("ServerError", "ServerError", 500)
    return ApiError(
        "InternalError",
        "The request processing has failed due to some unknown error, exception or failure.",
        500,
    )


def body_too_large() -> ApiError:
    return ApiError(
        "RequestEntityTooLarge",
        "The request body is larger than the emulator accepts (16 MiB).",
        413,
    )
