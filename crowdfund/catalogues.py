"""The compiled message catalogues (.mo), made from the committed .po files as the app starts.

Only the .po files are in the repository; without their .mo files every page is English. So
that no deployment depends on a build step someone may skip, `create_app` compiles any
catalogue whose .mo is missing or older than its .po (nothing to do on every later start).
Several processes starting at once (gunicorn's workers) may each compile: each writes a
file of its own and renames it over the .mo in one step, so a reader never sees half a
catalogue, and whichever rename comes last leaves the same bytes.

When the code's directory cannot be written (deployed read-only, owned by another user),
the catalogues are compiled into the instance folder instead, and read from there.
"""

import logging
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

log = logging.getLogger(__name__)


def compile_catalogues(app):
    """Compile the stale catalogues of `app`'s translations; call before Flask-Babel's init_app."""
    source = Path(app.root_path) / "translations"
    if not source.is_dir():
        return
    try:
        compile_stale(source, source)
    except OSError as error:
        target = Path(app.instance_path) / "translations"
        log.warning(
            "cannot write the compiled catalogues beside their .po files (%s); compiling them into %s", error, target
        )
        compile_stale(source, target)
        app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(target)


def compile_stale(source, target):
    """Write target/<lang>/LC_MESSAGES/<domain>.mo for each source .po whose .mo is missing or
    older. Returns the .mo files written."""
    written = []
    for po in sorted(source.glob("*/LC_MESSAGES/*.po")):
        mo = target / po.relative_to(source).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as text:
            catalog = read_po(text, locale=po.parent.parent.name)
        mo.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=mo.parent, prefix=f".{mo.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                write_mo(out, catalog)  # fuzzy entries are left out, as `pybabel compile` does
            os.replace(temporary, mo)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        log.info("compiled %s", mo)
        written.append(mo)
    return written
