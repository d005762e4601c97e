"""`verify-bundle` beyond the conformance suite: usage errors, image mode,
where the trusted root comes from, with the project's generated signatures
(tests/fixtures/sigstore/, see its README)."""
import hashlib
import os
import shutil
import subprocess

from mdtest.agent import REPO_ROOT, SANITIZER_VARS

FIX = os.path.join(REPO_ROOT, "tests", "fixtures", "sigstore")
BASE = os.path.join(FIX, "base")
EXTRA = os.path.join(FIX, "extra")
DIGEST = "sha256:" + hashlib.sha256(b"magos-dominus test image").hexdigest()
ISSUER = "https://token.actions.githubusercontent.com"
BASE_ID = "https://github.com/magos-test/app/.github/workflows/release.yml@refs/heads/main"
EXTRA_ID = "https://github.com/magos-test/app/.github/workflows/release.yml@refs/tags/v1.2.3"


def run(binary, home, *args):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    env.update({k: os.environ[k] for k in SANITIZER_VARS if k in os.environ})
    return subprocess.run([binary, "verify-bundle", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def keyless(bundle, identity=BASE_ID, root=os.path.join(BASE, "trusted_root.json")):
    args = ["--bundle", bundle, "--certificate-identity", identity,
            "--certificate-oidc-issuer", ISSUER]
    return args + (["--trusted-root", root] if root else [])


def test_usage_errors(magos_bin, tmp_path):
    bundle = os.path.join(BASE, "bundle-dsse.sigstore.json")
    key = os.path.join(BASE, "keyed", "cosign.pub")
    cases = [
        ([DIGEST], "verify-bundle --bundle FILE"),
        (["--bundle", bundle], "verify-bundle --bundle FILE"),
        (keyless(bundle) + [DIGEST, DIGEST], "verify-bundle --bundle FILE"),
        (keyless(bundle) + ["--key", key, DIGEST], "a key and a keyless identity are exclusive"),
        (["--bundle", bundle, "--certificate-identity", BASE_ID, DIGEST],
         "exactly one of issuer and issuerRegexp"),
        (keyless(bundle) + ["--staging", DIGEST], "--staging is not supported"),
        (keyless(bundle, root=os.path.join(BASE, "meta.json")) + [DIGEST],
         "meta.json: mediaType is missing, not a Sigstore trusted root"),
        (keyless(bundle) + [str(tmp_path / "no-such-artifact")], "cannot open"),
    ]
    for args, message in cases:
        r = run(magos_bin, tmp_path, *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert message in r.stderr, (args, r.stderr)
        assert r.stdout == ""


def test_image_mode(magos_bin, tmp_path):
    r = run(magos_bin, tmp_path, *keyless(os.path.join(BASE, "bundle-dsse.sigstore.json")),
            "--image", DIGEST)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"verified: signed by {BASE_ID} (issuer {ISSUER}) at ")
    assert r.stdout.endswith("; 1 log entries, 0 timestamps\n")

    # another image
    other = "sha256:" + "1" * 64
    r = run(magos_bin, tmp_path, *keyless(os.path.join(BASE, "bundle-dsse.sigstore.json")),
            "--image", other)
    assert r.returncode == 1
    assert "refused: " in r.stderr and f"is not about {other}" in r.stderr

    # an attestation by the right signer is not an image signature...
    args = keyless(os.path.join(EXTRA, "attestation.sigstore.json"), EXTRA_ID,
                   os.path.join(EXTRA, "trusted_root.json"))
    r = run(magos_bin, tmp_path, *args, "--image", DIGEST)
    assert r.returncode == 1
    assert "predicate type is 'https://slsa.dev/provenance/v1'" in r.stderr
    # ...but a valid attestation about the artifact with that digest
    r = run(magos_bin, tmp_path, *args, DIGEST)
    assert r.returncode == 0, r.stderr


def test_artifact_by_file_and_by_digest(magos_bin, tmp_path):
    bundle = os.path.join(BASE, "bundle-msgsig.sigstore.json")
    payload = os.path.join(BASE, "legacy", "payload.json")
    with open(payload, "rb") as f:
        digest = "sha256:" + hashlib.sha256(f.read()).hexdigest()
    for subject in (payload, digest):
        r = run(magos_bin, tmp_path, *keyless(bundle), subject)
        assert r.returncode == 0, r.stderr
    tampered = tmp_path / "payload.json"
    tampered.write_bytes(open(payload, "rb").read() + b" ")
    r = run(magos_bin, tmp_path, *keyless(bundle), str(tampered))
    assert r.returncode == 1
    assert "the signature does not verify" in r.stderr


def test_key_and_timestamp(magos_bin, tmp_path):
    r = run(magos_bin, tmp_path, "--bundle", os.path.join(EXTRA, "key-ed25519.sigstore.json"),
            "--key", os.path.join(EXTRA, "key-ed25519.pub"),
            "--trusted-root", os.path.join(EXTRA, "trusted_root.json"), "--image", DIGEST)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("verified: signed by key=sha256:")
    r = run(magos_bin, tmp_path, *keyless(os.path.join(EXTRA, "keyless-intermediate.sigstore.json"),
                                          EXTRA_ID, os.path.join(EXTRA, "trusted_root.json")),
            "--image", DIGEST)
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith("; 1 log entries, 1 timestamps\n")


def test_trusted_root_from_cosign_cache(magos_bin, tmp_path):
    bundle = os.path.join(BASE, "bundle-dsse.sigstore.json")
    r = run(magos_bin, tmp_path, *keyless(bundle, root=None), "--image", DIGEST)
    assert r.returncode == 1
    assert "cannot decide: keyless verification needs a Sigstore trusted root" in r.stderr
    cache = tmp_path / ".sigstore" / "root" / "tuf-repo-cdn.sigstore.dev" / "targets"
    cache.mkdir(parents=True)
    shutil.copy(os.path.join(BASE, "trusted_root.json"), cache / "trusted_root.json")
    r = run(magos_bin, tmp_path, *keyless(bundle, root=None), "--image", DIGEST)
    assert r.returncode == 0, r.stderr
