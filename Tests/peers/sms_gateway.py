#!/usr/bin/env python3
"""A local stand-in for Alibaba Cloud SMS (Dysmsapi 2017-05-25) and Tencent Cloud SMS (sms 2021-01-11).

Usage:
    sms_gateway.py LOG_FILE      serve; prints "ready PORT" once it accepts connections, exits when stdin closes
    sms_gateway.py --selftest    drive an in-process instance with the official SDK clients; exit 0 when all is well

Listens on 127.0.0.1 on a free port (HTTP/1.1, keep-alive, a Content-Length on every answer, a thread per
connection; good for well over 300 signed requests a second). One port answers both providers; the request's own
headers say which one it is for:

  x-acs-action   Alibaba: RPC style with the V3 signature, as the official `alibabacloud_dysmsapi20170525` SDK sends
                 it: POST (or GET) /, every parameter in the URL query, an empty body, headers host, x-acs-action,
                 x-acs-version (2017-05-25), x-acs-date (2026-12-05T10:00:00Z), x-acs-signature-nonce,
                 x-acs-content-sha256 (hex SHA-256 of the body) and
                 Authorization: ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b;c,Signature=hex.
  X-TC-Action    Tencent: POST / with a JSON body, Content-Type application/json (with or without
                 "; charset=utf-8"), headers Host, X-TC-Action, X-TC-Timestamp, X-TC-Version (2021-01-11),
                 X-TC-Region and Authorization: TC3-HMAC-SHA256 Credential=ID/DATE/sms/tc3_request,
                 SignedHeaders=content-type;host, Signature=hex.

Signatures are checked with the SDKs' own signing code, never a re-implementation:
  Alibaba  alibabacloud_tea_openapi.utils.Utils.get_authorization(request, "ACS3-HMAC-SHA256", body_sha256_hex, ak,
           secret), fed the received method, path, the percent-decoded query and exactly the headers the received
           SignedHeaders names (which must include host, x-acs-action, x-acs-version, x-acs-date,
           x-acs-signature-nonce and x-acs-content-sha256; x-acs-content-sha256 must be the body's SHA-256).
  Tencent  tencentcloud.sms.v20210111.sms_client.SmsClient._get_tc3_signature(params, req, date, "sms", secret_key)
           (what the SDK's _build_req_with_tc3_signature calls), fed the received body, Content-Type, Host, path and
           X-TC-Timestamp, with the date the UTC day of X-TC-Timestamp.
Both refuse a timestamp more than 15 minutes from this machine's clock; Alibaba also refuses a reused
x-acs-signature-nonce (within those 15 minutes), as the real service does.

Accounts (fixed): Alibaba AccessKeyId LTAI-test-key, secret aliyun-test-secret. Tencent SecretId AKID-test-id,
SecretKey tencent-test-secret, SmsSdkAppId 1400000001, regions ap-guangzhou / ap-beijing / ap-nanjing.

Alibaba answers (errors in the real shape {"RequestId","Message","Recommend","HostId","Code"}):
  bad, missing or malformed signature   HTTP 400 SignatureDoesNotMatch
  unknown AccessKeyId                    HTTP 404 InvalidAccessKeyId.NotFound
  x-acs-date malformed / too far off     HTTP 400 InvalidTimeStamp.Format / InvalidTimeStamp.Expired
  nonce seen before                      HTTP 400 SignatureNonceUsed
  x-acs-version not 2017-05-25           HTTP 400 InvalidVersion
  action not SendSms / QuerySendDetails  HTTP 404 InvalidAction.NotFound
  a required parameter absent            HTTP 400 Missing<Name> (PhoneNumbers, SignName, TemplateCode; PhoneNumber,
                                         SendDate, PageSize, CurrentPage)
  SendSms -> HTTP 200 {"Message":"OK","RequestId","Code":"OK","BizId":"<18 digits>^0"}, or HTTP 200 with, first match:
      SignName empty                         isv.SMS_SIGNATURE_ILLEGAL   该账号下找不到对应签名
      TemplateCode contains BAD              isv.SMS_TEMPLATE_ILLEGAL    该账号下找不到对应模板
      TemplateParam absent, not JSON, not an object of strings
                                             isv.INVALID_JSON_PARAM      JSON参数不合法，只接受字符串值
      a number malformed or ending 0001      isv.MOBILE_NUMBER_ILLEGAL   非法手机号
      quota mode on                          isv.AMOUNT_NOT_ENOUGH       账户余额不足
      a number ending 0002, first time only  isv.BUSINESS_LIMIT_CONTROL  触发小时级流控Permits:5
    PhoneNumbers may list several numbers separated by commas (one BizId for all).
  QuerySendDetails (PhoneNumber, BizId optional, SendDate yyyyMMdd in Beijing time, PageSize 1-50, CurrentPage) ->
      {"TotalCount":N,"Message":"OK","RequestId","Code":"OK","SmsSendDetailDTOs":{"SmsSendDetailDTO":[{"SendDate":
      "2026-12-05 18:00:00","SendStatus":3,"ReceiveDate":"2026-12-05 18:00:03","ErrCode":"DELIVERED","TemplateCode",
      "Content","PhoneNum","OutId"}]}} for messages it accepted (times are Beijing time); numbers ending 0003 get
      SendStatus 2 and ErrCode IC:0001 (failed); an unknown BizId gives TotalCount 0 and an empty list.

Tencent answers (always HTTP 200 with Content-Type application/json; errors as {"Response":{"Error":{"Code",
"Message"},"RequestId"}}):
  malformed Authorization / scope / SignedHeaders   AuthFailure.InvalidAuthorization
  unknown SecretId                                  AuthFailure.SecretIdNotFound
  X-TC-Timestamp more than 15 minutes off           AuthFailure.SignatureExpire
  signature (or credential date) does not match     AuthFailure.SignatureFailure
  X-TC-Version not 2021-01-11                       NoSuchVersion
  X-TC-Region missing / not an SMS region           MissingParameter / UnsupportedRegion
  action not SendSms / PullSmsSendStatus            InvalidAction
  body not a JSON object, content type not JSON     FailedOperation.JsonParseFail / InvalidParameter
  SmsSdkAppId not 1400000001                        InvalidParameterValue.SdkAppIdNotExist
  PhoneNumberSet missing or empty / over 200 numbers MissingParameter / LimitExceeded.PhoneNumberCountLimit
  SendSms (PhoneNumberSet 1-200 numbers, SmsSdkAppId, SignName, TemplateId, TemplateParamSet [strings],
  SessionContext) -> {"Response":{"SendStatusSet":[{"SerialNo":"2640:<digits>","PhoneNumber":"+86...","Fee":1,
      "SessionContext","Code":"Ok","Message":"send success","IsoCode":"CN"}],"RequestId"}}, with per-number Codes,
      first match: TemplateId contains BAD -> FailedOperation.TemplateIncorrectOrUnapproved; SignName empty ->
      FailedOperation.SignatureIncorrectOrUnapproved; number malformed or ending 0001 ->
      InvalidParameterValue.IncorrectPhoneNumber; quota mode -> FailedOperation.InsufficientBalanceInSmsPackage;
      number ending 0002, first time only -> LimitExceeded.PhoneNumberThirtySecondLimit (failed ones: SerialNo "",
      Fee 0). A bare 11-digit mainland number is read as +86.
  PullSmsSendStatus (Limit 1-100, SmsSdkAppId) -> {"Response":{"PullSmsSendStatusSet":[{"UserReceiveTime":<unix
      seconds>,"CountryCode":"86","SubscriberNumber":"138...","PhoneNumber":"+86138...","SerialNo","ReportStatus":
      "SUCCESS","Description":"用户短信送达成功","SessionContext"}],"RequestId"}}: every accepted number's receipt
      is handed over once, oldest first, at most Limit per call; numbers ending 0003 report FAIL (用户手机号码为空号).
      UserReceiveTime is an integer, as the 2021-01-11 API and its SDK model (PullSmsSendStatus.UserReceiveTime: int)
      define it.

Control (not signed):
  POST /_control {"quota": true|false, "reset": true}   quota mode on/off (both providers); reset forgets sends,
                                                        receipts, stats, seen nonces and the 0002 first-timers.
                                                        Answers {"quota": bool}.
  GET  /_stats      {"sends": N, "by_ref": {ref: count}, "by_provider": {...}, "requests": N}: N counts accepted
                    sends per number (a success: Code OK / Ok), by_ref by OutId / SessionContext ("" when absent),
                    for a loss and duplicate check.

Every request is appended to LOG_FILE as one JSON line (sort_keys, ensure_ascii=False) before it is answered:
  provider  "aliyun" | "tencent" | "control" | "unknown"
  action    x-acs-action / X-TC-Action (or the control path)
  verdict   "ok" when the request was authenticated and well formed and reached the provider's logic; otherwise why
            it was refused. A business answer such as isv.MOBILE_NUMBER_ILLEGAL still has verdict "ok"; see code.
  code      the Code answered (Alibaba's top-level Code; Tencent's Error.Code, or for SendSms the first number's
            SendStatusSet Code, all of them in "codes")
  status    the HTTP status answered; request_id; received (Unix time)
  for SendSms (whenever the parameters could be read, even when refused):
            phone (Alibaba: PhoneNumbers as sent; Tencent: the first of PhoneNumberSet, all in "phones"), sign_name,
            template, params (Alibaba: the TemplateParam JSON object, or the raw text when it is not one; Tencent:
            TemplateParamSet), ref (OutId / SessionContext), provider_id (the BizId / first SerialNo answered; all
            SerialNos in "provider_ids")
  for receipts: returned (how many records were handed back)
  on a signature mismatch: debug (the canonical query and headers the SDK functions built), to diff with a client
"""
import hashlib
import hmac
import itertools
import json
import os
import random
import re
import sys
import threading
import time
import uuid
from collections import Counter, deque
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# The official SDKs' signing code (see the docstring).
from alibabacloud_tea_openapi.utils import Utils as AliyunUtils
from alibabacloud_tea_openapi.utils import get_canonical_query_string, get_canonicalized_headers
from darabonba.request import DaraRequest
from tencentcloud.common.credential import Credential
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.sms.v20210111.sms_client import SmsClient

# ---------------------------------------------------------------------------------------------------------------------
# Fixed accounts and limits

ALIYUN_KEYS = {"LTAI-test-key": "aliyun-test-secret"}
ALIYUN_VERSION = "2017-05-25"
ALIYUN_HOST_ID = "dysmsapi.aliyuncs.com"
ALIYUN_REQUIRED_SIGNED = ["host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce",
                          "x-acs-content-sha256"]

TENCENT_KEYS = {"AKID-test-id": "tencent-test-secret"}
TENCENT_APP_ID = "1400000001"
TENCENT_VERSION = "2021-01-11"
TENCENT_REGIONS = {"ap-guangzhou", "ap-beijing", "ap-nanjing"}

CLOCK_SKEW = 15 * 60  # seconds a request's timestamp may be from time.time()
BEIJING = timezone(timedelta(hours=8))
RECEIVE_DELAY = 3  # seconds between "sent" and "received" in receipts

# One SmsClient whose _get_tc3_signature does the Tencent check; the method uses no client state (credential and
# region here are never used to sign anything).
TC3 = SmsClient(Credential("verifier", "verifier"), "ap-guangzhou")

# ---------------------------------------------------------------------------------------------------------------------
# Shared state. LOG_LOCK orders log lines; STATE guards everything else.

LOG_LOCK = threading.Lock()
LOG = None  # the open LOG_FILE (set by serve())
STATE = threading.Lock()


class Store:
    def __init__(self):
        self.reset()

    def reset(self):
        self.quota = False
        self.limited_once = {"aliyun": set(), "tencent": set()}  # numbers ending 0002 already refused once
        self.aliyun_sends = {}  # BizId -> [record per number]
        self.aliyun_by_phone = {}  # number as sent -> [BizId, ...]
        self.tencent_receipts = deque()  # receipts not handed over yet
        self.nonces = {}  # x-acs-signature-nonce -> time seen
        self.nonce_purge = time.time()
        self.sends = 0
        self.by_ref = Counter()
        self.by_provider = Counter()
        self.requests = 0
        self.ids = itertools.count(1)
        self.prefix = random.randint(100000, 999999)


STORE = Store()


def record(entry: dict) -> None:
    line = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
    with LOG_LOCK:
        if LOG is not None:
            LOG.write(line)
            LOG.flush()


def count_send(provider: str, ref) -> None:
    """One accepted message to one number (call with STATE held)."""
    STORE.sends += 1
    STORE.by_ref[ref or ""] += 1
    STORE.by_provider[provider] += 1


def beijing(t: float) -> str:
    return datetime.fromtimestamp(t, BEIJING).strftime("%Y-%m-%d %H:%M:%S")


# ---------------------------------------------------------------------------------------------------------------------
# Alibaba Cloud SMS

ALIYUN_MESSAGES = {
    "SignatureDoesNotMatch": "Specified signature is not matched with our calculation.",
    "InvalidAccessKeyId.NotFound": "Specified access key is not found.",
    "InvalidTimeStamp.Format": "Specified time stamp or date value is not well formatted.",
    "InvalidTimeStamp.Expired": "Specified time stamp or date value is expired.",
    "SignatureNonceUsed": "Specified signature nonce was used already.",
    "InvalidVersion": "Specified parameter Version is not valid.",
    "InvalidAction.NotFound": "Specified api is not found, please check your url and method.",
    "InvalidParameter": "The specified parameter is not valid.",
    "isv.SMS_SIGNATURE_ILLEGAL": "该账号下找不到对应签名",
    "isv.SMS_TEMPLATE_ILLEGAL": "该账号下找不到对应模板",
    "isv.INVALID_JSON_PARAM": "JSON参数不合法，只接受字符串值",
    "isv.MOBILE_NUMBER_ILLEGAL": "非法手机号",
    "isv.AMOUNT_NOT_ENOUGH": "账户余额不足",
    "isv.BUSINESS_LIMIT_CONTROL": "触发小时级流控Permits:5",
}
# Mainland numbers, optionally with 86 / +86 / 0086, or international numbers as country code + number.
ALIYUN_PHONE = re.compile(r"^(?:\+|00)?\d{7,15}$")


def aliyun_error(status: int, code: str, request_id: str, message: str = None):
    body = {
        "RequestId": request_id,
        "Message": message or ALIYUN_MESSAGES[code],
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={code}&product=Dysmsapi&requestId={request_id}",
        "HostId": ALIYUN_HOST_ID,
        "Code": code,
    }
    return status, body


def aliyun_parse_authorization(value: str):
    """'ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex' -> (algorithm, {field: value}) or None."""
    algorithm, _, rest = value.strip().partition(" ")
    fields = {}
    for part in rest.split(","):
        name, eq, val = part.strip().partition("=")
        if not eq:
            return None
        fields[name] = val
    if not {"Credential", "SignedHeaders", "Signature"} <= fields.keys():
        return None
    return algorithm, fields


def aliyun_authenticate(handler, method: str, path: str, query: dict, body: bytes, entry: dict, request_id: str):
    """None when the request is signed right, else the (status, body) to answer; sets entry["verdict"]."""
    headers = handler.headers
    authorization = headers.get("Authorization")
    if not authorization:
        entry["verdict"] = "missing Authorization"
        return aliyun_error(400, "SignatureDoesNotMatch", request_id)
    parsed = aliyun_parse_authorization(authorization)
    if parsed is None:
        entry["verdict"] = f"malformed Authorization {authorization!r}"
        return aliyun_error(400, "SignatureDoesNotMatch", request_id)
    algorithm, fields = parsed
    if algorithm != "ACS3-HMAC-SHA256":
        entry["verdict"] = f"signature algorithm {algorithm!r} is not ACS3-HMAC-SHA256"
        return aliyun_error(400, "SignatureDoesNotMatch", request_id)
    key_id = fields["Credential"]
    secret = ALIYUN_KEYS.get(key_id)
    if secret is None:
        entry["verdict"] = f"unknown AccessKeyId {key_id!r}"
        return aliyun_error(404, "InvalidAccessKeyId.NotFound", request_id)
    signed = fields["SignedHeaders"].split(";")
    missing = [h for h in ALIYUN_REQUIRED_SIGNED if h not in signed]
    if missing:
        entry["verdict"] = f"SignedHeaders {fields['SignedHeaders']!r} lacks {';'.join(missing)}"
        return aliyun_error(400, "SignatureDoesNotMatch", request_id)
    # Exactly the signed headers, with the values received (the SDK lowercases the names and trims the values).
    signed_values = {}
    for name in signed:
        value = headers.get(name)
        if value is None:
            entry["verdict"] = f"signed header {name!r} is not in the request"
            return aliyun_error(400, "SignatureDoesNotMatch", request_id)
        signed_values[name] = value
    body_hash = hashlib.sha256(body).hexdigest()
    if signed_values["x-acs-content-sha256"].strip() != body_hash:
        entry["verdict"] = (f"x-acs-content-sha256 {signed_values['x-acs-content-sha256']!r} is not the body's "
                            f"SHA-256 {body_hash}")
        return aliyun_error(400, "SignatureDoesNotMatch", request_id)

    request = DaraRequest()
    request.method = method
    request.pathname = path
    request.query = query
    request.headers = signed_values
    expected = AliyunUtils.get_authorization(request, "ACS3-HMAC-SHA256", body_hash, key_id, secret)
    expected_signature = expected.rsplit("Signature=", 1)[1]
    if not hmac.compare_digest(expected_signature, fields["Signature"].strip()):
        entry["verdict"] = "signature mismatch"
        canonical_headers, signed_list = get_canonicalized_headers(signed_values)
        entry["debug"] = {"canonical_query": get_canonical_query_string(query), "canonical_headers": canonical_headers,
                          "signed_headers": signed_list, "payload_hash": body_hash, "method": method, "path": path}
        return aliyun_error(400, "SignatureDoesNotMatch", request_id)

    date = signed_values["x-acs-date"].strip()
    try:
        stamp = datetime.strptime(date, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        entry["verdict"] = f"x-acs-date {date!r} is not yyyy-MM-ddTHH:mm:ssZ"
        return aliyun_error(400, "InvalidTimeStamp.Format", request_id)
    now = time.time()
    if abs(now - stamp) > CLOCK_SKEW:
        entry["verdict"] = f"x-acs-date {date} is {int(stamp - now)} s from now"
        return aliyun_error(400, "InvalidTimeStamp.Expired", request_id)

    nonce = signed_values["x-acs-signature-nonce"].strip()
    with STATE:
        if now - STORE.nonce_purge > 60:  # forget nonces older than the clock window
            STORE.nonces = {n: t for n, t in STORE.nonces.items() if now - t <= CLOCK_SKEW}
            STORE.nonce_purge = now
        seen = nonce in STORE.nonces
        STORE.nonces[nonce] = now
    if seen:
        entry["verdict"] = f"x-acs-signature-nonce {nonce!r} was used already"
        return aliyun_error(400, "SignatureNonceUsed", request_id)
    return None


def aliyun_send(params: dict, entry: dict, request_id: str):
    for name in ("PhoneNumbers", "SignName", "TemplateCode"):
        if name not in params:
            entry["verdict"] = f"missing {name}"
            return aliyun_error(400, f"Missing{name}", request_id, f"{name} is mandatory for this action.")
    entry["verdict"] = "ok"

    def refuse(code):
        return aliyun_error(200, code, request_id)

    numbers = [n.strip() for n in params["PhoneNumbers"].split(",")]
    template_param = None
    if not params["SignName"].strip():
        return refuse("isv.SMS_SIGNATURE_ILLEGAL")
    if "BAD" in params["TemplateCode"]:
        return refuse("isv.SMS_TEMPLATE_ILLEGAL")
    try:
        template_param = json.loads(params.get("TemplateParam") or "")
    except ValueError:
        pass
    if not isinstance(template_param, dict) or not all(isinstance(v, str) for v in template_param.values()):
        return refuse("isv.INVALID_JSON_PARAM")
    if not numbers or any(not ALIYUN_PHONE.match(n) or n.endswith("0001") for n in numbers):
        return refuse("isv.MOBILE_NUMBER_ILLEGAL")
    with STATE:
        if STORE.quota:
            return refuse("isv.AMOUNT_NOT_ENOUGH")
        first_time = [n for n in numbers if n.endswith("0002") and n not in STORE.limited_once["aliyun"]]
        if first_time:
            STORE.limited_once["aliyun"].update(first_time)
            return refuse("isv.BUSINESS_LIMIT_CONTROL")
        biz_id = f"{STORE.prefix}{next(STORE.ids):012d}^0"
        now = time.time()
        content = f"【{params['SignName']}】" + "，".join(f"{k}：{v}" for k, v in template_param.items())
        records = []
        for number in numbers:
            records.append({"phone": number, "sent": now, "template": params["TemplateCode"], "content": content,
                            "out_id": params.get("OutId", "")})
            STORE.aliyun_by_phone.setdefault(number, []).append(biz_id)
            count_send("aliyun", params.get("OutId"))
        STORE.aliyun_sends[biz_id] = records
    entry["provider_id"] = biz_id
    return 200, {"Message": "OK", "RequestId": request_id, "Code": "OK", "BizId": biz_id}


def aliyun_query(params: dict, entry: dict, request_id: str):
    for name in ("PhoneNumber", "SendDate", "PageSize", "CurrentPage"):
        if name not in params:
            entry["verdict"] = f"missing {name}"
            return aliyun_error(400, f"Missing{name}", request_id, f"{name} is mandatory for this action.")
    try:
        page_size, page = int(params["PageSize"]), int(params["CurrentPage"])
        datetime.strptime(params["SendDate"], "%Y%m%d")
        if not 1 <= page_size <= 50 or page < 1:
            raise ValueError
    except ValueError:
        entry["verdict"] = "bad PageSize, CurrentPage or SendDate"
        return aliyun_error(400, "InvalidParameter", request_id,
                            "Specified parameter PageSize, CurrentPage or SendDate is not valid.")
    entry["verdict"] = "ok"
    phone, biz_id, day = params["PhoneNumber"], params.get("BizId") or None, params["SendDate"]
    with STATE:
        ids = [biz_id] if biz_id else list(dict.fromkeys(STORE.aliyun_by_phone.get(phone, [])))
        found = [r for i in ids for r in STORE.aliyun_sends.get(i, [])
                 if r["phone"] == phone and datetime.fromtimestamp(r["sent"], BEIJING).strftime("%Y%m%d") == day]
    shown = found[(page - 1) * page_size: page * page_size]
    details = []
    for r in shown:
        failed = r["phone"].endswith("0003")
        details.append({
            "SendDate": beijing(r["sent"]),
            "SendStatus": 2 if failed else 3,
            "ReceiveDate": beijing(r["sent"] + RECEIVE_DELAY),
            "ErrCode": "IC:0001" if failed else "DELIVERED",
            "TemplateCode": r["template"],
            "Content": r["content"],
            "PhoneNum": r["phone"],
            "OutId": r["out_id"],
        })
    entry["returned"] = len(details)
    entry["biz_id"] = biz_id
    return 200, {"TotalCount": len(found), "Message": "OK", "RequestId": request_id, "Code": "OK",
                 "SmsSendDetailDTOs": {"SmsSendDetailDTO": details}}


def handle_aliyun(handler, method: str, url, body: bytes):
    request_id = str(uuid.uuid4()).upper()
    action = handler.headers.get("x-acs-action", "")
    entry = {"provider": "aliyun", "action": action, "request_id": request_id}
    raw = parse_qs(url.query, keep_blank_values=True)
    query = {k: v[0] for k, v in raw.items()}  # what the SDK signs: the decoded values
    params = dict(query)
    if body and handler.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
        # The real service also takes RPC parameters from a form body (covered by x-acs-content-sha256).
        params.update({k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()})
    if action == "SendSms":
        template_param = params.get("TemplateParam")
        try:
            parsed_param = json.loads(template_param) if template_param is not None else None
        except ValueError:
            parsed_param = template_param
        entry.update(phone=params.get("PhoneNumbers"), sign_name=params.get("SignName"),
                     template=params.get("TemplateCode"), params=parsed_param, ref=params.get("OutId"))
    refusal = aliyun_authenticate(handler, method, url.path, query, body, entry, request_id)
    if refusal is not None:
        return refusal, entry
    version = handler.headers.get("x-acs-version", "")
    if version != ALIYUN_VERSION:
        entry["verdict"] = f"x-acs-version {version!r} is not {ALIYUN_VERSION}"
        return aliyun_error(400, "InvalidVersion", request_id), entry
    if url.path != "/":
        entry["verdict"] = f"path {url.path!r} is not /"
        return aliyun_error(404, "InvalidAction.NotFound", request_id), entry
    if action == "SendSms":
        return aliyun_send(params, entry, request_id), entry
    if action == "QuerySendDetails":
        return aliyun_query(params, entry, request_id), entry
    entry["verdict"] = f"unknown action {action!r}"
    return aliyun_error(404, "InvalidAction.NotFound", request_id), entry


# ---------------------------------------------------------------------------------------------------------------------
# Tencent Cloud SMS

TENCENT_MESSAGES = {
    "AuthFailure.InvalidAuthorization": "Authorization is invalid.",
    "AuthFailure.SecretIdNotFound": "The SecretId is not found, please ensure that your SecretId is correct.",
    "AuthFailure.SignatureExpire": "Signature expired. Timestamp and server time cannot exceed 900 seconds.",
    "AuthFailure.SignatureFailure": "The provided credentials could not be validated. Please check your signature "
                                    "is correct.",
    "NoSuchVersion": "The requested version does not exist. Please check the X-TC-Version.",
    "MissingParameter": "The request is missing a required parameter `Region`.",
    "UnsupportedRegion": "The requested region is not supported by this service.",
    "InvalidAction": "The requested action is not supported by the service `sms`.",
    "FailedOperation.JsonParseFail": "Failed to parse the request body as JSON.",
    "InvalidParameterValue.SdkAppIdNotExist": "SdkAppId not exist.",
    # Per-number SendStatusSet codes
    "Ok": "send success",
    "InvalidParameterValue.IncorrectPhoneNumber": "incorrect number format",
    "LimitExceeded.PhoneNumberThirtySecondLimit": "the number of sms messages sent from a single mobile number "
                                                  "within 30 seconds exceeds the upper limit",
    "FailedOperation.TemplateIncorrectOrUnapproved": "template is not approved or request content does not match "
                                                     "the approved template content",
    "FailedOperation.SignatureIncorrectOrUnapproved": "signature is not approved or is incorrect",
    "FailedOperation.InsufficientBalanceInSmsPackage": "insufficient balance in sms package",
}
COUNTRIES = {"86": "CN", "852": "HK", "853": "MO", "886": "TW", "1": "US", "44": "GB", "65": "SG", "81": "JP",
             "82": "KR", "60": "MY", "66": "TH", "61": "AU"}


def tencent_error(code: str, request_id: str, message: str = None):
    return 200, {"Response": {"Error": {"Code": code, "Message": message or TENCENT_MESSAGES[code]},
                              "RequestId": request_id}}


def tencent_number(raw):
    """A PhoneNumberSet entry -> (E.164, country code, subscriber number, iso code), or None when malformed."""
    if not isinstance(raw, str):
        return None
    if re.fullmatch(r"1\d{10}", raw):  # a bare mainland number
        raw = "+86" + raw
    if not re.fullmatch(r"\+\d{7,15}", raw):
        return None
    digits = raw[1:]
    for size in (3, 2, 1):
        if digits[:size] in COUNTRIES:
            return raw, digits[:size], digits[size:], COUNTRIES[digits[:size]]
    return raw, "", digits, "DEF"


def tencent_authenticate(handler, url, body: bytes, entry: dict, request_id: str):
    """None when the request is signed right, else the (status, body) to answer; sets entry["verdict"]."""
    headers = handler.headers
    authorization = headers.get("Authorization", "")
    match = re.fullmatch(r"TC3-HMAC-SHA256 Credential=([^/,]*)/([^/,]*)/([^/,]*)/([^/,]*), ?"
                         r"SignedHeaders=([^,]*), ?Signature=([0-9a-fA-F]*)", authorization.strip())
    if not match:
        entry["verdict"] = f"malformed Authorization {authorization!r}"
        return tencent_error("AuthFailure.InvalidAuthorization", request_id)
    secret_id, date, service, terminator, signed_headers, signature = match.groups()
    if service != "sms" or terminator != "tc3_request":
        entry["verdict"] = f"credential scope {date}/{service}/{terminator} is not DATE/sms/tc3_request"
        return tencent_error("AuthFailure.InvalidAuthorization", request_id)
    if signed_headers != "content-type;host":
        entry["verdict"] = f"SignedHeaders {signed_headers!r} is not content-type;host"
        return tencent_error("AuthFailure.InvalidAuthorization", request_id)
    secret_key = TENCENT_KEYS.get(secret_id)
    if secret_key is None:
        entry["verdict"] = f"unknown SecretId {secret_id!r}"
        return tencent_error("AuthFailure.SecretIdNotFound", request_id)
    timestamp = headers.get("X-TC-Timestamp", "")
    if not timestamp.isdigit():
        entry["verdict"] = f"X-TC-Timestamp {timestamp!r} is not a Unix time"
        return tencent_error("AuthFailure.SignatureFailure", request_id)
    offset = int(timestamp) - time.time()
    if abs(offset) > CLOCK_SKEW:
        entry["verdict"] = f"X-TC-Timestamp is {int(offset)} s from now"
        return tencent_error("AuthFailure.SignatureExpire", request_id)
    day = datetime.fromtimestamp(int(timestamp), timezone.utc).strftime("%Y-%m-%d")
    if date != day:
        entry["verdict"] = f"credential date {date} is not {day}, the UTC day of X-TC-Timestamp"
        return tencent_error("AuthFailure.SignatureFailure", request_id)
    content_type, host = headers.get("Content-Type"), headers.get("Host")
    if content_type is None or host is None:
        entry["verdict"] = "Content-Type or Host missing"
        return tencent_error("AuthFailure.SignatureFailure", request_id)

    # What the SDK's _build_req_with_tc3_signature hands _get_tc3_signature, from what was received.
    req = RequestInternal(host, handler.command, url.path,
                          header={"Content-Type": content_type, "Host": host, "X-TC-Timestamp": timestamp}, data=body)
    if headers.get("X-TC-Content-SHA256") == "UNSIGNED-PAYLOAD":  # the SDK's (and service's) unsigned-body mode
        req.header["X-TC-Content-SHA256"] = "UNSIGNED-PAYLOAD"
    expected = TC3._get_tc3_signature(None, req, date, "sms", secret_key)
    if not hmac.compare_digest(expected, signature.lower()):
        entry["verdict"] = "signature mismatch"
        entry["debug"] = {"content_type": content_type, "host": host, "timestamp": timestamp, "date": date,
                          "path": url.path, "payload_hash": hashlib.sha256(body).hexdigest()}
        return tencent_error("AuthFailure.SignatureFailure", request_id)
    return None


def tencent_send(body: dict, entry: dict, request_id: str):
    numbers = body.get("PhoneNumberSet")
    if not isinstance(numbers, list) or not numbers:
        entry["verdict"] = "PhoneNumberSet missing or empty"
        return tencent_error("MissingParameter", request_id,
                             "The request is missing a required parameter `PhoneNumberSet`.")
    if len(numbers) > 200:
        entry["verdict"] = f"PhoneNumberSet has {len(numbers)} numbers, over 200"
        return tencent_error("LimitExceeded.PhoneNumberCountLimit", request_id,
                             "the number of phone numbers in one request exceeds the upper limit of 200")
    template = body.get("TemplateId")
    if not isinstance(template, str) or not template:
        entry["verdict"] = "TemplateId missing"
        return tencent_error("MissingParameter", request_id, "The request is missing a required parameter "
                                                             "`TemplateId`.")
    template_params = body.get("TemplateParamSet", [])
    if not isinstance(template_params, list) or not all(isinstance(p, str) for p in template_params):
        entry["verdict"] = "TemplateParamSet is not a list of strings"
        return tencent_error("InvalidParameter", request_id, "TemplateParamSet must be an array of strings.")
    sign_name = body.get("SignName", "")
    session = body.get("SessionContext", "")
    if not isinstance(sign_name, str) or not isinstance(session, str):
        entry["verdict"] = "SignName or SessionContext is not a string"
        return tencent_error("InvalidParameter", request_id, "SignName and SessionContext must be strings.")
    entry["verdict"] = "ok"
    statuses = []
    with STATE:
        for raw in numbers:
            number = tencent_number(raw)
            e164 = number[0] if number else raw
            if "BAD" in template:
                code = "FailedOperation.TemplateIncorrectOrUnapproved"
            elif not sign_name.strip():
                code = "FailedOperation.SignatureIncorrectOrUnapproved"
            elif number is None or e164.endswith("0001"):
                code = "InvalidParameterValue.IncorrectPhoneNumber"
            elif STORE.quota:
                code = "FailedOperation.InsufficientBalanceInSmsPackage"
            elif e164.endswith("0002") and e164 not in STORE.limited_once["tencent"]:
                STORE.limited_once["tencent"].add(e164)
                code = "LimitExceeded.PhoneNumberThirtySecondLimit"
            else:
                code = "Ok"
            serial = ""
            if code == "Ok":
                serial = f"2640:{STORE.prefix}{next(STORE.ids):013d}"
                count_send("tencent", session)
                failed = e164.endswith("0003")
                STORE.tencent_receipts.append({
                    "UserReceiveTime": int(time.time()) + RECEIVE_DELAY,
                    "CountryCode": number[1],
                    "SubscriberNumber": number[2],
                    "PhoneNumber": e164,
                    "SerialNo": serial,
                    "ReportStatus": "FAIL" if failed else "SUCCESS",
                    "Description": "用户手机号码为空号" if failed else "用户短信送达成功",
                    "SessionContext": session,
                })
            statuses.append({"SerialNo": serial, "PhoneNumber": e164 if isinstance(e164, str) else str(e164),
                             "Fee": 1 if code == "Ok" else 0, "SessionContext": session, "Code": code,
                             "Message": TENCENT_MESSAGES[code], "IsoCode": number[3] if number else "DEF"})
    entry["codes"] = [s["Code"] for s in statuses]
    entry["provider_ids"] = [s["SerialNo"] for s in statuses]
    entry["code"] = entry["codes"][0]
    entry["provider_id"] = entry["provider_ids"][0]
    return 200, {"Response": {"SendStatusSet": statuses, "RequestId": request_id}}


def tencent_pull(body: dict, entry: dict, request_id: str):
    limit = body.get("Limit")
    if limit is None:
        entry["verdict"] = "Limit missing"
        return tencent_error("MissingParameter", request_id, "The request is missing a required parameter `Limit`.")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100:
        entry["verdict"] = f"Limit {limit!r} is not 1 to 100"
        return tencent_error("InvalidParameterValue", request_id, "Limit must be an integer from 1 to 100.")
    entry["verdict"] = "ok"
    with STATE:
        handed = [STORE.tencent_receipts.popleft() for _ in range(min(limit, len(STORE.tencent_receipts)))]
    entry["returned"] = len(handed)
    return 200, {"Response": {"PullSmsSendStatusSet": handed, "RequestId": request_id}}


def handle_tencent(handler, url, body: bytes):
    request_id = str(uuid.uuid4())
    headers = handler.headers
    action = headers.get("X-TC-Action", "")
    entry = {"provider": "tencent", "action": action, "request_id": request_id}
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    if action == "SendSms" and isinstance(parsed, dict):
        numbers = parsed.get("PhoneNumberSet")
        entry.update(phone=numbers[0] if isinstance(numbers, list) and numbers else numbers, phones=numbers,
                     sign_name=parsed.get("SignName"), template=parsed.get("TemplateId"),
                     params=parsed.get("TemplateParamSet"), ref=parsed.get("SessionContext"))
    if handler.command != "POST" or url.path != "/" or url.query:
        entry["verdict"] = f"{handler.command} {handler.path}: only POST / with a JSON body is served"
        return tencent_error("InvalidParameter", request_id, "Only POST / with a JSON body is supported."), entry
    refusal = tencent_authenticate(handler, url, body, entry, request_id)
    if refusal is not None:
        return refusal, entry
    version = headers.get("X-TC-Version", "")
    if version != TENCENT_VERSION:
        entry["verdict"] = f"X-TC-Version {version!r} is not {TENCENT_VERSION}"
        return tencent_error("NoSuchVersion", request_id), entry
    region = headers.get("X-TC-Region")
    if not region:
        entry["verdict"] = "X-TC-Region missing"
        return tencent_error("MissingParameter", request_id), entry
    if region not in TENCENT_REGIONS:
        entry["verdict"] = f"X-TC-Region {region!r} is not an SMS region"
        return tencent_error("UnsupportedRegion", request_id), entry
    if action not in ("SendSms", "PullSmsSendStatus"):
        entry["verdict"] = f"unknown action {action!r}"
        return tencent_error("InvalidAction", request_id), entry
    content_type = headers.get("Content-Type", "").replace(" ", "").lower()
    if content_type not in ("application/json", "application/json;charset=utf-8"):
        entry["verdict"] = f"Content-Type {headers.get('Content-Type')!r} is not application/json"
        return tencent_error("InvalidParameter", request_id, "The Content-Type must be application/json."), entry
    if not isinstance(parsed, dict):
        entry["verdict"] = "body is not a JSON object"
        return tencent_error("FailedOperation.JsonParseFail", request_id), entry
    app_id = parsed.get("SmsSdkAppId")
    if not app_id:
        entry["verdict"] = "SmsSdkAppId missing"
        return tencent_error("MissingParameter", request_id,
                             "The request is missing a required parameter `SmsSdkAppId`."), entry
    if app_id != TENCENT_APP_ID:
        entry["verdict"] = f"unknown SmsSdkAppId {app_id!r}"
        return tencent_error("InvalidParameterValue.SdkAppIdNotExist", request_id), entry
    if action == "SendSms":
        return tencent_send(parsed, entry, request_id), entry
    return tencent_pull(parsed, entry, request_id), entry


# ---------------------------------------------------------------------------------------------------------------------
# HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # TCP_NODELAY: no 40 ms delayed-ACK stall between answers on a kept-alive line

    def log_message(self, *args):  # keep the test's output clean
        pass

    def answer(self, status: int, payload, content_type: str) -> None:
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def dispatch(self):
        url = urlsplit(self.path)
        try:
            body = self.read_body()
        except ValueError:
            self.close_connection = True
            record({"provider": "unknown", "action": "", "verdict": "unreadable body", "code": None, "status": 400,
                    "received": time.time()})
            return self.answer(400, {"error": "unreadable body"}, "application/json")
        with STATE:
            STORE.requests += 1
        try:
            if url.path in ("/_control", "/_stats"):
                (status, payload), entry = self.control(url.path, body)
                content_type = "application/json"
            elif "X-TC-Action" in self.headers:
                (status, payload), entry = handle_tencent(self, url, body)
                content_type = "application/json"  # exactly this: the Tencent SDK only reads errors under it
                entry.setdefault("code", payload["Response"].get("Error", {}).get("Code"))
            elif "x-acs-action" in self.headers:
                (status, payload), entry = handle_aliyun(self, self.command, url, body)
                content_type = "application/json;charset=utf-8"
                entry["code"] = payload.get("Code")
            else:
                entry = {"provider": "unknown", "action": "", "verdict": "neither x-acs-action nor X-TC-Action",
                         "code": None}
                status, payload, content_type = 404, {"error": "not found"}, "application/json"
        except Exception as error:  # a bug here must show in the log, not hang the client
            entry = {"provider": "unknown", "action": "", "verdict": f"internal error: {error!r}", "code": None}
            status, payload, content_type = 500, {"error": repr(error)}, "application/json"
        entry["status"] = status
        entry["received"] = time.time()
        record(entry)
        self.answer(status, payload, content_type)

    def control(self, path: str, body: bytes):
        entry = {"provider": "control", "action": path, "verdict": "ok", "code": None}
        if path == "/_stats":
            with STATE:
                stats = {"sends": STORE.sends, "by_ref": dict(STORE.by_ref), "by_provider": dict(STORE.by_provider),
                         "requests": STORE.requests, "quota": STORE.quota}
            return (200, stats), entry
        try:
            order = json.loads(body or b"{}")
            if not isinstance(order, dict) or not set(order) <= {"quota", "reset"}:
                raise ValueError("expected {\"quota\": bool, \"reset\": bool}")
        except ValueError as error:
            entry["verdict"] = f"bad control body: {error}"
            return (400, {"error": entry["verdict"]}), entry
        with STATE:
            if order.get("reset"):
                requests = STORE.requests
                STORE.reset()
                STORE.requests = requests
            if "quota" in order:
                STORE.quota = bool(order["quota"])
            entry["quota"] = STORE.quota
            return (200, {"quota": STORE.quota}), entry


def start_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256  # a benchmark may open many connections at once
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve(log_file: str) -> int:
    global LOG
    LOG = open(log_file, "a", encoding="utf-8")
    server = start_server()
    print(f"ready {server.server_address[1]}", flush=True)
    sys.stdin.read()  # returns when the test closes our stdin or exits
    server.shutdown()
    return 0


# ---------------------------------------------------------------------------------------------------------------------
# Self-test: the official SDK clients against an in-process instance, then a throughput run against a subprocess.

def selftest() -> int:
    import http.client
    import shutil
    import subprocess
    import tempfile

    from alibabacloud_dysmsapi20170525 import models as ali_models
    from alibabacloud_dysmsapi20170525.client import Client as AliClient
    from alibabacloud_tea_openapi import utils_models as ali_open
    from alibabacloud_tea_openapi.exceptions import ClientException
    from darabonba.runtime import RuntimeOptions
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.sms.v20210111 import models as tc_models

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        os.environ.pop(name, None)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

    global LOG
    workdir = tempfile.mkdtemp(prefix="sms_gateway_selftest_")
    log_path = os.path.join(workdir, "log.jsonl")
    LOG = open(log_path, "a", encoding="utf-8")
    server = start_server()
    port = server.server_address[1]
    endpoint = f"127.0.0.1:{port}"
    failures = []

    def check(condition, what):
        if not condition:
            failures.append(what)
            print(f"FAIL {what}", flush=True)

    def log_lines():
        with open(log_path, encoding="utf-8") as f:
            return [json.loads(line) for line in f]

    def control(payload=None, path="/_control"):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        if payload is None:
            conn.request("GET", path)
        else:
            conn.request("POST", path, json.dumps(payload), {"Content-Type": "application/json"})
        answer = json.loads(conn.getresponse().read())
        conn.close()
        return answer

    # ---- Alibaba through alibabacloud_dysmsapi20170525.client.Client --------------------------------------------
    def ali_client(key="LTAI-test-key", secret="aliyun-test-secret"):
        return AliClient(ali_open.Config(access_key_id=key, access_key_secret=secret, endpoint=endpoint,
                                         protocol="HTTP", read_timeout=5000, connect_timeout=5000))

    ali = ali_client()

    def ali_send(phone, template="SMS_465000001", params='{"case":"M-2026-0042","time":"12月5日 10:00"}',
                 sign="调解中心", out_id="outbox-1", client=None):
        request = ali_models.SendSmsRequest(phone_numbers=phone, sign_name=sign, template_code=template,
                                            template_param=params, out_id=out_id)
        return (client or ali).send_sms(request).body

    def ali_error(call):
        try:
            call()
        except ClientException as error:
            return error.status_code, error.code
        return None

    sent = ali_send("13800000000", out_id="outbox-ali-1")
    check(sent.code == "OK" and sent.message == "OK" and re.fullmatch(r"\d{18}\^0", sent.biz_id or ""),
          f"aliyun SendSms via SDK accepted with Code OK and a BizId: {sent.to_map()}")
    entry = [e for e in log_lines() if e.get("provider_id") == sent.biz_id]
    check(len(entry) == 1 and entry[0]["verdict"] == "ok" and entry[0]["phone"] == "13800000000"
          and entry[0]["params"] == {"case": "M-2026-0042", "time": "12月5日 10:00"} and entry[0]["ref"] == "outbox-ali-1"
          and entry[0]["sign_name"] == "调解中心" and entry[0]["template"] == "SMS_465000001" and entry[0]["code"] == "OK",
          f"aliyun SendSms logged with its parameters: {entry}")
    today = datetime.now(BEIJING).strftime("%Y%m%d")
    details = ali.query_send_details(ali_models.QuerySendDetailsRequest(
        phone_number="13800000000", biz_id=sent.biz_id, send_date=today, page_size=10, current_page=1)).body
    dtos = details.sms_send_detail_dtos.sms_send_detail_dto
    check(details.code == "OK" and details.total_count == 1 and len(dtos) == 1 and dtos[0].send_status == 3
          and dtos[0].err_code == "DELIVERED" and dtos[0].out_id == "outbox-ali-1"
          and dtos[0].phone_num == "13800000000",
          f"aliyun QuerySendDetails via SDK returns the receipt: {details.to_map()}")
    failed = ali_send("13800000003", out_id="outbox-ali-3")
    dtos = ali.query_send_details(ali_models.QuerySendDetailsRequest(
        phone_number="13800000003", biz_id=failed.biz_id, send_date=today, page_size=10, current_page=1)
    ).body.sms_send_detail_dtos.sms_send_detail_dto
    check(failed.code == "OK" and len(dtos) == 1 and dtos[0].send_status == 2 and dtos[0].err_code == "IC:0001",
          "aliyun 0003 is sent but its receipt says failed")
    unknown = ali.query_send_details(ali_models.QuerySendDetailsRequest(
        phone_number="13800000000", biz_id="123456789012345678^0", send_date=today, page_size=10, current_page=1)).body
    check(unknown.total_count == 0 and unknown.sms_send_detail_dtos.sms_send_detail_dto == [],
          f"aliyun unknown BizId gives TotalCount 0: {unknown.to_map()}")
    check(ali_error(lambda: ali_send("13800000000", client=ali_client(secret="aliyun-test-secreT")))
          == (400, "SignatureDoesNotMatch"), "aliyun secret with one byte changed -> 400 SignatureDoesNotMatch")
    check(ali_error(lambda: ali_send("13800000000", client=ali_client(key="LTAI-other")))
          == (404, "InvalidAccessKeyId.NotFound"), "aliyun unknown key -> 404 InvalidAccessKeyId.NotFound")
    check(ali_send("13800000001").code == "isv.MOBILE_NUMBER_ILLEGAL", "aliyun 0001 -> isv.MOBILE_NUMBER_ILLEGAL")
    first, second = ali_send("13800000002"), ali_send("13800000002")
    check(first.code == "isv.BUSINESS_LIMIT_CONTROL" and first.message == "触发小时级流控Permits:5"
          and second.code == "OK", "aliyun 0002 -> isv.BUSINESS_LIMIT_CONTROL once, then OK")
    check(ali_send("13800000000", template="SMS_BAD_1").code == "isv.SMS_TEMPLATE_ILLEGAL",
          "aliyun BAD template -> isv.SMS_TEMPLATE_ILLEGAL")
    check(ali_send("13800000000", params="not json").code == "isv.INVALID_JSON_PARAM"
          and ali_send("13800000000", params=None).code == "isv.INVALID_JSON_PARAM",
          "aliyun bad or missing TemplateParam -> isv.INVALID_JSON_PARAM")
    check(ali_send("13800000000", sign="").code == "isv.SMS_SIGNATURE_ILLEGAL",
          "aliyun empty SignName -> isv.SMS_SIGNATURE_ILLEGAL")
    control({"quota": True})
    check(ali_send("13800000000").code == "isv.AMOUNT_NOT_ENOUGH", "aliyun quota mode -> isv.AMOUNT_NOT_ENOUGH")
    control({"quota": False})
    check(ali_send("13800000000").code == "OK", "aliyun quota mode off -> OK again")
    # A wrong version, through the SDK's generic call_api (still signed by the SDK).
    wrong = ali_open.Params(action="SendSms", version="2000-01-01", protocol="HTTP", pathname="/", method="POST",
                            auth_type="AK", style="RPC", req_body_type="formData", body_type="json")
    check(ali_error(lambda: ali.call_api(wrong, ali_open.OpenApiRequest(query={"PhoneNumbers": "13800000000"}),
                                         RuntimeOptions())) == (400, "InvalidVersion"), "aliyun wrong version -> 400")

    # ---- Alibaba by hand, signed with the SDK's get_authorization (the Swift client's exact shape) ---------------
    def ali_raw(query, date=None, nonce=None, conn=None, secret="aliyun-test-secret"):
        headers = {"host": endpoint, "x-acs-action": "SendSms", "x-acs-version": ALIYUN_VERSION,
                   "x-acs-date": date or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
                   "x-acs-content-sha256": hashlib.sha256(b"").hexdigest()}
        request = DaraRequest()
        request.method, request.pathname, request.query, request.headers = "POST", "/", query, dict(headers)
        headers["Authorization"] = AliyunUtils.get_authorization(
            request, "ACS3-HMAC-SHA256", headers["x-acs-content-sha256"], "LTAI-test-key", secret)
        headers["accept"] = "application/json"
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        path = "/?" + "&".join(f"{k}={AliyunUtils.get_encode_param(v)}" for k, v in sorted(query.items()))
        conn.request("POST", path, b"", headers)
        response = conn.getresponse()
        answer = (response.status, json.loads(response.read()))
        if own:
            conn.close()
        return answer

    query = {"PhoneNumbers": "13900000000", "SignName": "调解中心", "TemplateCode": "SMS_465000001",
             "TemplateParam": json.dumps({"case": "M 1+2/3"}, ensure_ascii=False), "OutId": "raw-1"}
    status, answer = ali_raw(query)
    check(status == 200 and answer["Code"] == "OK", f"aliyun hand-signed rfc3986 query accepted: {answer}")
    stale = (datetime.now(timezone.utc) - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    check(ali_raw(query, date=stale)[1]["Code"] == "InvalidTimeStamp.Expired", "aliyun 20-minute-old x-acs-date")
    nonce = uuid.uuid4().hex
    replay = ali_raw(query, nonce=nonce), ali_raw(query, nonce=nonce)
    check(replay[0][1]["Code"] == "OK" and replay[1] == (400, replay[1][1])
          and replay[1][1]["Code"] == "SignatureNonceUsed", "aliyun reused nonce -> SignatureNonceUsed")
    status, answer = ali_raw(query, secret="aliyun-test-secrex")
    check(status == 400 and answer["Code"] == "SignatureDoesNotMatch" and answer["HostId"] == ALIYUN_HOST_ID
          and answer["Message"].startswith("Specified signature is not matched"), "aliyun error shape")

    # ---- Tencent through tencentcloud.sms.v20210111.SmsClient ----------------------------------------------------
    def tc_client(secret_id="AKID-test-id", secret_key="tencent-test-secret"):
        profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=endpoint, reqTimeout=5))
        return SmsClient(Credential(secret_id, secret_key), "ap-guangzhou", profile)

    tc = tc_client()

    def tc_send(numbers, template="2026001", sign="调解中心", params=("M-2026-0042", "12月5日 10:00"),
                session="outbox-tc-1", app="1400000001", client=None):
        request = tc_models.SendSmsRequest()
        request.PhoneNumberSet, request.SmsSdkAppId, request.SignName = list(numbers), app, sign
        request.TemplateId, request.TemplateParamSet, request.SessionContext = template, list(params), session
        return (client or tc).SendSms(request).SendStatusSet

    def tc_pull(limit=100, client=None):
        request = tc_models.PullSmsSendStatusRequest()
        request.Limit, request.SmsSdkAppId = limit, "1400000001"
        return (client or tc).PullSmsSendStatus(request).PullSmsSendStatusSet

    def tc_error(call):
        try:
            call()
        except TencentCloudSDKException as error:
            return error.code
        return None

    tc_pull()  # nothing should be waiting; empties the queue in any case
    statuses = tc_send(["+8613800000000"])
    check(len(statuses) == 1 and statuses[0].Code == "Ok" and statuses[0].SerialNo.startswith("2640:")
          and statuses[0].Fee == 1 and statuses[0].IsoCode == "CN" and statuses[0].SessionContext == "outbox-tc-1",
          "tencent SendSms via SDK accepted with Code Ok")
    entry = [e for e in log_lines() if e.get("provider_id") == statuses[0].SerialNo]
    check(len(entry) == 1 and entry[0]["verdict"] == "ok" and entry[0]["phone"] == "+8613800000000"
          and entry[0]["params"] == ["M-2026-0042", "12月5日 10:00"] and entry[0]["ref"] == "outbox-tc-1"
          and entry[0]["template"] == "2026001" and entry[0]["code"] == "Ok", f"tencent SendSms logged: {entry}")
    statuses = tc_send(["+8613800000013", "13800000003", "+8613800000001"], session="outbox-tc-2")
    check([s.Code for s in statuses] == ["Ok", "Ok", "InvalidParameterValue.IncorrectPhoneNumber"]
          and statuses[1].PhoneNumber == "+8613800000003" and statuses[2].SerialNo == "",
          "tencent several numbers in one request, 0001 refused per number")
    receipts = tc_pull(limit=2)
    rest = tc_pull()
    check(len(receipts) == 2 and len(rest) == 1 and receipts[0].ReportStatus == "SUCCESS"
          and receipts[0].Description == "用户短信送达成功" and receipts[0].SubscriberNumber == "13800000000"
          and receipts[0].CountryCode == "86" and isinstance(receipts[0].UserReceiveTime, int)
          and rest[0].PhoneNumber == "+8613800000003" and rest[0].ReportStatus == "FAIL" and tc_pull() == [],
          "tencent PullSmsSendStatus via SDK: each receipt once, at most Limit, 0003 FAIL")
    check(tc_error(lambda: tc_send(["+8613800000000"], client=tc_client(secret_key="tencent-test-secreT")))
          == "AuthFailure.SignatureFailure", "tencent secret with one byte changed -> AuthFailure.SignatureFailure")
    check(tc_error(lambda: tc_send(["+8613800000000"], client=tc_client(secret_id="AKID-other")))
          == "AuthFailure.SecretIdNotFound", "tencent unknown SecretId -> AuthFailure.SecretIdNotFound")
    check(tc_error(lambda: tc_send(["+8613800000000"], app="1400009999"))
          == "InvalidParameterValue.SdkAppIdNotExist", "tencent unknown SmsSdkAppId")
    codes = [tc_send(["+8613800000002"])[0].Code, tc_send(["+8613800000002"])[0].Code]
    check(codes == ["LimitExceeded.PhoneNumberThirtySecondLimit", "Ok"], f"tencent 0002 limited once: {codes}")
    check(tc_send(["+8613800000000"], template="BAD01")[0].Code == "FailedOperation.TemplateIncorrectOrUnapproved",
          "tencent BAD template")
    control({"quota": True})
    check(tc_send(["+8613800000000"])[0].Code == "FailedOperation.InsufficientBalanceInSmsPackage",
          "tencent quota mode")
    control({"quota": False})
    check(tc_send(["+8613800000000"])[0].Code == "Ok", "tencent quota mode off -> Ok again")

    # ---- Tencent by hand, signed with the SDK's _get_tc3_signature (the Swift client's exact shape) --------------
    def tc_raw(action, params, timestamp=None, content_type="application/json; charset=utf-8", conn=None):
        timestamp = int(time.time()) if timestamp is None else timestamp
        body = json.dumps(params, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        req = RequestInternal(endpoint, "POST", "/", header={"Content-Type": content_type, "Host": endpoint,
                                                             "X-TC-Timestamp": str(timestamp)}, data=body)
        date = datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")
        signature = TC3._get_tc3_signature(params, req, date, "sms", "tencent-test-secret")
        headers = dict(req.header, **{
            "X-TC-Action": action, "X-TC-Version": TENCENT_VERSION, "X-TC-Region": "ap-guangzhou",
            "Authorization": f"TC3-HMAC-SHA256 Credential=AKID-test-id/{date}/sms/tc3_request, "
                             f"SignedHeaders=content-type;host, Signature={signature}"})
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", "/", body, headers)
        answer = json.loads(conn.getresponse().read())["Response"]
        if own:
            conn.close()
        return answer

    send = {"PhoneNumberSet": ["+8613900000000"], "SmsSdkAppId": "1400000001", "SignName": "调解中心",
            "TemplateId": "2026001", "TemplateParamSet": ["M-1", "12月5日"], "SessionContext": "raw-tc-1"}
    check(tc_raw("SendSms", send)["SendStatusSet"][0]["Code"] == "Ok", "tencent hand-signed, charset=utf-8, accepted")
    check(tc_raw("SendSms", send, content_type="application/json")["SendStatusSet"][0]["Code"] == "Ok",
          "tencent hand-signed, plain application/json, accepted")
    check(tc_raw("SendSms", send, timestamp=int(time.time()) - 1200)["Error"]["Code"] == "AuthFailure.SignatureExpire",
          "tencent 20-minute-old timestamp -> AuthFailure.SignatureExpire")
    check(tc_raw("SendSms", send, content_type="text/plain")["Error"]["Code"] == "InvalidParameter",
          "tencent non-JSON content type refused")
    tc_pull()

    stats = control(path="/_stats")
    check(stats["by_ref"].get("outbox-ali-1") == 1 and stats["by_ref"].get("outbox-tc-2") == 2
          and stats["by_ref"].get("raw-tc-1") == 2 and stats["sends"] == sum(stats["by_ref"].values()),
          f"/_stats counts accepted sends by ref: {stats}")
    check(all(isinstance(e.get("verdict"), str) and e.get("provider") for e in log_lines()),
          "every log line has provider and verdict")
    server.shutdown()
    print(f"SDK checks: {'all passed' if not failures else f'{len(failures)} failed'}", flush=True)

    # ---- Throughput: the command-line peer in its own process, 4 keep-alive connections -------------------------
    bench_log = os.path.join(workdir, "bench.jsonl")
    peer = subprocess.Popen([sys.executable, os.path.abspath(__file__), bench_log], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    line = peer.stdout.readline()
    check(line.startswith("ready "), f"the peer prints 'ready PORT': {line!r}")
    port = int(line.split()[1])
    endpoint = f"127.0.0.1:{port}"
    per_thread, threads, bad = 150, 4, []

    def push(index):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for i in range(per_thread):
            if i % 2:
                q = dict(query, PhoneNumbers=f"139{index}{i:06d}8", OutId=f"bench-{index}-{i}")
                ok = ali_raw(q, conn=conn)[1].get("Code") == "OK"
            else:
                p = dict(send, PhoneNumberSet=[f"+86139{index}{i:06d}8"], SessionContext=f"bench-{index}-{i}")
                ok = tc_raw("SendSms", p, conn=conn)["SendStatusSet"][0]["Code"] == "Ok"
            if not ok:
                bad.append(i)
        conn.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=push, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    total = per_thread * threads
    rate = total / elapsed
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/_stats")
    bench_stats = json.loads(conn.getresponse().read())
    conn.close()
    peer.stdin.close()  # the peer exits when its stdin closes
    try:
        exit_code = peer.wait(timeout=5)
    except subprocess.TimeoutExpired:
        peer.kill()
        exit_code = None
    with open(bench_log, encoding="utf-8") as f:
        logged = sum(1 for _ in f)
    print(f"throughput: {total} signed, verified SendSms requests (half Alibaba, half Tencent) over {threads} "
          f"keep-alive connections in {elapsed:.2f} s = {rate:.0f} requests/s", flush=True)
    check(not bad, f"every benchmark request accepted ({len(bad)} refused)")
    check(bench_stats["sends"] == total and len(bench_stats["by_ref"]) == total
          and set(bench_stats["by_ref"].values()) == {1},
          f"/_stats counted {bench_stats['sends']} of {total} benchmark sends, each ref once")
    check(logged == total + 1, f"one log line per request ({logged} for {total} + 1)")
    check(rate >= 300, f"throughput {rate:.0f} requests/s is at least 300")
    check(exit_code == 0, f"the peer exits 0 when its stdin closes (got {exit_code})")

    if failures:
        print(f"selftest FAILED: {len(failures)} check(s):", *failures, sep="\n  ", flush=True)
        print(f"logs kept in {workdir}", flush=True)
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    print("selftest passed", flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--selftest":
        sys.exit(selftest())
    if len(sys.argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        sys.exit(2)
    sys.exit(serve(sys.argv[1]))
