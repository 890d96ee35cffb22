/* UIG graph view: draws the data of uig_core.graph.html.vis_data with vis-network.
 *
 * Two homes, one behaviour: inside the dashboard (a Streamlit component: data arrives by postMessage, a click
 * on a node is sent back so the page re-centers on it) and in an exported file (data in a JSON block; a click
 * focuses the node's neighbourhood in place). Positions are fixed (computed in Python), physics is off and the
 * view is fitted to the canvas. Every text from the data is set with textContent or handed to vis-network, which
 * draws labels on a canvas and sets tooltips with innerText: nothing from the data is parsed as HTML.
 */
(function () {
  "use strict";
  var embedded = document.getElementById("uig-data");
  var state = { network: null, nodes: null, edges: null, base: {}, data: null, lib: null, focus: null };
  window.uig = state; // tests read positions from state.network (getPositions, canvasToDOM)

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function send(type, extra) {
    var msg = { isStreamlitMessage: true, type: type };
    for (var k in extra) msg[k] = extra[k];
    window.parent.postMessage(msg, "*");
  }

  function frame() {
    if (document.getElementById("uig-graph")) return;
    var bar = el("div", "uig-bar");
    bar.id = "uig-bar";
    var legend = el("span", "uig-legend");
    legend.id = "uig-legend";
    var tools = el("span", "uig-tools");
    var search = el("input");
    search.id = "uig-search";
    search.type = "search";
    search.placeholder = "highlight nodes in view…";
    search.setAttribute("aria-label", "Highlight nodes in view");
    var fit = el("button", "", "Fit");
    fit.type = "button";
    fit.title = "Show the whole graph";
    tools.appendChild(search);
    tools.appendChild(fit);
    bar.appendChild(legend);
    bar.appendChild(tools);
    var graph = el("div");
    graph.id = "uig-graph";
    var info = el("div");
    info.id = "uig-info";
    info.setAttribute("aria-live", "polite");
    document.body.appendChild(bar);
    document.body.appendChild(graph);
    document.body.appendChild(info);
    search.addEventListener("input", function () { highlight(search.value, false); });
    search.addEventListener("keydown", function (ev) { if (ev.key === "Enter") highlight(search.value, true); });
    fit.addEventListener("click", function () { reset(); });
    window.addEventListener("resize", function () { if (state.network) state.network.fit({ animation: false }); });
  }

  function drawLegend(data) {
    var legend = document.getElementById("uig-legend");
    legend.textContent = "";
    (data.legend || []).forEach(function (chip) {
      var c = el("span", "uig-chip");
      var sw = el("span", "uig-swatch " + chip.shape);
      if (chip.color) sw.style.background = chip.color;
      c.appendChild(sw);
      c.appendChild(el("span", "", chip.label));
      legend.appendChild(c);
    });
    legend.appendChild(el("span", "uig-note", data.note + (embedded ? " · click a node to focus it" : " · click a node to re-center")));
  }

  function info(text) {
    document.getElementById("uig-info").textContent = text || "";
  }

  function centerText() {
    var d = state.data;
    var id = d.center || (d.nodes[0] && d.nodes[0].id);
    return id && state.base[id] ? state.base[id].title : "";
  }

  function draw(data) {
    frame();
    state.data = data;
    state.base = {};
    data.nodes.forEach(function (n) { state.base[n.id] = n; });
    var graph = document.getElementById("uig-graph");
    graph.style.height = data.cssHeight || data.height + "px";
    drawLegend(data);
    var nodes = new vis.DataSet(data.nodes.map(function (n) { return Object.assign({}, n); }));
    var edges = new vis.DataSet(data.edges.map(function (e, i) { return Object.assign({ id: "e" + i }, e); }));
    state.nodes = nodes;
    state.edges = edges;
    var options = {
      physics: { enabled: false },
      layout: { randomSeed: 0, improvedLayout: false },
      interaction: { hover: true, tooltipDelay: 120, navigationButtons: false, multiselect: false },
      nodes: { font: { size: 13, face: "sans-serif" }, borderWidth: 1 },
      edges: { smooth: false, color: { inherit: false }, selectionWidth: 1.5 },
    };
    if (state.network) {
      state.network.setData({ nodes: nodes, edges: edges });
    } else {
      state.network = new vis.Network(graph, { nodes: nodes, edges: edges }, options);
      bind(state.network);
    }
    state.network.fit({ animation: false });
    info(centerText());
    var q = document.getElementById("uig-search").value;
    if (data.highlight && data.highlight.length) mark(data.highlight, false);
    else if (q) highlight(q, false);
    state.focus = null;
    window.uigReady = (window.uigReady || 0) + 1;
    if (!embedded) send("streamlit:setFrameHeight", { height: document.body.scrollHeight + 4 });
  }

  function bind(network) {
    network.on("click", function (params) {
      if (params.nodes && params.nodes.length) {
        var id = params.nodes[0];
        if (embedded) focusOn(id);
        else send("streamlit:setComponentValue", { value: { node: id, at: Date.now() }, dataType: "json" });
      } else if (!params.edges || !params.edges.length) {
        reset();
      }
    });
    network.on("hoverNode", function (params) { info(state.base[params.node] ? state.base[params.node].title : ""); });
    network.on("blurNode", function () { info(state.focus ? state.base[state.focus].title : centerText()); });
  }

  function restyle(keep) {
    // keep: null (all normal) or a set of ids drawn normally; the rest fade
    var updates = state.data.nodes.map(function (n) {
      var on = !keep || keep[n.id];
      return { id: n.id, color: on ? n.color : "#e6e6e6", font: on ? (n.font || { color: "#222" }) : { color: "#c8c8c8" },
        borderWidth: keep && keep[n.id] === 2 ? 4 : n.borderWidth || 1 };
    });
    state.nodes.update(updates);
    state.edges.update(state.data.edges.map(function (e, i) {
      var on = !keep || (keep[e.from] && keep[e.to]);
      return { id: "e" + i, color: on ? e.color : "#f0f0f0" };
    }));
  }

  function mark(ids, zoom) {
    var keep = {};
    var hits = [];
    ids.forEach(function (id) { if (state.base[id]) { keep[id] = 2; hits.push(id); } });
    if (!hits.length) { restyle(null); return 0; }
    restyle(keep);
    if (zoom) state.network.fit({ nodes: hits, animation: false });
    return hits.length;
  }

  function highlight(text, zoom) {
    var q = (text || "").trim().toLowerCase();
    if (!q) { restyle(null); return 0; }
    var ids = state.data.nodes.filter(function (n) {
      return (n.label + "\n" + n.title + "\n" + n.id).toLowerCase().indexOf(q) >= 0;
    }).map(function (n) { return n.id; });
    var found = mark(ids, zoom);
    info(found ? found + " node(s) match \u201c" + text.trim() + "\u201d" : "no node in view matches \u201c" + text.trim() + "\u201d");
    return found;
  }

  function focusOn(id) {
    var keep = {};
    keep[id] = 2;
    state.network.getConnectedNodes(id).forEach(function (n) { keep[n] = 1; });
    restyle(keep);
    state.network.fit({ nodes: Object.keys(keep), animation: false });
    state.focus = id;
    info(state.base[id].title);
  }

  function reset() {
    state.focus = null;
    document.getElementById("uig-search").value = "";
    restyle(null);
    state.network.fit({ animation: false });
    info(centerText());
  }

  state.focusOn = focusOn;
  state.highlight = highlight;

  function withLib(src, then) {
    if (window.vis || state.lib) { if (window.vis) then(); else state.lib.push(then); return; }
    state.lib = [then];
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = src.replace(/\.min\.js$/, ".css");
    document.head.appendChild(css);
    var s = document.createElement("script");
    s.src = src;
    s.onload = function () { state.lib.forEach(function (f) { f(); }); };
    document.head.appendChild(s);
  }

  if (embedded) {
    draw(JSON.parse(embedded.textContent));
  } else {
    window.addEventListener("message", function (ev) {
      var d = ev.data;
      if (!d || d.type !== "streamlit:render" || !d.args || !d.args.data) return;
      withLib(d.args.lib, function () { draw(d.args.data); });
    });
    send("streamlit:componentReady", { apiVersion: 1 });
  }
})();
