"""A small SOPS encryptor for dotenv files (the format is described in
docs/protocols.md, "SOPS"), so tests can make SOPS files for any recipient
without the sops binary; and fresh age identities from the real age-keygen.

encrypt_dotenv({"KEY": "value", ...}, recipient) → the file's text. The data
key is age-encrypted by the real `age` binary; values are AES-256-GCM with a
32-byte IV and the key path ("KEY:") as additional data; the MAC is the
uppercase hex SHA-512 of the plaintext values in order, encrypted with the
lastmodified time as additional data.
"""
import base64
import datetime
import hashlib
import os
import subprocess

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

AGE = "/usr/bin/age"
AGE_KEYGEN = "/usr/bin/age-keygen"


def _b64(b):
    return base64.b64encode(b).decode()


def encrypt_value(key, plaintext, aad, typ="str"):
    iv = os.urandom(32)
    sealed = AESGCM(key).encrypt(iv, plaintext.encode(), aad.encode())
    data, tag = sealed[:-16], sealed[-16:]
    return f"ENC[AES256_GCM,data:{_b64(data)},iv:{_b64(iv)},tag:{_b64(tag)},type:{typ}]"


def keygen(path):
    """A new age identity written to path (0600) by the real age-keygen;
    returns its recipient (public key)."""
    subprocess.run([AGE_KEYGEN, "-o", path], capture_output=True, check=True, timeout=30)
    with open(path) as f:
        for line in f:
            if line.startswith("# public key: "):
                return line.split(": ", 1)[1].strip()
    raise AssertionError(f"age-keygen wrote no public key to {path}")


def age_encrypt(data, recipient):
    p = subprocess.run([AGE, "-r", recipient, "-a"], input=data, capture_output=True,
                       check=True, timeout=30)
    return p.stdout.decode()


def encrypt_dotenv(values, recipient, tamper_mac=False):
    """values: an ordered {KEY: value}. tamper_mac: store the MAC of other
    values (a file whose MAC must not verify)."""
    key = os.urandom(32)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [f"{k}={encrypt_value(key, v, k + ':')}" for k, v in values.items()]
    h = hashlib.sha512()
    for v in values.values():
        h.update(v.encode())
    if tamper_mac:
        h.update(b"tampered")
    mac = encrypt_value(key, h.hexdigest().upper(), now)
    armored = age_encrypt(key, recipient).replace("\n", "\\n")
    lines += [f"sops_age__list_0__map_enc={armored}",
              f"sops_age__list_0__map_recipient={recipient}",
              f"sops_lastmodified={now}",
              f"sops_mac={mac}",
              "sops_unencrypted_suffix=_unencrypted",
              "sops_version=3.8.1"]
    return "\n".join(lines) + "\n"
