"""GET /api/v1/titles/, /api/v1/titles/{slug}/ and /api/v1/plans/."""

import pytest

from tests.factories import PlanFactory, TitleFactory


def test_title_list_pages_the_catalogue_by_name(api_client, db):
    TitleFactory(slug="herald", name="The Herald", is_premium=False)
    TitleFactory(slug="courier", name="The Courier")

    response = api_client.get("/api/v1/titles/")

    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2
    assert [t["slug"] for t in data["results"]] == ["courier", "herald"]
    assert data["results"][1] == {
        "slug": "herald",
        "name": "The Herald",
        "publisher": "Example Media",
        "description": "",
        "is_premium": False,
    }


def test_title_detail_shows_one_title(reader_client, db):
    TitleFactory(slug="courier", name="The Courier")

    response = reader_client.get("/api/v1/titles/courier/")

    assert response.status_code == 200
    assert response.json()["name"] == "The Courier"


@pytest.mark.parametrize("slug", ["nope", "not a slug", "%00"])
def test_title_detail_answers_an_unknown_slug_with_a_json_404(api_client, db, slug):
    response = api_client.get(f"/api/v1/titles/{slug}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_titles_refuse_writes_with_a_json_405(reader_client, db):
    response = reader_client.post("/api/v1/titles/", {"slug": "x"}, format="json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_plan_list_shows_active_plans_with_prices_and_titles(
    api_client, db, django_assert_max_num_queries
):
    courier = TitleFactory(slug="courier", name="The Courier")
    herald = TitleFactory(slug="herald", name="The Herald")
    PlanFactory(slug="everything", name="Everything", display_order=1)
    pair = PlanFactory(slug="pair", name="Two titles", all_titles=False, display_order=2)
    pair.titles.set([courier, herald])
    for n in range(5):
        PlanFactory(all_titles=False, display_order=3).titles.set([courier])
    PlanFactory(slug="retired", is_active=False)

    with django_assert_max_num_queries(2):
        response = api_client.get("/api/v1/plans/")

    assert response.status_code == 200
    plans = response.json()
    assert [p["slug"] for p in plans[:2]] == ["everything", "pair"]
    assert "retired" not in [p["slug"] for p in plans]
    assert plans[0] == {
        "slug": "everything",
        "name": "Everything",
        "description": "",
        "monthly_amount": 999,
        "yearly_amount": 9999,
        "currency": "gbp",
        "trial_days": 14,
        "all_titles": True,
        "titles": [],
    }
    assert plans[1]["titles"] == [
        {"slug": "courier", "name": "The Courier"},
        {"slug": "herald", "name": "The Herald"},
    ]


def test_plan_list_refuses_writes_with_a_json_405(reader_client, db):
    response = reader_client.put("/api/v1/plans/", {}, format="json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
