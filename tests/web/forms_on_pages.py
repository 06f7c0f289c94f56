"""The forms of a page as a browser sees them: what the bad-input sweep sends to."""

from html.parser import HTMLParser


class FormParser(HTMLParser):
    """The <form>s of a page: method, action, enctype and fields (name, kind, value, options)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self._form, self._textarea, self._select = [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._form = {
                "method": a.get("method", "get").lower(),
                "action": a.get("action", ""),
                "enctype": a.get("enctype", ""),
                "fields": [],
            }
            self.forms.append(self._form)
        elif self._form is None or "name" not in a and tag in ("input", "textarea", "select"):
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a and kind == "checkbox":
                value = None
            else:
                value = a.get("value", "on" if kind == "checkbox" else "")
            if kind == "radio":
                existing = next((f for f in self._form["fields"] if f["name"] == a["name"]), None)
                if existing is not None:
                    existing["options"].append(a.get("value", ""))
                    if "checked" in a:
                        existing["value"] = a.get("value", "")
                    return
                value = a.get("value", "") if "checked" in a else None
            self._form["fields"].append(
                {
                    "name": a["name"],
                    "kind": kind,
                    "value": value,
                    "inputmode": a.get("inputmode", ""),
                    "options": [a.get("value", "")] if kind == "radio" else [],
                }
            )
        elif tag == "textarea":
            self._textarea = {"name": a["name"], "kind": "textarea", "value": "", "inputmode": "", "options": []}
            self._form["fields"].append(self._textarea)
        elif tag == "select":
            self._select = {"name": a["name"], "kind": "select", "value": None, "inputmode": "", "options": []}
            self._form["fields"].append(self._select)
        elif tag == "option" and self._select is not None:
            self._select["options"].append(a.get("value", ""))
            if "selected" in a or self._select["value"] is None:
                self._select["value"] = a.get("value", "")

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def forms_of(html):
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def is_text(field):
    return field["kind"] in ("text", "email", "search", "password", "url", "tel", "textarea", "number")


def is_number(field):
    return field["inputmode"] in ("decimal", "numeric") or field["kind"] == "number"
