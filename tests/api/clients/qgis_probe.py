"""Run by Debian's own Python with python3-qgis (not the project's venv): load OGC API
collections in QGIS's OAPIF provider with a Basic authentication configuration, as the
README tells QGIS 3.22 users, and print what QGIS sees as JSON.

Usage: python3 qgis_probe.py BASE_URL USER PASSWORD COLLECTION...
(QGIS_AUTH_DB_DIR_PATH must name an empty folder: QGIS keeps its auth database there.)
"""

import json
import os
import sys

from qgis.core import Qgis, QgsApplication, QgsAuthMethodConfig, QgsVectorLayer, QgsWkbTypes


def main() -> None:
    base, user, password, *collections = sys.argv[1:]
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    manager = QgsApplication.authManager()
    manager.setMasterPassword("probe-master-password", True)
    config = QgsAuthMethodConfig()
    config.setName("atlas")
    config.setMethod("Basic")
    config.setConfig("username", user)
    config.setConfig("password", password)
    stored = manager.storeAuthenticationConfig(config)
    if isinstance(stored, tuple):  # newer QGIS returns (ok, config)
        stored, config = stored
    out = {"qgis": Qgis.QGIS_VERSION, "stored": bool(stored), "layers": {}}
    for name in collections:
        uri = f"url='{base}/ogc' typename='{name}' authcfg='{config.id()}'"
        layer = QgsVectorLayer(uri, name, "OAPIF")
        if not layer.isValid():
            out["layers"][name] = {"valid": False}
            continue
        features = list(layer.getFeatures())
        out["layers"][name] = {
            "valid": True,
            "geometry": QgsWkbTypes.displayString(layer.wkbType()),
            "count": len(features),
            "names": sorted(str(f["name"]) for f in features if "name" in f.fields().names()),
        }
    print(json.dumps(out, ensure_ascii=False), flush=True)
    # QGIS 3.22's exitQgis() may crash a headless interpreter on the way out; what was to be
    # seen is printed, so leave without tearing QGIS down.
    os._exit(0)


if __name__ == "__main__":
    main()
