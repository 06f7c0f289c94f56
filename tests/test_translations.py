"""The Chinese catalog covers every string the code and templates show, and keeps their placeholders.

If this fails after you added or changed text: run `make messages`, translate the new msgids in
crowdfund/translations/zh/LC_MESSAGES/messages.po, and run the tests again.
"""

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "crowdfund" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@pytest.fixture(scope="module")
def catalog():
    with PO.open("rb") as source:
        return read_po(source, locale="zh")


def key(message_id):
    return tuple(message_id) if isinstance(message_id, (list, tuple)) else message_id


def test_every_string_in_the_code_is_in_the_catalog(catalog):
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    found = {
        key(message_id)
        for _, _, message_id, _, _ in extract_from_dir(
            str(ROOT),
            method_map,
            options_map,
            keywords=keywords,
            directory_filter=lambda path: not Path(path).name.startswith("."),
        )
    }
    in_catalog = {key(m.id) for m in catalog if m.id}
    assert sorted(map(str, found - in_catalog)) == [], "run `make messages` and translate the new strings"


def test_every_message_is_translated_with_the_same_placeholders(catalog):
    problems = []
    for message in catalog:
        if not message.id:
            continue
        source = " ".join(message.id) if isinstance(message.id, (list, tuple)) else message.id
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        if "fuzzy" in message.flags or not all(strings):
            problems.append(("untranslated", source))
            continue
        for text in strings:
            if set(PLACEHOLDER.findall(text)) - set(PLACEHOLDER.findall(source)) or (
                not isinstance(message.id, (list, tuple))
                and set(PLACEHOLDER.findall(source)) != set(PLACEHOLDER.findall(text))
            ):
                problems.append(("placeholders differ", source, text))
    assert problems == []
