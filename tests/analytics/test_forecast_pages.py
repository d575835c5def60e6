"""The forecasts page and ``GET /api/v1/analytics/forecasts`` on an empty company: they say the
history is too short instead of showing numbers, refuse bad input naming the field, and show the
stored win-probability evaluation (escaped). 401/403 come from the rows in docs/permissions.md
(tests/access)."""

from __future__ import annotations

import pytest
from django.test import Client

from q2c.analytics.forecasting import store
from q2c.analytics.forecasting.winprob import WinModel
from q2c.platform.auth import ApiToken
from tests.quotes import builders

pytestmark = pytest.mark.django_db


def api(role: str) -> Client:
    _, raw = ApiToken.issue(builders.user(f"fc_{role}", role), "forecasts")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_api_on_an_empty_company_says_the_history_is_too_short(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    got = api("finance").get("/api/v1/analytics/forecasts?currency=eur&months=2")
    assert got.status_code == 200
    data = got.json()
    assert data["currency"] == "EUR" and len(data["revenue"]["months"]) == 2
    assert data["revenue"]["backtest"]["mape_percent"] is None
    assert "a 6-month backtest needs 9" in data["revenue"]["backtest"]["insufficient"]
    assert all(m["total"] is None for m in data["revenue"]["months"])


@pytest.mark.parametrize(
    ("query", "field"),
    [("currency=XYZ", "currency"), ("months=0", "months"), ("months=13", "months"), ("months=<b>", "months")],
)
def test_api_bad_input_is_a_422_naming_the_field(settings, tmp_path, query, field):
    settings.VAR_DIR = tmp_path
    got = api("viewer").get(f"/api/v1/analytics/forecasts?{query}")
    assert got.status_code == 422
    assert field in got.content.decode()


def test_page_shows_the_forecasts_and_the_models_evaluation_escaped(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    client = Client()
    client.force_login(builders.user("fc_page", "finance"))
    html = client.get("/analytics/forecasts/").content.decode()
    assert "Not forecast: usage:" in html and "No model has been trained yet." in html
    model = WinModel(
        names=("discount",), means=(0.0,), scales=(1.0,), coefs=(0.1,), intercept=0.0, trained_rows=90
    )
    evaluation = {
        "held_out_rows": 23, "beats_baselines": False,
        "model": {"name": "<script>x</script>", "auc": 0.5, "brier": 0.25, "log_loss": 0.7, "calibration": [[0.4, 0.5, 23]]},
        "baselines": [{"name": "win rate", "auc": 0.5, "brier": 0.24, "log_loss": 0.69}],
    }  # fmt: skip
    store.save(store.Stored(trained_on="2027-01-04", model=model, evaluation=evaluation))
    html = client.get("/analytics/forecasts/").content.decode()
    assert "does not beat its baselines" in html and "on 23 held-out quotes" in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x" not in html
    assert "0.4 → 0.5 (23)" in html
    assert client.get("/analytics/forecasts/?currency=ZZZ").status_code == 422


def test_finance_dashboard_shows_the_forecast_beside_it_and_the_sales_one_does_not(settings, tmp_path):
    from tests.analytics import world

    settings.VAR_DIR = tmp_path
    world.build()  # 2027-04-02; too little history for any backtest (tests/analytics/test_forecast_command.py)
    client = Client()
    client.force_login(builders.user("fc_dash", "finance", "sales_manager"))
    html = client.get("/analytics/finance/").content.decode()
    assert "Forecast (EUR)" in html
    assert "Revenue backtest: not measured (too little history); cash backtest: not measured" in html
    # cash of May = April's contracted 1,275.00 billed (see test_forecast_command.py)
    assert "<tr><td>2027-05-01</td><td class='num'>—</td><td class='num'>1275.00</td></tr>" in html
    assert "Forecast (" not in client.get("/analytics/sales/").content.decode()


def test_admin_and_finance_see_the_measured_value_escaped_reps_and_strangers_do_not(settings, tmp_path):
    import json

    settings.VAR_DIR = tmp_path
    scores = {"auc": 0.61, "brier": 0.21, "log_loss": 0.6, "calibration": [[0.55, 0.6, 40]]}
    measured = {
        "measured_on": "2027-01-05",
        "train_runs": {"s1": 300, "s2": 310},
        "test_runs": {"s3": 200},
        "true_auc_test": 0.696,
        "evaluation": {
            "trained_rows": 610, "held_out_rows": 200, "held_out_win_rate": 0.6, "beats_baselines": True,
            "model": {"name": "logistic regression", **scores},
            "baselines": [{"name": "win rate", "auc": 0.5, "brier": 0.24, "log_loss": 0.67, "calibration": [[0.58, 0.6, 200]]}],
        },
        "value": {"<b>s3</b>": {"new": {
            "quotes": 150, "mean_quote_discount_percent": 3.1, "mean_recommended_discount_percent": "5.20",
            "expected_revenue_rep_discounts_eur": "1000000", "expected_revenue_recommended_eur": "1031000",
            "change_percent": "3.1",
        }}},
    }  # fmt: skip
    store.value_path().parent.mkdir(parents=True)
    store.value_path().write_text(json.dumps(measured), encoding="utf-8")
    for role in ("admin", "finance"):
        client = Client()
        client.force_login(builders.user(f"fc_value_{role}", role))
        html = client.get("/analytics/forecasts/").content.decode()
        assert (
            "Measured 2027-01-05: trained on 610 decided quotes of 2 run(s), scored on 200 of 1 other run(s)"
            in html
        )
        assert "0.55 → 0.6 (40)" in html and "0.58 → 0.6 (200)" in html  # model and baseline reliability
        assert "&lt;b&gt;s3&lt;/b&gt; (new)" in html and "<b>s3" not in html
        assert "1031000" in html and "3.1 %" in html
        assert "the simulation's true chances (the ceiling)</td><td class=\"num\">0.696<" in html
    rep = Client()
    rep.force_login(builders.user("fc_value_rep", "sales_rep"))
    assert rep.get("/analytics/forecasts/").status_code == 403
    assert Client().get("/analytics/forecasts/").status_code == 302  # to the login page
    assert Client().get("/api/v1/analytics/forecasts").status_code == 401
