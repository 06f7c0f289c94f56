"""What changed between two versions of a text, as a person reads it: the words taken out and
put in, with a little of the unchanged text around them and the rest left out.

`inline_diff(old, new)` returns segments `(op, text)`:

- `"="` unchanged text (at most `context` characters either side of a change),
- `"-"` text taken out, `"+"` text put in,
- `"…"` unchanged text left out (its `text` is empty).

Lines are matched first, then the words of the lines that changed, so a long story compares
quickly; a block of changed lines too long to compare word by word is shown as taken out and
put in whole. Chinese and Japanese characters count as words of their own (they have no
spaces between them). The result is cut after about `limit` characters of change.
"""

import difflib
import re

_CJK = "\u3000-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"  # CJK characters and full-width forms
# A run of spaces, one CJK character, a word, or one mark of punctuation.
_TOKENS = re.compile(rf"\s+|[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")
WORD_DIFF_MAX = 4000  # characters per side of a block of changed lines compared word by word


def inline_diff(old, new, *, context=80, limit=4000):
    old, new = old or "", new or ""
    segments = []
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        taken, put = "".join(old_lines[a1:a2]), "".join(new_lines[b1:b2])
        if op == "equal":
            segments.append(("=", taken))
        elif op == "replace" and len(taken) <= WORD_DIFF_MAX and len(put) <= WORD_DIFF_MAX:
            segments.extend(_word_diff(taken, put))
        else:
            segments.extend(s for s in (("-", taken), ("+", put)) if s[1])
    return _trim(_merge(segments), context, limit)


def changed_parts(segments):
    """(taken out, put in): the texts of the "-" and "+" segments, in order."""
    return [t for op, t in segments if op == "-"], [t for op, t in segments if op == "+"]


def _word_diff(old, new):
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            yield ("=", "".join(a[a1:a2]))
            continue
        if a2 > a1:
            yield ("-", "".join(a[a1:a2]))
        if b2 > b1:
            yield ("+", "".join(b[b1:b2]))


def _merge(segments):
    """Neighbouring segments of the same kind joined; a change of only spaces kept as it is."""
    merged: list[tuple[str, str]] = []
    for op, text in segments:
        if not text:
            continue
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + text)
        else:
            merged.append((op, text))
    return merged


def _trim(segments, context, limit):
    """Unchanged text cut to `context` characters beside each change; stop after `limit`
    characters of change."""
    out, shown = [], 0
    last = len(segments) - 1
    for index, (op, text) in enumerate(segments):
        if op != "=":
            room = limit - shown
            if room <= 0:
                out.append(("…", ""))
                break
            if len(text) > room:
                out.extend([(op, text[:room]), ("…", "")])
                break
            out.append((op, text))
            shown += len(text)
            continue
        before = index > 0  # a change comes before this unchanged text
        after = index < last  # and one after it
        if before and after and len(text) > 2 * context:
            out.extend([("=", text[:context]), ("…", ""), ("=", text[-context:])])
        elif before and not after and len(text) > context:
            out.extend([("=", text[:context]), ("…", "")])
        elif after and not before and len(text) > context:
            out.extend([("…", ""), ("=", text[-context:])])
        elif before or after:
            out.append(("=", text))
        else:
            out.append(("…", ""))  # nothing changed at all
    return out
