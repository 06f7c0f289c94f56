"""Projects: a founder writes a campaign for their firm, adds reward tiers or equity terms,
uploads documents and submits it for review. One module per part of that work:

- `access`: finding projects, who may see and change them, in which states.
- `basics`: the title, goal, currency, story and the slug; creating and editing a draft.
- `tiers`: a reward campaign's tiers.
- `equity_terms`: an equity campaign's share offering.
- `documents`: the cover image and the disclosure documents.
- `submission`: what review needs, and sending the project to it.
- `editing`: what those share: reading the fields, reporting every problem at once, the log.

Editing rules (what backers rely on must not move under them):
- `draft` and `changes_requested`: everything can change.
- `approved` and `live`: goal, currency, title (and so the slug), category, the equity
  terms and the disclosure documents are locked. The story (summary, description, risks,
  use of funds, cover image) can change; every such change is logged in `ProjectEdit`
  (shown in the campaign's public "Changes", mailed to its backers; risks, use of funds and
  documents wait for an administrator's look: services/change_history.py, change_mail.py).
  Reward tiers that have pledges (`sold > 0`) are locked except that their quantity may go
  up; tiers without pledges can still be edited, added and removed (logged too).
- any other state: nothing changes.

Amounts are integers in the currency's minor units (250000, 1250; JPY has none): the web's
`MoneyField` and the API's JSON schema read what people type or send.
"""
