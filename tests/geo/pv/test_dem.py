""":func:`geo.pv.dem.check_dem`: a DEM's header is checked before any pixel is read."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from geo.errors import ValidationError
from geo.pv.dem import check_dem


def _tiff(path, *, crs="EPSG:4326", dtype="float32", width=30, height=20, driver="GTiff"):
    with rasterio.open(path, "w", driver=driver, width=width, height=height, count=1, dtype=dtype, crs=crs,
                       transform=from_origin(105.0, 37.6, 0.01, 0.01)) as dst:
        dst.write(np.ones((height, width), dtype=dtype), 1)
    return path


def test_a_geotiff_gives_its_size_and_extent(tmp_path):
    info = check_dem(_tiff(tmp_path / "dem.tif"))
    assert (info.width, info.height, info.pixels, info.crs) == (30, 20, 600, "EPSG:4326")
    assert info.bounds_lonlat == pytest.approx((105.0, 37.4, 105.3, 37.6))
    utm = check_dem(_tiff(tmp_path / "utm.tif", crs="EPSG:32648"))
    assert utm.crs == "EPSG:32648" and -180 <= utm.bounds_lonlat[0] <= 180


def test_a_dem_without_a_crs_is_refused_by_the_name_given(tmp_path):
    path = _tiff(tmp_path / "copy.tif", crs=None)
    with pytest.raises(ValidationError, match=r"^DEM 高程.tif has no CRS; set one \(e.g. gdal_edit.py") as error:
        check_dem(path, name="高程.tif")
    assert str(path) not in str(error.value)


@pytest.mark.parametrize("kind", ["text", "png", "vrt"])
def test_only_geotiffs_are_opened(tmp_path, kind):
    tiff = _tiff(tmp_path / "real.tif")
    path = tmp_path / "upload.tif"
    if kind == "text":
        path.write_text("height: 1500 m")
    elif kind == "png":
        _tiff(tmp_path / "image.png", driver="PNG", dtype="uint8", crs=None)
        path.write_bytes((tmp_path / "image.png").read_bytes())
    else:  # a VRT could point GDAL at any file on the server
        path.write_text(f'<VRTDataset rasterXSize="30" rasterYSize="20"><VRTRasterBand dataType="Float32" band="1">'
                        f'<SimpleSource><SourceFilename>{tiff}</SourceFilename><SourceBand>1</SourceBand>'
                        f'</SimpleSource></VRTRasterBand></VRTDataset>')
        with rasterio.open(path) as vrt:  # GDAL itself reads it
            assert vrt.driver == "VRT"
    with pytest.raises(ValidationError, match=r"^DEM dem\.tif is not a GeoTIFF GDAL reads \('dem\.tif' not recog"):
        check_dem(path, name="dem.tif")


def test_complex_numbers_are_not_elevations(tmp_path):
    with pytest.raises(ValidationError, match="holds complex numbers"):
        check_dem(_tiff(tmp_path / "complex.tif", dtype="complex64"))
