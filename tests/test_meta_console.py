"""The console's catalog pages: instances, databases and tables (with columns) per tenant."""

from __future__ import annotations

import re

import requests

from emulator.testing.flows import fixture_db
from emulator.testing.process import EmulatorProcess


def get(emulator: EmulatorProcess, path: str) -> requests.Response:
    return requests.get(f"{emulator.url}/_emulator/ui/catalog{path}", timeout=30)


def test_catalog_lists_each_tenants_databases_and_tables(emulator: EmulatorProcess) -> None:
    r = get(emulator, "/?tid=3000")
    assert r.status_code == 200 and 'id="tenant-3000"' in r.text and "tenant-4000" not in r.text
    shop = fixture_db("shop")
    for (name,) in shop.execute("SELECT name FROM sqlite_master WHERE type='table'"):
        rows = shop.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        assert re.search(rf">{name}</a> \({rows}\)", r.text), name
    both = get(emulator, "/").text
    assert 'id="tenant-3000"' in both and 'id="tenant-4000"' in both and ">departments</a>" in both
    assert (
        'id="nav-catalog"' in requests.get(f"{emulator.url}/_emulator/ui/tickets", timeout=30).text
    )


def test_table_page_shows_columns_and_indexes(emulator: EmulatorProcess) -> None:
    r = get(emulator, "/17001/products")
    assert r.status_code == 200 and "IDB_17001.shop.products" in r.text
    cols = [row[1] for row in fixture_db("shop").execute("PRAGMA table_info(products)")]
    found = re.findall(r"<tr><td>\d+</td><td>([^<]+)</td>", r.text)
    assert found == cols
    assert ">PRIMARY</td><td>Primary</td><td>id<" in r.text
    assert get(emulator, "/17001/nope").status_code == 404
    assert get(emulator, "/99/products").status_code == 404
