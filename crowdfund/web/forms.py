"""Helpers shared by the web forms."""
from urllib.parse import urlsplit

from flask import url_for


def apply_domain_error(form, error):
    """Put a service's DomainError back onto the form: per field where it names one."""
    placed = False
    for name, message in (error.fields or {}).items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + [message]
            placed = True
    if not placed:
        form.form_errors.append(error.message)


def safe_next(target, fallback_endpoint="main.index"):
    """`target` if it is a path on this site; otherwise the fallback. Refuses open redirects."""
    fallback = url_for(fallback_endpoint)
    if not target or not isinstance(target, str):
        return fallback
    target = target.strip()
    if "\\" in target or any(ord(c) < 32 for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target
