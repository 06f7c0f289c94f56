"""What an uploaded file really is, judged by its first bytes (never by its name)."""

# Content type -> (file extension, a test on the first bytes)
SIGNATURES = {
    "image/jpeg": (".jpg", lambda head: head.startswith(b"\xff\xd8\xff")),
    "image/png": (".png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    "image/webp": (".webp", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
    "image/gif": (".gif", lambda head: head[:6] in (b"GIF87a", b"GIF89a")),
    "application/pdf": (".pdf", lambda head: head.startswith(b"%PDF-")),
}
# Spellings browsers and tools use for the same types.
ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "application/x-pdf": "application/pdf"}


def normalise_content_type(content_type):
    base = (content_type or "").split(";", 1)[0].strip().lower()
    return ALIASES.get(base, base)


def sniff(head):
    """The content type the bytes `head` (the start of a file) show, or None."""
    for content_type, (_, matches) in SIGNATURES.items():
        if matches(head):
            return content_type
    return None


def extension(content_type):
    return SIGNATURES[content_type][0]
