#!/usr/bin/env python3
"""Verifies an HS256 JWT with PyJWT, a real, independent verifier, and prints its payload as JSON.

Usage:
    jwt_verify.py TOKEN --audience AUD --issuer ISS [--secret-hex HEX | --secret-env NAME]

The secret comes from the environment so that it never shows up in a process listing: by default from
JWT_SECRET_HEX (hex-encoded bytes) or, failing that, JWT_SECRET (UTF-8 text). --secret-hex is accepted for
manual runs. The token may also be read from stdin by giving "-" as TOKEN.

Checks: the signature (HMAC-SHA256 only; any other "alg" is refused), "aud" and "iss", and that iss, aud, sub,
room, nbf, exp and context are present, nbf and exp being integers. nbf and exp are NOT checked against the
current time, so that a token for a future (or past) session still decodes; the caller compares their values.

Exit status: 0 and the payload on stdout when the token verifies; 1 and the reason on stderr when it does not;
2 on usage errors.
"""
import argparse
import json
import os
import sys

try:
    import jwt
except ImportError:  # pragma: no cover
    print("PyJWT is not installed: run scripts/python-env.sh", file=sys.stderr)
    sys.exit(2)

REQUIRED = ["iss", "aud", "sub", "room", "nbf", "exp", "context"]


def main() -> int:
    parser = argparse.ArgumentParser(description="Verify an HS256 JWT with PyJWT")
    parser.add_argument("token", help="the JWT, or - to read it from stdin")
    parser.add_argument("--audience", required=True)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--secret-hex", help="the secret as hex (prefer JWT_SECRET_HEX in the environment)")
    args = parser.parse_args()

    token = sys.stdin.read().strip() if args.token == "-" else args.token
    if args.secret_hex is not None:
        secret = bytes.fromhex(args.secret_hex)
    elif "JWT_SECRET_HEX" in os.environ:
        secret = bytes.fromhex(os.environ["JWT_SECRET_HEX"])
    elif "JWT_SECRET" in os.environ:
        secret = os.environ["JWT_SECRET"].encode("utf-8")
    else:
        print("no secret: set JWT_SECRET_HEX or JWT_SECRET, or pass --secret-hex", file=sys.stderr)
        return 2

    try:
        header = jwt.get_unverified_header(token)
        payload = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=args.audience,
            issuer=args.issuer,
            options={"verify_nbf": False, "verify_exp": False, "require": REQUIRED},
        )
    except jwt.PyJWTError as error:
        print(f"verification failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1

    if header.get("typ") != "JWT" or header.get("alg") != "HS256":
        print(f"verification failed: unexpected header {json.dumps(header)}", file=sys.stderr)
        return 1
    for claim in ("nbf", "exp"):
        if type(payload[claim]) is not int:
            print(f"verification failed: {claim} is not an integer: {payload[claim]!r}", file=sys.stderr)
            return 1

    print(json.dumps(payload, sort_keys=True, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
