"""A body over ``[console] max_body_bytes``: the API answers JSON, a person posting a page's form
gets a page in their language with the way back (both 413, the body unread)."""

from __future__ import annotations

from tests.edge.console.conftest import Console, assert_too_large_page


def test_a_form_over_the_limit_gets_a_page_in_the_language_chosen(sim_console: Console) -> None:
    client = sim_console.client
    big = b"name=" + b"x" * (64 * 1024)
    form = {"content-type": "application/x-www-form-urlencoded"}
    page = client.post("/visitors/register", content=big, headers=form)
    assert_too_large_page(page, "64.0 KiB", back="/visitors")
    client.cookies.set("kakou_lang", "en")
    english = client.post("/visitors/register", content=big, headers=form)
    assert "Too large to send" in english.text
    api = client.post("/api/v1/visitors", content=big, headers={"content-type": "application/json"})
    assert api.status_code == 413
    assert api.json() == {"detail": "request body too large (at most 65536 bytes)"}
