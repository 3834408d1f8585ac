"""Hostile or broken conditions answer in the one problem shape, never a stack trace."""

from webapp import create_app


def test_deeply_nested_json_is_a_400_problem(client):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post(
        "/api/v1/profiles", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "JSON" in response.get_json()["detail"]


def test_a_database_that_cannot_be_opened_is_a_503_problem(tmp_path):
    # A directory where the database file should be: SQLite cannot open it.
    (tmp_path / "db").mkdir()
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db'}"})
    # The token is looked up in the database, which does not open.
    bearer = {"Authorization": "Bearer tok_not-checked-before-the-database-answers"}
    response = app.test_client().get("/api/v1/profiles", headers=bearer)
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"].endswith("database-unavailable")
    assert "database" in body["detail"]
    assert response.headers["Retry-After"]


def test_an_unexpected_error_is_a_500_problem_and_rolls_back(app, client, monkeypatch):
    from webapp.services.catalogue import profiles

    def broken(_query):
        raise ValueError("bug")

    monkeypatch.setattr(profiles, "list_profiles", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/api/v1/profiles")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert "bug" not in response.get_data(as_text=True)
