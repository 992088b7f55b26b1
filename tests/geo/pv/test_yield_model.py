"""The yield model: pvlib computed two ways, weather files against the clear-sky estimate, bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib
import pytest
from pvlib import iotools

from geo.errors import ValidationError
from geo.pv import params
from geo.pv.weather import clearsky_weather, detect_format, read_weather
from geo.pv.yield_model import estimate_yield, specific_yields
from tests.geo.pv.conftest import GREENSBORO_SITE

SHAPOTOU = {"latitude": 37.5, "longitude": 105.2, "altitude_m": 1250.0}


def _pvlib_directly(weather: pd.DataFrame, *, latitude, longitude, altitude, tilt, azimuth, kwp,
                    inverter_efficiency=0.96, dc_ac_ratio=1.2, gamma=-0.0047, albedo=0.25) -> pd.Series:
    """Hourly AC power [W] by calling pvlib's functions one by one (no ModelChain)."""
    times = weather.index
    solpos = pvlib.solarposition.get_solarposition(times, latitude, longitude, altitude=altitude,
                                                   temperature=weather["temp_air"])
    dni_extra = pvlib.irradiance.get_extra_radiation(times)
    airmass = pvlib.atmosphere.get_relative_airmass(solpos["apparent_zenith"])
    poa = pvlib.irradiance.get_total_irradiance(
        tilt, azimuth, solpos["apparent_zenith"], solpos["azimuth"], weather["dni"], weather["ghi"],
        weather["dhi"], dni_extra=dni_extra, airmass=airmass, albedo=albedo, model="perez")
    aoi = pvlib.irradiance.aoi(tilt, azimuth, solpos["apparent_zenith"], solpos["azimuth"])
    effective = poa["poa_direct"] * pvlib.iam.physical(aoi) + poa["poa_diffuse"]
    cell = pvlib.temperature.sapm_cell(
        poa["poa_global"], weather["temp_air"], weather["wind_speed"],
        **pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"])
    dc = pvlib.pvsystem.pvwatts_dc(effective, cell, kwp * 1000.0, gamma)
    dc = dc * (1 - pvlib.pvsystem.pvwatts_losses() / 100.0)
    ac_rating = kwp * 1000.0 / dc_ac_ratio
    return pvlib.inverter.pvwatts(dc, ac_rating / inverter_efficiency, eta_inv_nom=inverter_efficiency).fillna(0)


def test_yield_agrees_with_pvlib_called_directly_on_a_tmy3_file(tmy3_path):
    result = estimate_yield(**GREENSBORO_SITE, capacity_kwp=50.0, tilt_deg=30.0, azimuth_deg=180.0,
                            weather=tmy3_path)
    data, meta = iotools.read_tmy3(tmy3_path, coerce_year=2019, map_variables=True)
    data.index = data.index - pd.Timedelta(minutes=30)  # hour-ending labels to mid-hour
    ac_w = _pvlib_directly(data, latitude=36.1, longitude=-79.95, altitude=meta["altitude"], tilt=30.0,
                           azimuth=180.0, kwp=50.0)
    expected_kwh = ac_w.clip(lower=0).sum() / 1000.0
    assert result.annual_kwh == pytest.approx(expected_kwh, rel=1e-6)
    monthly = ac_w.clip(lower=0).groupby(ac_w.index.month).sum() / 1000.0
    for month in range(1, 13):
        assert result.monthly_kwh[month] == pytest.approx(monthly[month], rel=1e-6)
    assert result.kwh_per_kwp == pytest.approx(expected_kwh / 50.0, rel=1e-9)
    assert result.capacity_factor == pytest.approx(expected_kwh / (50.0 * 8760), rel=1e-9)
    assert result.is_estimate is False
    assert result.altitude_m == meta["altitude"]


def test_clearsky_estimate_agrees_with_pvlib_called_directly():
    """The estimate, with its monthly climate and its shared solar position, is what pvlib
    gives when called directly on the same inputs (month by month temperature and wind)."""
    result = estimate_yield(**SHAPOTOU, capacity_kwp=10.0, tilt_deg=25.0, azimuth_deg=170.0,
                            clearsky_factor=0.7)
    times = pd.date_range("2019-01-01 00:30", periods=8760, freq="h", tz="Etc/GMT-7")
    climate = params.SHAPOTOU_CLIMATE
    temp_air = np.asarray(climate.temp_air_c)[times.month - 1]
    wind = np.asarray(climate.wind_speed_m_s)[times.month - 1]
    location = pvlib.location.Location(37.5, 105.2, altitude=1250.0)
    solpos = location.get_solarposition(times, temperature=temp_air)
    clear = location.get_clearsky(times, model="ineichen", solar_position=solpos)
    ghi = clear["ghi"] * 0.7
    split = pvlib.irradiance.erbs(ghi, solpos["zenith"], times)
    weather = pd.DataFrame({"ghi": ghi, "dni": split["dni"], "dhi": split["dhi"], "temp_air": temp_air,
                            "wind_speed": wind}, index=times)
    ac_w = _pvlib_directly(weather, latitude=37.5, longitude=105.2, altitude=1250.0, tilt=25.0, azimuth=170.0, kwp=10.0)
    assert result.annual_kwh == pytest.approx(ac_w.clip(lower=0).sum() / 1000.0, rel=1e-6)
    assert result.is_estimate is True


def test_tmy_file_differs_from_the_clearsky_estimate_which_is_labelled(tmy3_path):
    measured = estimate_yield(**GREENSBORO_SITE, capacity_kwp=100.0, weather=tmy3_path)
    estimated = estimate_yield(**GREENSBORO_SITE, capacity_kwp=100.0)
    # plausible fixed-tilt yields for North Carolina, and not the same number
    assert 1_200 < measured.kwh_per_kwp < 1_600
    assert 900 < estimated.kwh_per_kwp < 1_800
    assert abs(measured.kwh_per_kwp - estimated.kwh_per_kwp) > 50
    assert 1_400 < measured.annual_ghi_kwh_m2 < 1_700  # the file's own GHI (1,566 kWh/m²)
    assert estimated.is_estimate and not measured.is_estimate
    assert "估算" in estimated.weather_label and "estimate" in estimated.weather_label
    assert "估算" not in measured.weather_label
    as_json = estimated.as_dict()
    assert as_json["is_estimate"] is True and "estimate" in as_json["weather_label"]
    assert as_json["weather_format"] == "clearsky"


def test_shapotou_estimate_is_in_the_range_ningxia_plants_report():
    result = estimate_yield(**SHAPOTOU, capacity_kwp=100.0, price_yuan_per_kwh=0.65, beneficiary_households=20)
    assert result.tilt_deg == pytest.approx(30.4, abs=0.1)
    assert result.azimuth_deg == 180.0
    assert 1_350 < result.kwh_per_kwp < 1_650
    assert 1_600 < result.annual_ghi_kwh_m2 < 1_750
    assert result.losses_pct == pytest.approx(14.08, abs=0.01)
    assert sum(result.monthly_kwh.values()) == pytest.approx(result.annual_kwh)
    assert result.monthly_kwh[6] > result.monthly_kwh[12]
    assert result.income_yuan_per_year == pytest.approx(result.annual_kwh * 0.65)
    assert result.income_yuan_per_household_per_year == pytest.approx(result.income_yuan_per_year / 20)


def test_epw_and_pvgis_files_give_the_yield_of_the_same_tmy3_year(tmy3_path, epw_path, pvgis_json_path,
                                                                  pvgis_csv_path):
    reference = estimate_yield(**GREENSBORO_SITE, capacity_kwp=10.0, weather=tmy3_path, altitude_m=273.0)
    for path, fmt in ((epw_path, "epw"), (pvgis_json_path, "pvgis_json"), (pvgis_csv_path, "pvgis_csv")):
        weather = read_weather(path)
        assert weather.format == fmt
        assert weather.latitude == pytest.approx(36.1)
        result = estimate_yield(**GREENSBORO_SITE, capacity_kwp=10.0, weather=weather, altitude_m=273.0)
        assert result.annual_kwh == pytest.approx(reference.annual_kwh, rel=0.005), fmt
        assert result.is_estimate is False


def test_tilt_rule_and_equator_facing_default():
    assert params.default_tilt_deg(37.5) == pytest.approx(30.41, abs=0.01)
    assert params.default_tilt_deg(0.0) == pytest.approx(1.38, abs=0.01)
    assert params.default_tilt_deg(-30.0) > 20
    assert params.default_azimuth_deg(-30.0) == 0.0
    # the rule's tilt yields at least as much as tilts 10° either side
    at_rule = estimate_yield(**SHAPOTOU, capacity_kwp=1.0).annual_kwh
    for tilt in (20.4, 40.4):
        assert estimate_yield(**SHAPOTOU, capacity_kwp=1.0, tilt_deg=tilt).annual_kwh < at_rule


def test_energy_scales_with_capacity_and_losses_lower_it():
    one = estimate_yield(**SHAPOTOU, capacity_kwp=1.0)
    big = estimate_yield(**SHAPOTOU, capacity_kwp=250.0)
    assert big.annual_kwh == pytest.approx(250 * one.annual_kwh, rel=1e-9)
    lossy = estimate_yield(**SHAPOTOU, capacity_kwp=1.0, losses_pct=25.0)
    assert lossy.annual_kwh < one.annual_kwh
    assert lossy.losses_pct == 25.0


def test_specific_yields_share_runs_on_the_lattice():
    lat = np.array([37.50, 37.51, 37.52, 37.9])
    lon = np.array([105.20, 105.21, 105.19, 105.6])
    result = specific_yields(lat, lon, altitudes_m=[1210, 1220, 1240, 1500])
    assert result.runs == 2
    assert result.kwh_per_kwp[0] == result.kwh_per_kwp[1] == result.kwh_per_kwp[2]
    assert result.kwh_per_kwp[3] != result.kwh_per_kwp[0]
    assert result.is_estimate


# ------------------------------------------------------------------------------ bad inputs


@pytest.mark.parametrize("latitude", [95.0, -91.0, float("nan")])
def test_latitude_out_of_range_is_refused(latitude):
    with pytest.raises(ValidationError, match="latitude .* out of range"):
        estimate_yield(latitude=latitude, longitude=105.2, capacity_kwp=10.0)


@pytest.mark.parametrize("kwp", [-5.0, 0.0])
def test_capacity_must_be_positive(kwp):
    with pytest.raises(ValidationError, match=r"capacity .* above zero \[kWp\]"):
        estimate_yield(**SHAPOTOU, capacity_kwp=kwp)


def test_other_bad_parameters_name_themselves():
    with pytest.raises(ValidationError, match="tilt"):
        estimate_yield(**SHAPOTOU, capacity_kwp=1.0, tilt_deg=120.0)
    with pytest.raises(ValidationError, match="longitude"):
        estimate_yield(latitude=37.5, longitude=200.0, capacity_kwp=1.0)
    with pytest.raises(ValidationError, match="clear-sky factor"):
        clearsky_weather(37.5, 105.2, 1250.0, factor=0.0)
    with pytest.raises(ValidationError, match="beneficiary households"):
        estimate_yield(**SHAPOTOU, capacity_kwp=1.0, beneficiary_households=-2)


def test_weather_file_of_the_wrong_format_is_refused_clearly(tmp_path):
    text = tmp_path / "notes.csv"
    text.write_text("name,value\nsunny,1\n")
    with pytest.raises(ValidationError, match=r"notes\.csv is not in a format .* TMY3 CSV"):
        estimate_yield(**SHAPOTOU, capacity_kwp=1.0, weather=text)
    broken = tmp_path / "broken.epw"
    broken.write_text("LOCATION,x,y\nnot,an,epw\n")
    with pytest.raises(ValidationError, match=r"broken\.epw could not be read as epw"):
        read_weather(broken)
    short = tmp_path / "short.json"
    short.write_text('{"outputs": {}}')
    with pytest.raises(ValidationError, match="short.json"):
        read_weather(short)
    with pytest.raises(ValidationError, match="does not exist"):
        read_weather(tmp_path / "missing.csv")


def test_a_truncated_tmy3_file_is_refused(tmp_path, tmy3_path):
    lines = tmy3_path.read_text().splitlines()
    cut = tmp_path / "cut.csv"
    cut.write_text("\n".join(lines[:500]) + "\n")
    assert detect_format(cut) == "tmy3"
    with pytest.raises(ValidationError, match="holds 498 time steps; a typical year has 8,760 hours"):
        read_weather(cut)


def test_a_distant_weather_station_is_noted_and_a_far_one_refused(tmy3_path):
    greensboro = read_weather(tmy3_path)
    near = estimate_yield(latitude=greensboro.latitude + 1.0, longitude=greensboro.longitude, capacity_kwp=1.0,
                          weather=greensboro)
    assert any("111 km from the site" in note for note in near.notes)
    assert near.kwh_per_kwp > 1_200
    # Greensboro's year at Shapotou would put its sunshine on the site's nights (27 kWh/kWp).
    with pytest.raises(ValidationError, match=r"is 11,\d{3} km from the site \(37\.\d\d, 105\.\d\d\), more than 300 km"):
        estimate_yield(**SHAPOTOU, capacity_kwp=1.0, weather=tmy3_path)


def test_the_estimate_uses_the_monthly_climate_given():
    """A cold, windy climate cools the modules: more energy than the 20 °C, 0 m/s pvlib assumes
    (about 6 % at Shapotou with its station normals)."""
    still = params.MonthlyClimate(temp_air_c=(20.0,) * 12, wind_speed_m_s=(0.0,) * 12, source="test")
    warm = estimate_yield(**SHAPOTOU, capacity_kwp=1.0, climate=still)
    local = estimate_yield(**SHAPOTOU, capacity_kwp=1.0)
    assert local.kwh_per_kwp > warm.kwh_per_kwp * 1.03
    assert "中卫" in local.weather_source and local.is_estimate
    with pytest.raises(ValidationError, match="12 numbers"):
        params.MonthlyClimate(temp_air_c=(20.0,) * 11, wind_speed_m_s=(0.0,) * 12, source="test")


def test_the_pvlib_figures_written_out_are_pvlib_s():
    """The module imports pvlib only where it computes, so it writes out two of pvlib's
    figures: they must stay pvlib's (a pvlib upgrade that changed them fails here)."""
    from pvlib.pvsystem import pvwatts_losses
    from pvlib.temperature import TEMPERATURE_MODEL_PARAMETERS

    from geo.pv import yield_model

    assert yield_model.PVWATTS_DEFAULT_LOSSES_PCT == float(pvwatts_losses())
    assert yield_model.TEMPERATURE_PARAMETERS == TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"]
