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
    atlas.printButton(map);
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
    if (spec.vector) group.addLayer(offlineLayers(map, spec.vector));
    map._atlas.bases[spec.key] = group;
    if (spec.fallback) watchTiles(map, group, spec.fallback);
    return group;
  };

  /* The blank base's own layers, from the registry (no network needed): township outlines,
   * roads by surface, village and settlement points and their names, drawn in panes below
   * every overlay. Names appear from a zoom on (villages 11, settlements 13, roads 14); the
   * names of townships, villages or settlements are left to a shown overlay that names them. */
  var BASE_ROAD_COLORS = { hardened: "#34495e", gravel: "#a0522d", earth: "#c8a165" };
  var BASE_LABEL_ZOOM = { township: 0, village: 11, settlement: 13, road: 14 };

  function offlineLayers(map, vector) {
    if (!map.getPane("atlasBase")) {
      map.createPane("atlasBase").style.zIndex = 250;
      var labelPane = map.createPane("atlasBaseLabels");
      labelPane.style.zIndex = 260;
      labelPane.style.pointerEvents = "none";
    }
    var group = L.featureGroup();
    function shape(item, style) {
      var layer = L.GeoJSON.geometryToLayer({ type: "Feature", geometry: item.g, properties: {} },
        Object.assign({ pane: "atlasBase", interactive: false }, style));
      group.addLayer(layer);
    }
    (vector.townships || []).forEach(function (t) {
      shape(t, { color: "#6a3d9a", weight: 1.5, dashArray: "6 4", fill: true, fillColor: "#ffffff",
        fillOpacity: 0.35, className: "atlas-base-township" });
    });
    (vector.roads || []).forEach(function (r) {
      shape(r, { color: BASE_ROAD_COLORS[r.s] || "#888888", weight: r.s === "hardened" ? 2.5 : 1.5,
        opacity: 0.9, className: "atlas-base-road" });
    });
    [["settlements", 2, "#8c8c8c"], ["villages", 3, "#5a5a5a"]].forEach(function (kind) {
      (vector[kind[0]] || []).forEach(function (p) {
        var c = p.g.coordinates;
        group.addLayer(L.circleMarker([c[1], c[0]], { pane: "atlasBase", interactive: false, radius: kind[1],
          color: "#ffffff", weight: 1, fillColor: kind[2], fillOpacity: 1,
          className: "atlas-base-" + kind[0].slice(0, -1) }));
      });
    });
    var labels = (vector.labels || []).map(function (item) {
      var span = el("span", "", item.t);
      var marker = L.marker(item.p, {
        pane: "atlasBaseLabels", interactive: false, keyboard: false,
        icon: L.divIcon({ className: "atlas-base-label atlas-base-label-" + item.k, html: span,
          iconSize: null, iconAnchor: item.k === "township" || item.k === "road" ? [0, 0] : [-6, 0] }),
      });
      marker.atlasKind = item.k;
      group.addLayer(marker);
      return marker;
    });
    function update() {
      if (!map.hasLayer(group)) return;
      var zoom = map.getZoom();
      var named = {};
      map._atlas.overlays.forEach(function (o) {
        if (o.atlasSpec.names && map.hasLayer(o)) named[o.atlasSpec.key] = true;
      });
      labels.forEach(function (marker) {
        var node = marker.getElement();
        if (!node) return;
        var shown = zoom >= BASE_LABEL_ZOOM[marker.atlasKind] && !named[marker.atlasKind + "s"];
        node.style.display = shown ? "" : "none";
      });
    }
    group.on("add", function () { setTimeout(update, 0); });
    map.on("zoomend overlayadd overlayremove", update);
    return group;
  }

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
        atlas.notice(map, "在线底图无法加载（离线或网络受限），已切换为离线底图（乡镇界、村名、道路来自登记簿）；专题图层不受影响。");
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
      var names = spec.names;
      if (names && props[names.field] !== undefined && props[names.field] !== null) {
        // A name drawn on the map (text, never HTML); decluttered by rank on every zoom.
        layer.bindTooltip(el("span", "", props[names.field]), {
          permanent: true, interactive: false, opacity: 1,
          direction: names.placement || "right", offset: names.placement === "center" ? [0, 0] : [6, 0],
          className: "atlas-label atlas-label-" + spec.key + (props._warn ? " atlas-label-warn" : ""),
        });
        layer.atlasRank = Number(props[names.rank] || 0);
        layer.atlasMinZoom = names.minZoom || 0;
      } else if (spec.tooltip && props[spec.tooltip] !== undefined && props[spec.tooltip] !== null) {
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
          ? L.markerClusterGroup(clusterOptions(this.atlasSpec))
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
    if (spec.names && !map._atlas.declutterHooked) {
      map._atlas.declutterHooked = true;
      var run = function () { atlas.scheduleDeclutter(map); };
      map.on("zoomend moveend overlayadd overlayremove resize", run);
      map.whenReady(run);
    }
    return new atlas.Overlay(map, spec);
  };

  /* ------------------------------------------------------------------ tiled overlays */

  /* A large layer drawn from the server's vector tiles (Leaflet.VectorGrid, one SVG per tile,
   * in the overlay pane). Its properties are made here from the tile's columns (Chinese
   * labels, units), styled and shown as an overlay's; names joined on the server (village,
   * settlement) are read from the item when a feature is clicked. Tiles and items are fetched
   * with the page's own cookie: the server applies the viewer's role, townships and
   * personal-data rules. Tiles are in WGS 84 / Web Mercator: on the Amap (GCJ-02) base they
   * are not shifted, and the map says so. */
  function tileProps(spec, raw, detail) {
    var out = {};
    var fields = spec.tiles.fields;
    Object.keys(fields).forEach(function (name) {
      var f = fields[name];
      var value = f.detail ? (detail ? detail[f.from] : undefined) : raw[f.from];
      if (value === null || value === undefined || value === "") return;
      if (f.labels && f.labels[value] !== undefined) value = f.labels[value];
      if (f.unit) value = formatValue(value) + " " + f.unit;
      out[name] = value;
    });
    if (typeof raw.source === "string" && raw.source.indexOf("demo:") === 0) out._warn = [spec.tiles.demoNote];
    return out;
  }

  function scaledStyle(rules, raw) {
    var own = {};
    (rules || []).forEach(function (r) {
      var value = raw[r.field];
      var number = Number(value);
      own[r.option] = value === null || value === undefined || value === "" || isNaN(number)
        ? r["default"] : Math.min(r.high, Math.max(r.low, number / r.divide));
    });
    return own;
  }

  atlas.tileOverlay = function (map, spec) {
    var t = spec.tiles;
    var styles = {};
    styles[t.layer] = function (raw) {
      var style = styleFor(spec, tileProps(spec, raw, null), scaledStyle(t.scale, raw));
      style.className += " atlas-tiled";
      // VectorGrid starts from L.Path's options (no fill), not CircleMarker's.
      if (spec.kind === "circle" && style.fill === undefined) style.fill = true;
      return style;
    };
    var layer = L.vectorGrid.protobuf(t.url, {
      rendererFactory: L.svg.tile, vectorTileLayerStyles: styles, interactive: true, pane: "overlayPane",
      minZoom: t.minZoom, maxZoom: map.options.maxZoom || 18, fetchOptions: { credentials: "same-origin" },
    });
    // VectorGrid keeps a feature's id only for its own bookkeeping; the popup needs it to read
    // the item (names joined on the server).
    var create = layer._createLayer;
    layer._createLayer = function (feat, pxPerExtent) {
      var symbol = create.call(this, feat, pxPerExtent);
      symbol.atlasId = feat.id;
      // A point symbolizer is a CircleMarker without a position (it knows tile pixels only):
      // Leaflet would place the event at getLatLng() and fail; the mouse's position it is.
      symbol.getLatLng = null;
      return symbol;
    };
    var needsDetail = Object.keys(t.fields).some(function (k) { return t.fields[k].detail; });
    if (spec.popup) {
      layer.on("click", function (e) {
        var raw = e.layer.properties || {};
        var popup = L.popup({ maxWidth: 360 }).setLatLng(e.latlng)
          .setContent(popupContent(spec, tileProps(spec, raw, null))).openOn(map);
        var id = e.layer.atlasId;
        if (!needsDetail || id === undefined || id === null) return;
        fetch(t.item + encodeURIComponent(id), { credentials: "same-origin",
                                                  headers: { Accept: "application/geo+json" } })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (item) {
            if (item && item.properties && map.hasLayer(popup)) {
              popup.setContent(popupContent(spec, tileProps(spec, raw, item.properties)));
            }
          })
          .catch(function () { /* the popup keeps what the tile had */ });
      });
    }
    if (spec.tooltip) {
      var tip = L.tooltip({ direction: "top", offset: [0, -6] });
      layer.on("mouseover", function (e) {
        var text = tileProps(spec, e.layer.properties || {}, null)[spec.tooltip];
        if (text === undefined) return;
        tip.setLatLng(e.latlng).setContent(el("span", "", text));
        map.openTooltip(tip);
      });
      layer.on("mouseout", function () { map.closeTooltip(tip); });
    }
    layer.atlasSpec = spec;
    layer.atlasTiled = true;
    layer.atlasSync = function () {
      if (map._atlas.crs === "gcj02" && map.hasLayer(layer)) {
        atlas.notice(map, "矢量瓦片图层（" + spec.name + "）按 WGS 84 绘制，在高德底图上有数百米偏移；请改用其他底图核对位置。");
      }
    };
    /* Features drawn from the tiles loaded so far (a feature crossing tiles counts in each). */
    layer.atlasCount = function () {
      var box = layer.getContainer && layer.getContainer();
      return box ? box.querySelectorAll("path.atlas-" + spec.key).length : 0;
    };
    layer.on("add", function () { layer.atlasSync(); });
    map._atlas.overlays.push(layer);
    map._atlas.byKey[spec.key] = layer;
    return layer;
  };

  /* ------------------------------------------------------------------ names on the map */

  /* Hide names that would overlap a name of higher rank (poor villages lacking a unit or a
   * team first, then township names, then the rest), and names below their minimum zoom.
   * Names marked ``always`` (townships; villages from rank ``alwaysFrom``) are never hidden,
   * but still push lower ranks away. */
  var SIDES = { right: [6, 0], left: [-6, 0], top: [0, -6], bottom: [0, 6] };

  /* Leaflet's tooltip CSS adds a 6 px margin on the side of the point (for its arrow). */
  var MARGIN = 6;
  var SIDE_CLASSES = ["leaflet-tooltip-right", "leaflet-tooltip-left", "leaflet-tooltip-top",
                      "leaflet-tooltip-bottom", "leaflet-tooltip-center"];

  /* Where a label of size w x h sits on ``side`` of the point ``a`` (container pixels), as
   * Leaflet's Tooltip._setPosition puts it: ``pos`` is the element's position before the CSS
   * margin, ``box`` the rectangle it covers. */
  function labelAt(a, w, h, side) {
    var off = SIDES[side] || [0, 0], x, y, mx = 0, my = 0;
    if (side === "right") { x = a.x + off[0]; y = a.y - h / 2; mx = MARGIN; }
    else if (side === "left") { x = a.x - w + off[0]; y = a.y - h / 2; mx = -MARGIN; }
    else if (side === "top") { x = a.x - w / 2; y = a.y - h + off[1]; my = -MARGIN; }
    else if (side === "bottom") { x = a.x - w / 2; y = a.y + off[1]; my = MARGIN; }
    else { x = a.x - w / 2; y = a.y - h / 2; }
    return { pos: L.point(x, y), box: { left: x + mx, top: y + my, right: x + mx + w, bottom: y + my + h } };
  }

  /* Declutter in two passes, so that the browser lays the page out once, not once per label
   * and side: read every label's size, place them all in memory, then write the positions. */
  atlas.declutter = function (map) {
    var zoom = map.getZoom();
    var labels = [];
    map._atlas.overlays.forEach(function (o) {
      if (!o.atlasSpec.names || !map.hasLayer(o)) return;
      o.atlasChild().atlasLayers.forEach(function (layer) {
        var tip = layer.getTooltip && layer.getTooltip();
        var node = tip && tip.getElement && tip.getElement();
        if (!node || !node.isConnected || node.style.display === "none") return;
        var names = o.atlasSpec.names, rank = layer.atlasRank || 0;
        labels.push({ tip: tip, node: node, rank: rank, minZoom: layer.atlasMinZoom || 0,
          always: !!names.always || (names.alwaysFrom !== null && names.alwaysFrom !== undefined &&
            rank >= names.alwaysFrom),
          center: names.placement === "center" });
      });
    });
    // Read: sizes (one layout for all) and anchor points (arithmetic, no layout).
    labels.forEach(function (label) {
      label.w = label.node.offsetWidth;
      label.h = label.node.offsetHeight;
      var extra = label.tip._getAnchor ? label.tip._getAnchor() : L.point(0, 0);  // a marker icon's tooltipAnchor
      label.anchor = map.latLngToLayerPoint(label.tip.getLatLng()).add(extra);
    });
    labels.sort(function (a, b) { return b.rank - a.rank; });
    var kept = [];
    function clashes(r) {
      return kept.some(function (k) {
        return r.left < k.right + 2 && r.right + 2 > k.left && r.top < k.bottom && r.bottom > k.top;
      });
    }
    labels.forEach(function (label) {
      label.visible = true;
      label.side = label.center ? "center" : "right";
      if (zoom < label.minZoom) { label.visible = false; return; }
      if (label.center) {
        var box = labelAt(label.anchor, label.w, label.h, "center").box;
        if (clashes(box) && !label.always) label.visible = false; else kept.push(box);
        return;
      }
      // Beside the point: right, else left, above or below; hidden when every side is taken.
      var sides = ["right", "left", "top", "bottom"];
      for (var i = 0; i < sides.length; i++) {
        var r = labelAt(label.anchor, label.w, label.h, sides[i]).box;
        if (!clashes(r)) { kept.push(r); label.side = sides[i]; return; }
      }
      if (label.always) kept.push(labelAt(label.anchor, label.w, label.h, "right").box);
      else label.visible = false;
    });
    // Write: sides, positions and visibility, with no read in between.
    labels.forEach(function (label) {
      label.node.style.visibility = label.visible ? "" : "hidden";
      if (label.center) return;
      if (label.tip.options.direction !== label.side || !label.node.classList.contains("leaflet-tooltip-" + label.side)) {
        label.tip.options.direction = label.side;
        label.tip.options.offset = SIDES[label.side];
        SIDE_CLASSES.forEach(function (c) { label.node.classList.remove(c); });
        label.node.classList.add("leaflet-tooltip-" + label.side);
      }
      L.DomUtil.setPosition(label.node, labelAt(label.anchor, label.w, label.h, label.side).pos);
    });
  };

  /* One declutter per animation frame, however many events ask for it (a page adding ten
   * overlays, a move and a zoom at once). */
  atlas.scheduleDeclutter = function (map) {
    if (map._atlas.declutterFrame) return;
    map._atlas.declutterFrame = L.Util.requestAnimFrame(function () {
      map._atlas.declutterFrame = null;
      atlas.declutter(map);
    });
  };

  /* ------------------------------------------------------------------ selectors */

  /* Year, township and unit selectors: a choice reloads the page with it in the URL. */
  atlas.selectors = function (map, spec) {
    if (window.location.protocol === "file:") return null;  // a saved file has no server to ask
    var control = L.control({ position: "topleft" });
    control.onAdd = function () {
      var box = el("div", "atlas-selectors leaflet-control");
      spec.fields.forEach(function (field) {
        var label = el("label", "atlas-selector");
        label.appendChild(el("span", "", field.label));
        var select = el("select");
        select.name = field.name;
        select.setAttribute("aria-label", field.label);
        field.options.forEach(function (pair) {
          var option = el("option", "", pair[1]);
          option.value = pair[0];
          if ((field.value || "") === pair[0]) option.selected = true;
          select.appendChild(option);
        });
        select.addEventListener("change", function () {
          var params = new URLSearchParams(window.location.search);
          if (select.value) params.set(field.name, select.value); else params.delete(field.name);
          // A unit of another township would show nothing: choosing a township drops the unit.
          if (field.name === "township") params.delete("unit");
          var query = params.toString();
          window.location.assign(window.location.pathname + (query ? "?" + query : ""));
        });
        label.appendChild(select);
        box.appendChild(label);
        if (field.note) box.appendChild(el("div", "atlas-selector-note", "当前年度：" + field.note));
      });
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.addTo(map);
    return control;
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

  /* Marker-cluster options: a cluster of counted things (spec.clusterUnit: 户) shows "12户" in a
   * rounded box, so that its number reads as a count and never as a visiting order. */
  function clusterOptions(spec) {
    var options = { chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50 };
    if (spec.clusterUnit) {
      options.iconCreateFunction = function (cluster) {
        var n = cluster.getChildCount();
        var size = n < 10 ? "small" : (n < 100 ? "medium" : "large");
        var box = el("div", "atlas-count");
        box.appendChild(el("span", "", n + spec.clusterUnit));
        box.title = "聚合 " + n + " " + spec.clusterUnit + "，放大查看";
        var width = 20 + 8 * String(n).length + 14;
        return L.divIcon({ html: box, className: "marker-cluster marker-cluster-" + size + " atlas-count-cluster",
                           iconSize: L.point(width, 26) });
      };
    }
    return options;
  }
  atlas.clusterOptions = clusterOptions;

  /* ------------------------------------------------------------------ side panel */

  /* The pairing map's panel: per township, each village with its units; every unit with its
   * villages. Clicking a unit highlights exactly its villages (and shows its lines); clicking
   * a village shows its units. Every value goes in as text. */
  atlas.panel = function (map, spec) {
    if (document.body.classList.contains("atlas-print")) return null;  // the print has its table
    var container = map.getContainer();
    var panel = el("aside", "atlas-panel");
    panel.setAttribute("aria-label", spec.title);
    container.parentNode.insertBefore(panel, container);
    document.body.classList.add("atlas-with-panel");
    map.invalidateSize();
    L.DomEvent.disableScrollPropagation(panel);

    var units = {};
    spec.units.forEach(function (u) { units[u.id] = u; });
    var villageNames = {};
    spec.townships.forEach(function (t) { t.villages.forEach(function (v) { villageNames[v.id] = v; }); });

    panel.appendChild(el("h2", "", spec.title));
    var status = el("div", "atlas-panel-status", "点选单位查看其帮扶村；点选村名查看其帮扶单位。");
    var reset = el("button", "atlas-panel-reset", "显示全部");
    reset.type = "button";
    panel.appendChild(status);
    panel.appendChild(reset);

    function unitChip(unit, extra) {
      var chip = el("button", "atlas-unit-chip" + (unit && units[unit.id] && units[unit.id].far ? " far" : ""),
        unit ? unit.name : "");
      chip.type = "button";
      chip.setAttribute("data-unit", unit.id);
      chip.addEventListener("click", function () { selectUnit(unit.id); });
      var wrap = el("span", "atlas-unit");
      wrap.appendChild(chip);
      if (extra) wrap.appendChild(el("span", "atlas-funds", extra));
      return wrap;
    }
    function villageButton(v) {
      var b = el("button", "atlas-village-name", v.name);
      b.type = "button";
      b.setAttribute("data-village", v.id);
      b.addEventListener("click", function () { selectVillage(v.id); });
      return b;
    }

    if (spec.gaps.length) {
      var gapBox = el("section", "atlas-panel-gaps");
      gapBox.appendChild(el("h3", "", spec.gapLabel + "（" + spec.gaps.length + " 个）"));
      var gapList = el("ul");
      spec.gaps.forEach(function (g) {
        var li = el("li");
        li.appendChild(villageButton(g));
        li.appendChild(el("span", "atlas-warn-text", g.warn.join("，")));
        gapList.appendChild(li);
      });
      gapBox.appendChild(gapList);
      panel.appendChild(gapBox);
    }
    spec.townships.forEach(function (t) {
      var section = el("section", "atlas-panel-town");
      section.appendChild(el("h3", "", t.name + "（" + t.villages.length + " 个村）"));
      var list = el("ul");
      t.villages.forEach(function (v) {
        var li = el("li", "atlas-panel-village" + (v.warn.length ? " gap" : ""));
        li.setAttribute("data-village", v.id);
        var head = el("div", "atlas-village-head");
        head.appendChild(villageButton(v));
        head.appendChild(el("span", "atlas-category", v.category));
        if (v.funds) head.appendChild(el("span", "atlas-funds", "任务资金 " + v.funds));
        if (v.input) head.appendChild(el("span", "atlas-funds atlas-input", "投入 " + v.input));
        li.appendChild(head);
        if (v.warn.length) li.appendChild(el("div", "atlas-warn-text", v.warn.join("，")));
        var row = el("div", "atlas-units-row");
        if (v.units.length) {
          row.appendChild(el("span", "atlas-k", "帮扶单位："));
          v.units.forEach(function (u) {
            var parts = [];
            if (u.funds) parts.push("任务 " + u.funds);
            if (u.input) parts.push("投入 " + u.input);
            row.appendChild(unitChip(u, parts.length ? "（" + parts.join("；") + "）" : null));
          });
        } else {
          row.appendChild(el("span", "atlas-warn-text", "无帮扶单位"));
        }
        li.appendChild(row);
        var lead = el("div", "atlas-units-row");
        lead.appendChild(el("span", "atlas-k", "工作队队长单位："));
        if (v.leader) lead.appendChild(unitChip(v.leader));
        else lead.appendChild(el("span", "atlas-warn-text", "无驻村工作队"));
        li.appendChild(lead);
        list.appendChild(li);
      });
      section.appendChild(list);
      panel.appendChild(section);
    });
    var unitBox = el("section", "atlas-panel-units");
    var far = spec.units.filter(function (u) { return u.far; }).length;
    unitBox.appendChild(el("h3", "", "帮扶单位（" + spec.units.length + " 个" +
      (far ? "，其中区外或未登记办公地点 " + far + " 个" : "") + "）"));
    var unitList = el("ul");
    spec.units.forEach(function (u) {
      var li = el("li");
      li.appendChild(unitChip(u));
      var n = {};
      u.villages.concat(u.leads).forEach(function (id) { n[id] = true; });
      li.appendChild(el("span", "atlas-k", " " + Object.keys(n).length + " 个村" + (u.funds ? "，任务 " + u.funds : "") +
        (u.input ? "；投入 " + u.input : "") + (u.far ? "（区外）" : "")));
      unitList.appendChild(li);
    });
    unitBox.appendChild(unitList);
    panel.appendChild(unitBox);

    function overlayLayers(key) {
      var o = map._atlas.byKey[key];
      return o ? o.atlasChild().atlasLayers : [];
    }
    function mark(ids) {
      var hit = [];
      overlayLayers("villages").forEach(function (layer) {
        var node = layer.getElement && layer.getElement();
        var on = ids === null || ids[layer.feature.properties.id];
        if (node) {
          node.classList.toggle("atlas-hl", ids !== null && !!on);
          node.classList.toggle("atlas-dim", !on);
        }
        if (ids !== null && on) hit.push(layer.getLatLng());
      });
      return hit;
    }
    function showLinks(unitId) {
      ["pairing_links", "units"].forEach(function (key) {
        var o = map._atlas.byKey[key];
        if (!o) return;
        if (unitId !== null && !map.hasLayer(o)) { map.addLayer(o); o.atlasAddedByPanel = true; }
        if (unitId === null && o.atlasAddedByPanel) { map.removeLayer(o); o.atlasAddedByPanel = false; }
        o.atlasChild().atlasLayers.forEach(function (layer) {
          var p = layer.feature.properties;
          var mine = unitId === null || (key === "units" ? p.id : p.unit_id) === unitId;
          var node = layer.getElement && layer.getElement();
          if (node) node.style.display = mine ? "" : "none";
          var tip = layer.getTooltip && layer.getTooltip();
          var tipNode = tip && tip.getElement && tip.getElement();
          if (tipNode) tipNode.style.display = mine ? "" : "none";
        });
        atlas.declutter(map);
      });
    }
    function activate(selector, test) {
      panel.querySelectorAll(selector).forEach(function (node) { node.classList.toggle("active", test(node)); });
    }
    function selectUnit(unitId) {
      var unit = units[unitId];
      if (!unit) return;
      var ids = {};
      unit.villages.concat(unit.leads).forEach(function (id) { ids[id] = true; });
      var hit = mark(ids);
      showLinks(unitId);
      activate("[data-unit]", function (n) { return Number(n.getAttribute("data-unit")) === unitId; });
      activate("li[data-village]", function (n) { return !!ids[n.getAttribute("data-village")]; });
      var names = Object.keys(ids).map(function (id) { return villageNames[id] ? villageNames[id].name : id; });
      status.textContent = unit.name + "：" + names.length + " 个村（" + names.join("、") + "）" +
        (unit.far ? "；办公地点在区外或未登记" : "");
      state.unit = unitId;
      if (hit.length) map.fitBounds(L.latLngBounds(hit).pad(0.3), { maxZoom: 12 });
    }
    function selectVillage(villageId) {
      var v = villageNames[villageId];
      if (!v) return;
      var ids = {};
      ids[villageId] = true;
      mark(ids);
      showLinks(null);
      var mine = {};
      v.units.forEach(function (u) { mine[u.id] = true; });
      if (v.leader) mine[v.leader.id] = true;
      activate("[data-unit]", function (n) { return !!mine[n.getAttribute("data-unit")]; });
      activate("li[data-village]", function (n) { return Number(n.getAttribute("data-village")) === villageId; });
      status.textContent = v.name + "：帮扶单位 " + (v.units.map(function (u) { return u.name; }).join("、") || "无") +
        "；工作队队长单位 " + (v.leader ? v.leader.name : "无");
      state.village = villageId;
      overlayLayers("villages").forEach(function (layer) {
        if (layer.feature.properties.id === villageId) {
          map.setView(layer.getLatLng(), Math.max(map.getZoom(), 11));
          layer.openPopup();
        }
      });
    }
    function clear() {
      mark(null);
      showLinks(null);
      activate("[data-unit], li[data-village]", function () { return false; });
      status.textContent = "点选单位查看其帮扶村；点选村名查看其帮扶单位。";
      state.unit = state.village = null;
    }
    reset.addEventListener("click", clear);
    var state = { selectUnit: selectUnit, selectVillage: selectVillage, clear: clear, unit: null, village: null };
    map._atlas.panel = state;
    return state;
  };

  /* ------------------------------------------------------------------ print sheet */

  /* The print layout (maps/printing.py): the whole legend beside the map, a north arrow,
   * no controls. ``window.atlasPrintReady`` tells a printer the sheet is laid out. */
  atlas.print = function (map, spec) {
    document.body.classList.add("atlas-print");
    var side = document.getElementById(spec.legendTarget);
    var legend = map.getContainer().querySelector(".atlas-legend");
    if (side && legend) {
      side.appendChild(legend);
      var details = legend.querySelector("details");
      if (details) details.open = true;
      // The whole legend on the sheet: a smaller type, then two columns, never cut.
      var size = 8;
      while (legend.scrollHeight > side.clientHeight && size > 5.5) {
        size -= 0.5;
        legend.style.fontSize = size + "pt";
      }
      if (legend.scrollHeight > side.clientHeight) legend.style.columnCount = 2;
    }
    var north = L.control({ position: "topleft" });
    north.onAdd = function () {
      var box = el("div", "atlas-north leaflet-control");
      box.appendChild(el("div", "", "▲"));
      box.appendChild(el("div", "", "北"));
      box.setAttribute("title", "指北针");
      return box;
    };
    north.addTo(map);
    map.invalidateSize();
    map.whenReady(function () {
      setTimeout(function () {
        if (spec.bounds) {
          // Fill the sheet's frame: fractional zoom, not the next whole level down.
          map.options.zoomSnap = 0.1;
          map.fitBounds(spec.bounds, { padding: [12, 12], animate: false });
        }
        atlas.declutter(map);
        window.atlasPrintReady = true;
        if (new URLSearchParams(window.location.search).get("autoprint") === "1") {
          setTimeout(function () { window.print(); }, 800);  // tiles a moment to arrive
        }
      }, 0);
    });
  };

  /* A button on served maps: opens this map's print sheet (A3 landscape) and prints it. */
  atlas.printButton = function (map) {
    if (window.location.protocol === "file:" || document.body.classList.contains("atlas-print")) return null;
    var control = L.control({ position: "topleft" });
    control.onAdd = function () {
      var box = el("div", "atlas-print-button leaflet-bar leaflet-control");
      var link = el("a", "", "打印");
      var params = new URLSearchParams(window.location.search);
      params.set("print", "A3");
      params.set("landscape", "true");
      params.set("autoprint", "1");
      link.href = window.location.pathname + "?" + params.toString();
      link.target = "_blank";
      link.title = "打印（A3 横向，含图例、比例尺、指北针）";
      link.setAttribute("role", "button");
      box.appendChild(link);
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
