"""The API documentation page in a browser: Swagger UI draws every operation of the OpenAPI
document, with its parameters, responses and schemas, from local files, and tries one."""

from playwright.sync_api import Page, expect

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def operations(document: dict):
    """(METHOD, path, operation) for every operation the document lists."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method.upper(), path, operation


def test_the_docs_page_draws_every_operation_and_schema(page: Page, watch, shots):
    document = page.request.get("/api/v1/openapi.json").json()
    documented = list(operations(document))
    page.goto("/api/v1/docs")

    blocks = page.locator("#swagger-ui .opblock")
    expect(blocks).to_have_count(len(documented), timeout=15_000)
    drawn = set()
    for index in range(blocks.count()):
        block = blocks.nth(index)
        method = block.locator(".opblock-summary-method").inner_text().strip()
        path = block.locator(".opblock-summary-path").get_attribute("data-path")
        drawn.add((method, path))
    assert drawn == {(method, path) for method, path, _ in documented}
    for _method, _path, operation in documented:
        anchor = page.locator(f"#operations-{operation['tags'][0]}-{operation['operationId']}")
        expect(anchor).to_have_count(1)
        expect(anchor.locator(".opblock-summary-description")).to_have_text(operation["summary"])

    page.screenshot(path=shots / "api-docs.png", full_page=False)

    # Every schema of the document is listed under Schemas, by its name.
    page.locator("#swagger-ui .models-control").click()
    titles = page.locator(
        '#swagger-ui .models article[data-json-schema-level="0"] > '
        ".json-schema-2020-12-head .json-schema-2020-12__title"
    )
    expect(titles).to_have_count(len(document["components"]["schemas"]))
    assert titles.all_inner_texts() == list(document["components"]["schemas"])
    page.screenshot(path=shots / "api-docs-schemas.png", full_page=False)
    watch.assert_clean()


def test_an_operation_opens_with_its_parameters_and_responses(page: Page, watch, shots):
    page.goto("/api/v1/docs")
    export = page.locator("#operations-profiles-export_profiles")
    export.locator(".opblock-summary").click()
    names = export.locator(".parameters .parameter__name")
    expect(names.first).to_be_visible(timeout=15_000)
    shown = {text.split()[0].rstrip("*") for text in names.all_inner_texts()}
    assert {"q", "platform", "interest", "sort", "order", "format"} <= shown
    statuses = set(export.locator(".responses-table .response-col_status").all_inner_texts())
    assert {"200", "400"} <= {status.strip() for status in statuses}
    ok = export.locator('.responses-table tr.response[data-code="200"]')
    expect(ok).to_contain_text("text/csv")
    # The JSON answer's schema: a list of ProfileSummary, drawn field by field.
    ok.get_by_role("tab", name="Schema").click()
    ok.get_by_role("button", name="Expand all").first.click()
    for field in ("dominant_interest", "unclassified_count", "updated_at"):
        expect(ok).to_contain_text(field)
    page.screenshot(path=shots / "api-docs-export.png", full_page=False)
    watch.assert_clean()


def test_try_it_out_sends_the_request_as_the_signed_in_user(page: Page, watch):
    page.goto("/api/v1/docs")
    categories = page.locator("#operations-taxonomy-categories")
    categories.locator(".opblock-summary").click()
    categories.get_by_role("button", name="Try it out").click()
    categories.get_by_role("button", name="Execute").click()
    live = categories.locator(".live-responses-table td.response-col_status:not(.col_header)")
    expect(live).to_have_text("200", timeout=15_000)
    expect(categories.locator(".live-responses-table")).to_contain_text("Music")
    watch.assert_clean()
