#!/usr/bin/python3
"""Push a small image under each tag to a registry: used by `make demo`.

usage: seed_demo.py HOST:PORT REPO TAG [TAG...]
       [--platforms linux/amd64,linux/arm64] [--https] [--ca-file CA.pem]
       [--user USER --password-file FILE]

Prints `REPO:TAG sha256:...` per tag (the digest the tag points to)."""
import argparse
import os
import ssl
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mdtest.images import push_image  # noqa: E402
from mdtest.registry import RegistryClient, RegistryError  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("registry", help="host:port of the registry, e.g. 127.0.0.1:5000")
    ap.add_argument("repo", help="repository name, e.g. demo/web")
    ap.add_argument("tags", nargs="+", help="tags to push, each a fresh image")
    ap.add_argument("--platforms", help="comma-separated os/arch list: push an OCI index")
    ap.add_argument("--https", action="store_true", help="talk HTTPS instead of plain HTTP")
    ap.add_argument("--ca-file", help="CA bundle to verify the registry (implies --https)")
    ap.add_argument("--user", help="user for the registry's token service")
    ap.add_argument("--password-file", help="file holding the password for --user")
    args = ap.parse_args(argv)

    https = args.https or bool(args.ca_file)
    ctx = ssl.create_default_context(cafile=args.ca_file) if https else None
    creds = None
    if args.user:
        if not args.password_file:
            ap.error("--user needs --password-file")
        with open(args.password_file) as f:
            creds = (args.user, f.read().strip())
    client = RegistryClient(f"{'https' if https else 'http'}://{args.registry}",
                            ssl_context=ctx, credentials=creds)
    platforms = args.platforms.split(",") if args.platforms else None
    try:
        for tag in args.tags:
            digest = push_image(client, args.repo, tag, platforms=platforms)
            print(f"{args.repo}:{tag} {digest}", flush=True)
    except (RegistryError, OSError) as e:
        print(f"seed_demo: {args.registry}/{args.repo}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
