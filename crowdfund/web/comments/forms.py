from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ...services.comments import BODY_MAX, REASON_MAX
from ..forms import Form

BODY_MISSING = _l("Write your question or comment.")
REASON_MISSING = _l("Say why the comment is hidden: the reason is kept for the record.")


class CommentForm(Form):
    body = TextAreaField(
        _l("Your question or comment"),
        validators=[DataRequired(BODY_MISSING), Length(max=BODY_MAX)],
        description=_l("Shown to everyone. Markdown works: **bold**, lists, links."),
    )
    parent_id = HiddenField()  # a reply: the comment it answers
    submit = SubmitField(_l("Post"))


class ReportForm(Form):
    reason = TextAreaField(_l("What is wrong with it? (optional)"), validators=[Optional(), Length(max=REASON_MAX)])
    submit = SubmitField(_l("Report to the moderators"))


class HideForm(Form):
    reason = TextAreaField(
        _l("Why is it hidden?"),
        validators=[DataRequired(REASON_MISSING), Length(max=REASON_MAX)],
        description=_l("Kept for the record; the comment's text is no longer shown anywhere."),
    )
    submit = SubmitField(_l("Hide the comment"))


class ButtonForm(Form):
    """A button that sends nothing but its CSRF token (pin, unpin, keep)."""
