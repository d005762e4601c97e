"""A Docker-registry token service (distribution's `auth.token` flow).

GET /token?service=S&scope=repository:NAME:ACTIONS[&scope=...] answers
{"token", "access_token", "expires_in", "issued_at"} with an RS256 JWT whose
header carries `x5c` = [signing cert], which docker-registry 2.8 validates
against its `rootcertbundle`. Every request is recorded (who asked for what)
so tests can tell anonymous requests from Basic ones.
"""
import base64
import datetime
import os
import threading
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from flask import Flask, jsonify, request

from . import net, tlsca

# Test accounts: the seeding helpers push as PUSHER; tests log the agent in as ALICE.
PUSHER = ("pusher", "pusher-Pw-7713")
ALICE = ("alice", "Alice-s3cret-Pw-4242")


class TokenRequest:
    def __init__(self, user, password, service, scopes, status):
        self.user = user          # None for anonymous
        self.password = password  # as sent (tests may compare it)
        self.service = service
        self.scopes = scopes
        self.status = status

    def __repr__(self):
        return f"TokenRequest(user={self.user!r}, scopes={self.scopes!r}, status={self.status})"


class TokenService:
    """`users`: {name: password}. Authenticated users get every action they
    ask for; anonymous callers get `anonymous_actions` (empty = refused)."""

    def __init__(self, directory, service="magos-test-registry", issuer="magos-test-issuer",
                 users=None, anonymous_actions=("pull",), ttl=300):
        os.makedirs(directory, exist_ok=True)
        self.service = service
        self.issuer = issuer
        self.users = dict(users or {})
        self.anonymous_actions = tuple(anonymous_actions)
        self.ttl = ttl
        self.requests = []
        self._lock = threading.Lock()
        self._key, cert = tlsca.self_signed("magos test token signer")
        self.cert_file = os.path.join(directory, "token-signer.pem")
        with open(self.cert_file, "wb") as f:
            f.write(tlsca.cert_pem(cert))
        self._x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
        self._key_pem = tlsca.key_pem(self._key)
        self._server = net.WSGIThread(self._app())
        self.url = self._server.url
        self.realm = f"{self.url}/token"

    def stop(self):
        self._server.stop()

    def clear(self):
        with self._lock:
            self.requests.clear()

    def recorded(self):
        with self._lock:
            return list(self.requests)

    def _record(self, *args):
        with self._lock:
            self.requests.append(TokenRequest(*args))

    @staticmethod
    def _basic(header):
        if not header or not header.startswith("Basic "):
            return None, None
        try:
            raw = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return "", ""
        user, _, password = raw.partition(":")
        return user, password

    def _grant(self, user, scopes):
        access = []
        for scope in scopes:
            # repository:host:port/name:pull,push splits on first and last ':'
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            wanted = [a for a in actions.split(",") if a]
            if user is None:
                wanted = [a for a in wanted if a in self.anonymous_actions]
            if kind and name and wanted:
                access.append({"type": kind, "name": name, "actions": wanted})
        return access

    def issue(self, user, access):
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": user or "", "aud": self.service,
                  "exp": now + self.ttl, "nbf": now - 10, "iat": now,
                  "jti": uuid.uuid4().hex, "access": access}
        return jwt.encode(claims, self._key_pem, algorithm="RS256",
                          headers={"x5c": self._x5c})

    def _app(self):
        app = Flask("magos-token-service")

        @app.route("/token", methods=["GET"])
        def token():
            user, password = self._basic(request.headers.get("Authorization"))
            service = request.args.get("service")
            scopes = []
            for s in request.args.getlist("scope"):
                scopes.extend(s.split(" "))
            if user is not None and self.users.get(user) != password:
                self._record(user, password, service, scopes, 401)
                return jsonify({"errors": [{"code": "UNAUTHORIZED",
                                            "message": "invalid username or password"}]}), 401
            if user is None and not self.anonymous_actions:
                self._record(None, None, service, scopes, 401)
                return jsonify({"errors": [{"code": "UNAUTHORIZED",
                                            "message": "authentication required"}]}), 401
            if service != self.service:
                self._record(user, password, service, scopes, 400)
                return jsonify({"errors": [{"code": "DENIED", "message": "unknown service"}]}), 400
            tok = self.issue(user, self._grant(user, scopes))
            self._record(user, password, service, scopes, 200)
            issued = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            return jsonify({"token": tok, "access_token": tok, "expires_in": self.ttl,
                            "issued_at": issued})

        return app
