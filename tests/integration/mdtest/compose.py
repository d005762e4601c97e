"""Compose file snippets for the tests."""
from .checks import annotation


def site_line(ref, indent=4, **ann):
    return f"{' ' * indent}image: {ref} {annotation(**ann)}\n"


def compose_site(ref, service="app", **ann):
    """A minimal compose document with one annotated image on line 3."""
    return (f"services:\n  {service}:\n" + site_line(ref, **ann) +
            "    restart: unless-stopped\n")
