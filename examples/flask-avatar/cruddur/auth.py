"""The dev stand-in for Cognito: HS256 JWTs signed with the app's secret.

Every protected endpoint verifies signature, exp, iat, iss, aud and sub, with the algorithm pinned
to HS256 (a token with alg none or RS256 is refused), and that the user still exists.
"""
from __future__ import annotations

import functools
import time

import jwt
from flask import current_app, g, request

from . import users


def issue(user_uuid: str) -> str:
    cfg = current_app.config
    now = int(time.time())
    claims = {
        "sub": user_uuid,
        "iss": cfg["JWT_ISSUER"],
        "aud": cfg["JWT_AUDIENCE"],
        "iat": now,
        "exp": now + int(cfg["JWT_TTL_SECONDS"]),
        "token_use": "access",
    }
    return jwt.encode(claims, cfg["JWT_SECRET"], algorithm="HS256")


def verify(token: str) -> dict:
    cfg = current_app.config
    return jwt.decode(
        token,
        cfg["JWT_SECRET"],
        algorithms=["HS256"],
        audience=cfg["JWT_AUDIENCE"],
        issuer=cfg["JWT_ISSUER"],
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        leeway=5,
    )


def bearer_token() -> str | None:
    h = request.headers.get("Authorization", "")
    scheme, _, token = h.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def unauthorized():
    return {"error": "unauthorized"}, 401


def required(view):
    """The view gets g.user (the users row) or the request is answered 401."""

    @functools.wraps(view)
    def wrapper(*a, **kw):
        token = bearer_token()
        if token is None:
            return unauthorized()
        try:
            claims = verify(token)
        except jwt.InvalidTokenError as e:
            current_app.logger.debug("token refused: %s", e)
            return unauthorized()
        user = users.by_uuid(claims["sub"]) if isinstance(claims.get("sub"), str) else None
        if user is None:
            return unauthorized()
        g.user = user
        return view(*a, **kw)

    return wrapper
