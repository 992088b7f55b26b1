/* Village assistance atlas: the map-side code every atlas map shares.
 *
 * - Overlays are built from compact feature lists; each overlay keeps its geometry in WGS 84
 *   and, when an Amap (GCJ-02) base exists, a parallel list of GCJ-02 geometries computed on
 *   the server. Switching base layers swaps the drawn geometry of every overlay, so overlays
 *   always sit on the streets of the active base.
 * - Text from data is only ever put into the page with textContent (never innerHTML), so a
 *   village called <img src=x onerror=alert(1)> is shown as text.
 * - When the initial base map cannot load any tile (no network, blocked CDN), the map
 *   switches to the blank base and says so.
 */
(function () {
  "use strict";

  var atlas = (window.atlas = window.atlas || {});
  atlas.maps = atlas.maps || [];

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  atlas.el = el;

  atlas.setup = function (map, options) {
    var state = {
      crs: "wgs84",
      overlays: [],
      byKey: {},
      bases: {},
      options: options || {},
      notice: null,
    };
    map._atlas = state;
    atlas.maps.push(map);
    map.on("layeradd", function (e) {
      var base = e.layer && e.layer.options && e.layer.options.atlasBase;
      if (base) atlas.setCrs(map, e.layer.options.atlasCrs || "wgs84");
      if (base) map.getContainer().classList.toggle("atlas-blank", !!e.layer.options.atlasBlank);
    });
    return state;
  };

  /* ------------------------------------------------------------------ base layers */

  atlas.base = function (map, spec) {
    var tiles = (spec.tiles || []).map(function (t) {
      return L.tileLayer(t.url, t.options || {});
    });
    var group = L.layerGroup(tiles, {
      atlasBase: spec.key,
      atlasCrs: spec.crs,
      atlasBlank: tiles.length === 0,
    });
    group.atlasTiles = tiles;
    map._atlas.bases[spec.key] = group;
    if (spec.fallback) watchTiles(map, group, spec.fallback);
    return group;
  };

  function watchTiles(map, group, fallbackKey) {
    var loaded = 0, failed = 0, done = false;
    group.atlasTiles.forEach(function (t) {
      t.on("tileload", function () { loaded += 1; });
      t.on("tileerror", function () {
        failed += 1;
        if (done || loaded > 0 || failed < 2 || !map.hasLayer(group)) return;
        done = true;
        var blank = map._atlas.bases[fallbackKey];
        if (!blank) return;
        map.removeLayer(group);
        map.addLayer(blank);
        atlas.notice(map, "在线底图无法加载（离线或网络受限），已切换为空白底图；专题图层不受影响。");
      });
    });
  }

  atlas.notice = function (map, text) {
    var state = map._atlas;
    if (state.notice) state.notice.remove();
    var control = L.control({ position: "bottomleft" });
    control.onAdd = function () {
      var box = el("div", "atlas-notice leaflet-control", text);
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    control.addTo(map);
    state.notice = control;
  };

  atlas.setCrs = function (map, crs) {
    var state = map._atlas;
    if (state.crs === crs) return;
    state.crs = crs;
    state.overlays.forEach(function (o) { o.atlasSync(); });
  };

  /* ------------------------------------------------------------------ overlays */

  function formatValue(value) {
    if (typeof value === "number") return value.toLocaleString("zh-CN");
    if (typeof value === "boolean") return value ? "是" : "否";
    return String(value);
  }

  function popupContent(spec, props) {
    var box = el("div", "atlas-popup");
    var popup = spec.popup || {};
    if (popup.title) box.appendChild(el("h4", "", props[popup.title]));
    if (props._warn) {
      [].concat(props._warn).forEach(function (w) { box.appendChild(el("p", "atlas-warn", w)); });
    }
    var table = el("table");
    (popup.rows || []).forEach(function (row) {
      var value = props[row[1]];
      if (value === null || value === undefined || value === "") return;
      var tr = el("tr");
      tr.appendChild(el("th", "", row[0]));
      var td = el("td");
      if (Array.isArray(value)) {
        if (!value.length) return;
        var list = el("ul");
        value.forEach(function (v) { list.appendChild(el("li", "", formatValue(v))); });
        td.appendChild(list);
      } else {
        td.textContent = formatValue(value);
      }
      tr.appendChild(td);
      table.appendChild(tr);
    });
    box.appendChild(table);
    return box;
  }

  function styleFor(spec, props, own) {
    var style = Object.assign({}, spec.style || {});
    if (spec.styleBy) {
      var extra = spec.styleBy.values[props[spec.styleBy.field]];
      if (extra) Object.assign(style, extra);
    }
    if (own) Object.assign(style, own);
    style.className = "atlas-f atlas-" + spec.key + (style.className ? " " + style.className : "");
    return style;
  }

  function buildLayers(spec, crs) {
    var layers = [];
    var geometries = crs === "gcj02" && spec.gcj ? spec.gcj : null;
    spec.features.forEach(function (f, i) {
      var geometry = geometries ? geometries[i] : f.g;
      if (!geometry) return;
      var props = f.p || {};
      var style = styleFor(spec, props, f.s);
      var feature = { type: "Feature", geometry: geometry, properties: props };
      var options = Object.assign({}, style, {
        pointToLayer: function (_, latlng) {
          if (spec.kind === "marker") {
            // A numbered marker (visiting order) carries its number as text, never as HTML.
            var text = spec.label ? props[spec.label] : null;
            var span = el("span", "", text);
            span.style.background = cssColor(style.fillColor || style.color);
            var size = text !== null && text !== undefined ? 22 : 18;
            var icon = L.divIcon({
              className: "atlas-icon atlas-" + spec.key + (style.iconClass ? " " + style.iconClass : "") +
                (size === 22 ? " atlas-numbered" : ""),
              html: span,
              iconSize: [size, size],
              iconAnchor: [size / 2, size / 2],
            });
            return L.marker(latlng, { icon: icon, keyboard: false });
          }
          return L.circleMarker(latlng, style);
        },
      });
      var layer = L.GeoJSON.geometryToLayer(feature, options);
      layer.feature = feature;
      layer.atlasIndex = i;
      if (spec.popup) layer.bindPopup(function () { return popupContent(spec, props); }, { maxWidth: 360 });
      if (spec.tooltip && props[spec.tooltip] !== undefined && props[spec.tooltip] !== null) {
        layer.bindTooltip(function () { return el("span", "", props[spec.tooltip]); }, { sticky: spec.kind === "path" });
      }
      layers.push(layer);
    });
    return layers;
  }

  function cssColor(value) {
    // Colours come from the server's style tables; keep only safe CSS colour syntax.
    return /^#[0-9a-fA-F]{3,8}$|^[a-z]+$/.test(value || "") ? value : "#555";
  }

  atlas.Overlay = L.FeatureGroup.extend({
    initialize: function (map, spec) {
      L.FeatureGroup.prototype.initialize.call(this, []);
      this.atlasMap = map;
      this.atlasSpec = spec;
      this.atlasBuilt = {};
      this.atlasShown = null;
      map._atlas.overlays.push(this);
      map._atlas.byKey[spec.key] = this;
    },
    onAdd: function (map) {
      this.atlasSync();
      L.FeatureGroup.prototype.onAdd.call(this, map);
    },
    /* The drawn child (a layer group or a marker cluster) for the map's current CRS. */
    atlasChild: function () {
      var crs = this.atlasMap._atlas.crs === "gcj02" && this.atlasSpec.gcj ? "gcj02" : "wgs84";
      if (!this.atlasBuilt[crs]) {
        var layers = buildLayers(this.atlasSpec, crs);
        var group = this.atlasSpec.cluster
          ? L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50 })
          : L.featureGroup();
        if (this.atlasSpec.cluster) group.addLayers(layers);
        else layers.forEach(function (l) { group.addLayer(l); });
        group.atlasCrs = crs;
        group.atlasLayers = layers;
        this.atlasBuilt[crs] = group;
      }
      return this.atlasBuilt[crs];
    },
    atlasSync: function () {
      var child = this.atlasChild();
      if (this.atlasShown === child) return;
      if (this.atlasShown) this.removeLayer(this.atlasShown);
      this.addLayer(child);
      this.atlasShown = child;
    },
    /* Number of features drawn (clustered or not), for the legend and for tests. */
    atlasCount: function () { return this.atlasChild().atlasLayers.length; },
    atlasLatLngOf: function (index) {
      var layer = this.atlasChild().atlasLayers.filter(function (l) { return l.atlasIndex === index; })[0];
      return layer && layer.getLatLng ? layer.getLatLng() : null;
    },
  });

  atlas.overlay = function (map, spec) {
    return new atlas.Overlay(map, spec);
  };

  /* ------------------------------------------------------------------ search */

  atlas.search = function (map, spec) {
    var control = L.control({ position: "topleft" });
    control.onAdd = function () {
      var box = el("div", "atlas-search leaflet-bar leaflet-control");
      var input = el("input");
      input.type = "search";
      input.placeholder = spec.placeholder || "搜索村名";
      input.setAttribute("aria-label", input.placeholder);
      var listId = "atlas-search-" + Math.random().toString(36).slice(2);
      input.setAttribute("list", listId);
      var datalist = el("datalist");
      datalist.id = listId;
      var entries = [];
      spec.overlays.forEach(function (key) {
        var overlay = map._atlas.byKey[key];
        if (!overlay) return;
        var s = overlay.atlasSpec;
        s.features.forEach(function (f, i) {
          var p = f.p || {};
          var name = p[s.search];
          if (name === undefined || name === null) return;
          var label = String(name) + (p.township_name ? "（" + p.township_name + "）" : "");
          entries.push({ label: label, name: String(name), overlay: overlay, index: i });
          var option = el("option");
          option.value = label;
          datalist.appendChild(option);
        });
      });
      var message = el("div", "atlas-search-message");
      function go() {
        var text = input.value.trim();
        if (!text) return;
        var hit = entries.filter(function (e) { return e.label === text; })[0] ||
          entries.filter(function (e) { return e.name === text; })[0] ||
          entries.filter(function (e) { return e.label.indexOf(text) >= 0; })[0];
        if (!hit) { message.textContent = "未找到：" + text; return; }
        message.textContent = "";
        if (!map.hasLayer(hit.overlay)) map.addLayer(hit.overlay);
        var child = hit.overlay.atlasChild();
        var layer = child.atlasLayers.filter(function (l) { return l.atlasIndex === hit.index; })[0];
        if (!layer) return;
        var open = function () {
          var ll = layer.getLatLng ? layer.getLatLng() : layer.getBounds().getCenter();
          map.setView(ll, Math.max(map.getZoom(), 12));
          layer.openPopup();
        };
        if (child.zoomToShowLayer) child.zoomToShowLayer(layer, open); else open();
      }
      input.addEventListener("change", go);
      input.addEventListener("keydown", function (e) { if (e.key === "Enter") go(); });
      box.appendChild(input);
      box.appendChild(datalist);
      box.appendChild(message);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.addTo(map);
    return control;
  };

  /* ------------------------------------------------------------------ static boxes */

  atlas.box = function (map, position, className, html) {
    // ``html`` is built on the server with every data value HTML-escaped.
    var control = L.control({ position: position });
    control.onAdd = function () {
      var box = el("div", className + " leaflet-control");
      box.innerHTML = html;
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.addTo(map);
    return control;
  };
})();
