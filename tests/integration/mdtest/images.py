"""Push small, exact OCI images through the registry API.

push_image(registry, repo, tag, platforms=None, created=None, annotations=None)
returns the digest the tag points to: sha256 of the exact manifest (or index,
for multi-arch) bytes PUT. `registry` is a URL, a Registry or a RegistryClient.
"""
import datetime
import gzip
import io
import json
import os
import platform
import tarfile

from .registry import (MT_OCI_CONFIG, MT_OCI_INDEX, MT_OCI_LAYER, MT_OCI_MANIFEST,
                       RegistryClient, sha256_digest)

_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
         "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


def host_platform():
    """The platform the agent's default `arch` gate expects, e.g. linux/amd64."""
    return "linux/" + _ARCH.get(platform.machine(), platform.machine())


def _client(registry, credentials=None, ssl_context=None):
    if isinstance(registry, RegistryClient):
        return registry
    if hasattr(registry, "client"):  # a running Registry
        return registry.client(credentials=credentials)
    return RegistryClient(registry, ssl_context=ssl_context, credentials=credentials)


def _rfc3339(t):
    if t is None:
        t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
    if isinstance(t, datetime.datetime):
        if t.tzinfo is None:
            t = t.replace(tzinfo=datetime.timezone.utc)
        return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(t)


def _layer():
    """A gzipped tar holding one random file: (compressed, uncompressed digest)."""
    payload = os.urandom(64)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("magos-test/blob")
        info.size = len(payload)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(payload))
    plain = raw.getvalue()
    return gzip.compress(plain, mtime=0), sha256_digest(plain)


def _dumps(obj):
    return json.dumps(obj, indent=2, sort_keys=False).encode() + b"\n"


def push_single(client, repo, reference, plat, created, annotations=None):
    """Push one image manifest (layer + config) under `reference` (tag or
    digest). → (digest, manifest bytes)."""
    os_, _, arch = plat.partition("/")
    arch, _, variant = arch.partition("/")
    layer, diff_id = _layer()
    layer_digest = client.push_blob(repo, layer)
    config = {"created": created, "architecture": arch, "os": os_,
              "config": {"Labels": {"magos.test": "1"}},
              "rootfs": {"type": "layers", "diff_ids": [diff_id]},
              "history": [{"created": created, "created_by": "magos integration test"}]}
    if variant:
        config["variant"] = variant
    config_bytes = _dumps(config)
    config_digest = client.push_blob(repo, config_bytes)
    manifest = {"schemaVersion": 2, "mediaType": MT_OCI_MANIFEST,
                "config": {"mediaType": MT_OCI_CONFIG, "digest": config_digest,
                           "size": len(config_bytes)},
                "layers": [{"mediaType": MT_OCI_LAYER, "digest": layer_digest,
                            "size": len(layer)}]}
    if annotations:
        manifest["annotations"] = dict(annotations)
    data = _dumps(manifest)
    if reference is None:
        reference = sha256_digest(data)
    return client.put_manifest(repo, reference, data, MT_OCI_MANIFEST), data


def push_image(registry, repo, tag, platforms=None, created=None, annotations=None, **client_kw):
    """Push a fresh image under `tag`; → digest of what the tag points to.

    platforms=None: one image for the host platform. platforms=["linux/amd64",
    "linux/arm64"]: an OCI index of per-platform manifests (pushed by digest
    first) and the index digest is returned. `created` (datetime or RFC 3339
    string, default one day ago) goes into every config; `annotations` onto
    the manifest, or the index for multi-arch."""
    client = _client(registry, **client_kw)
    created = _rfc3339(created)
    if not platforms:
        digest, _ = push_single(client, repo, tag, host_platform(), created, annotations)
        return digest
    entries = []
    for plat in platforms:
        digest, data = push_single(client, repo, None, plat, created)
        os_, _, arch = plat.partition("/")
        arch, _, variant = arch.partition("/")
        p = {"architecture": arch, "os": os_}
        if variant:
            p["variant"] = variant
        entries.append({"mediaType": MT_OCI_MANIFEST, "digest": digest, "size": len(data),
                        "platform": p})
    index = {"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": entries}
    if annotations:
        index["annotations"] = dict(annotations)
    return client.put_manifest(repo, tag, _dumps(index), MT_OCI_INDEX)


def push_tags(registry, repo, tags, **kw):
    """Push a distinct image under each tag; → {tag: digest}."""
    client = _client(registry, **{k: kw.pop(k) for k in ("credentials", "ssl_context") if k in kw})
    return {t: push_image(client, repo, t, **kw) for t in tags}


def retag(registry, repo, src, dst, **client_kw):
    return _client(registry, **client_kw).retag(repo, src, dst)


def delete_tag(registry, repo, tag, **client_kw):
    return _client(registry, **client_kw).delete_tag(repo, tag)
