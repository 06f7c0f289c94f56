from tests.support.mailserver import no_mail_server, outbox_web_app, smtp_server  # noqa: F401  (fixtures)
