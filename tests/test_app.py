import os

from crowdfund import create_app


def test_prefixed_environment_overrides_config(monkeypatch, tmp_path):
    monkeypatch.setenv("CROWDFUND_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("FLASK_PLATFORM_FEE_BPS", "250")
    monkeypatch.setenv("FLASK_CAMPAIGN_MIN_DURATION", "60")
    app = create_app("testing")
    assert app.config["PLATFORM_FEE_BPS"] == 250
    assert app.config["CAMPAIGN_MIN_DURATION"] == 60


def test_default_database_is_sqlite_in_instance_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("CROWDFUND_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app("development")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/crowdfund.db"


def test_database_url_selects_postgres_with_psycopg(monkeypatch, tmp_path):
    monkeypatch.setenv("CROWDFUND_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.internal/crowdfund")
    app = create_app("development")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.internal/crowdfund"


def test_dev_secret_key_is_generated_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("CROWDFUND_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app("development").config["SECRET_KEY"]
    second = create_app("development").config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").read_text().strip() == first
    assert oct(os.stat(tmp_path / "secret_key").st_mode & 0o777) == "0o600"


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("CROWDFUND_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    try:
        create_app("production")
    except RuntimeError as error:
        assert "SECRET_KEY" in str(error)
    else:
        raise AssertionError("production started without a SECRET_KEY")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert create_app("production").config["SECRET_KEY"] == "from-the-environment"


def test_home_page_and_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Back small firms you believe in" in response.get_data(as_text=True)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_error_pages_speak_to_a_person(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "We could not find that page" in response.get_data(as_text=True)
    response = client.get("/account/logout")
    assert response.status_code == 405
    assert "does not accept" in response.get_data(as_text=True)


def test_language_switch_and_accept_language(client):
    page = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert 'lang="zh-Hans"' in page
    client.get("/language/en?next=/")
    page = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'lang="en"' in page
    assert client.get("/language/xx").status_code == 404


def test_server_errors_get_a_calm_page_and_roll_back(monkeypatch, tmp_path, database_url):
    monkeypatch.setenv("CROWDFUND_INSTANCE_PATH", str(tmp_path))
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("a bug")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)
    assert "a bug" not in response.get_data(as_text=True)


def test_forbidden_pages_explain_themselves(client, make, login):
    login(make.user())
    response = client.get("/admin/reviews")
    assert response.status_code == 403
    assert "You cannot do that" in response.get_data(as_text=True)
