// The reading page's filters: loads headlines.json (written with the feeds) and shows the
// newest headlines matching the text search (diacritics folded), category, province and
// newspaper. Builds DOM nodes with textContent only; links must be http(s).
// When served by `aggregator serve --db` (its files carry X-Aggregator-Search: 1), the text
// search also asks search.json (the whole archive, with the same filters): debounced, one
// request at a time; elsewhere, or when it fails, the client-side results stay.
"use strict";
(function () {
  var SHOWN = 50;
  var DEBOUNCE_MS = 300;
  var archive = { enabled: false, timer: 0, busy: false, wanted: "" };
  var filters = document.getElementById("filters");
  var FIELDS = ["q", "category", "province", "site"];
  var list = document.getElementById("headlines");
  var title = document.getElementById("headlines-title");
  if (!filters || !list || !title || !window.fetch) return;

  // "Hòa", "hoà", "HOA" -> "hoa"; đ -> d
  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[đĐ]/g, "d").toLowerCase();
  }

  function webUrl(url) {
    return /^https?:\/\//i.test(url) ? url : null;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function link(url, text) {
    var a = el("a", "", text);
    var href = webUrl(url);
    if (href) a.href = href;
    return a;
  }

  // ISO 8601 in Vietnam time (+07:00) -> "HH:MM dd/mm/yyyy", as the page shows it
  function shownTime(iso) {
    var t = /[zZ]|[+-]\d{2}:\d{2}$/.test(iso || "") ? Date.parse(iso) : NaN;
    if (!isNaN(t)) iso = new Date(t + 7 * 3600e3).toISOString().slice(0, 19) + "+07:00";
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso || "");
    return m ? m[4] + ":" + m[5] + " " + m[3] + "/" + m[2] + "/" + m[1] : "";
  }

  function render(item, index) {
    var site = index.sites[item.site] || { name: item.siteName || item.site, province: "" };
    var province = index.provinces[site.province] || "";
    var li = el("li");
    var article = el("article");
    var h3 = el("h3");
    h3.appendChild(link(item.url, item.title));
    article.appendChild(h3);
    var meta = el("p", "meta", [site.name, province].filter(Boolean).join(" · ") + " · ");
    var time = el("time", "", shownTime(item.time));
    time.dateTime = item.time;
    meta.appendChild(time);
    article.appendChild(meta);
    if (item.lead) article.appendChild(el("p", "lead", item.lead));
    if (item.also.length) {
      var also = el("p", "also", "Cũng đăng trên: ");
      item.also.forEach(function (copy, i) {
        if (i) also.appendChild(document.createTextNode(", "));
        also.appendChild(link(copy.url, copy.name));
      });
      article.appendChild(also);
    }
    li.appendChild(article);
    return li;
  }

  function prepare(index) {
    index.items.forEach(function (item) {
      var site = index.sites[item.site] || {};
      var sites = [item.site].concat(item.also.map(function (c) { return c.site; }));
      item.sites = sites;
      item.provinces = sites.map(function (s) { return (index.sites[s] || {}).province; });
      item.text = fold([item.title, item.lead, site.name, index.provinces[site.province]].join(" "));
    });
  }

  function matches(item, words, filter) {
    if (filter.category && item.categories.indexOf(filter.category) < 0) return false;
    if (filter.province && item.provinces.indexOf(filter.province) < 0) return false;
    if (filter.site && item.sites.indexOf(filter.site) < 0) return false;
    return words.every(function (w) { return item.text.indexOf(w) >= 0; });
  }

  function field(name) {
    return document.getElementById("f-" + name);
  }

  function update(index) {
    var data = {};
    FIELDS.forEach(function (name) { data[name] = field(name) ? field(name).value : ""; });
    var filter = { category: data.category, province: data.province, site: data.site };
    var words = fold(data.q).split(/\s+/).filter(Boolean);
    var active = words.length || filter.category || filter.province || filter.site;
    var found = index.items.filter(function (item) { return matches(item, words, filter); });
    var shown = found.slice(0, SHOWN);
    var nodes = shown.map(function (item) { return render(item, index); });
    list.replaceChildren.apply(list, nodes);
    if (!found.length) list.appendChild(el("li", "empty", "Không có bài nào khớp."));
    title.textContent = !active ? shown.length + " bài mới nhất"
      : found.length > SHOWN ? found.length + " bài khớp, " + SHOWN + " bài mới nhất"
        : found.length + " bài khớp";
    var params = new URLSearchParams();
    FIELDS.forEach(function (name) { if (data[name]) params.set(name, data[name]); });
    var query = params.toString();
    history.replaceState(null, "", query ? "?" + query : location.pathname);
    archive.wanted = words.length && archive.enabled ? query : "";
    clearTimeout(archive.timer);
    if (archive.wanted) {
      archive.timer = setTimeout(function () { searchArchive(index); }, DEBOUNCE_MS);
    }
  }

  // a JSON Feed item of search.json -> the shape of a headlines.json item
  function fromFeed(entry) {
    var ext = entry._aggregator || {};
    var source = ext.source || {};
    return {
      title: String(entry.title || ""), url: String(entry.url || ""),
      lead: String(entry.summary || ""), time: String(entry.date_published || ""),
      site: String(source.site || ""), siteName: String(source.name || ""),
      also: (ext.also_at || []).map(function (c) {
        return { site: String(c.site || ""), url: String(c.url || ""), name: String(c.name || "") };
      }),
    };
  }

  function searchArchive(index) {
    if (archive.busy || !archive.wanted) return;  // the answer in flight asks again
    var query = archive.wanted;
    archive.busy = true;
    fetch("search.json?" + query, { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 404) archive.enabled = false;  // no archive here
        if (!response.ok) throw new Error(response.status + " search.json");
        return response.json();
      })
      .then(function (feed) {
        if (query !== archive.wanted) return;
        var found = (feed.items || []).map(fromFeed);
        list.replaceChildren.apply(list, found.map(function (item) { return render(item, index); }));
        if (!found.length) list.appendChild(el("li", "empty", "Không có bài nào khớp."));
        // search.json answers at most SHOWN: the newest of perhaps more
        title.textContent = "Kết quả tìm trong kho bài: " + found.length
          + (found.length >= SHOWN ? " bài mới nhất" : " bài");
      })
      .catch(function (error) {
        // the client-side results shown by update() stay
        console.warn("archive search unavailable:", error.message);
      })
      .then(function () {
        archive.busy = false;
        if (archive.wanted && archive.wanted !== query) searchArchive(index);
      });
  }

  function start(index) {
    prepare(index);
    var params = new URLSearchParams(location.search);
    FIELDS.forEach(function (name) {
      if (field(name) && params.get(name)) field(name).value = params.get(name);
    });
    filters.hidden = false;
    filters.addEventListener("input", function () { update(index); });
    filters.addEventListener("change", function () { update(index); });
    if (params.toString()) update(index);
  }

  fetch(filters.dataset.index, { headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) throw new Error(response.status + " " + filters.dataset.index);
      // `aggregator serve --db` says so: only then is there a search.json to ask
      archive.enabled = response.headers.get("X-Aggregator-Search") === "1";
      return response.json();
    })
    .then(start)
    .catch(function (error) {
      // the server-rendered headlines stay; the filters stay hidden
      console.warn("filters unavailable:", error.message);
    });
})();
