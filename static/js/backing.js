// The backing form (templates/pledges/_reward_fields.html, _running_total.html): show only the
// fields the chosen reward needs, and keep the running total as the backer types. The sum is the
// server's (crowdfund/services/backing_quote.py, crowdfund/domain/shipping.py), on the same
// figures, in minor units; without script the page still works ("Update the total").
(function () {
  var form = document.querySelector("form.pledge-form[data-figures]");
  if (!form) { return; }
  var figures = JSON.parse(form.getAttribute("data-figures"));
  var currency = form.getAttribute("data-currency");
  var lang = document.documentElement.lang || "en";
  var money = new Intl.NumberFormat(lang, { style: "currency", currency: currency });
  var digits = money.resolvedOptions().maximumFractionDigits;

  function format(minor) { return money.format(minor / Math.pow(10, digits)); }

  function minorOf(text) {  // what the backer typed, in minor units (0 when unreadable)
    var cleaned = String(text || "").replace(/[\s,\u00a0']/g, "");
    if (!/^\d+(\.\d*)?$/.test(cleaned)) { return 0; }
    var parts = cleaned.split(".");
    var fraction = (parts[1] || "").slice(0, digits);
    while (fraction.length < digits) { fraction += "0"; }
    return parseInt(parts[0] + fraction, 10) || 0;
  }

  function feeFor(item, country) {  // domain/shipping.py fee_for: null = does not ship there
    if (item.shipping === "none") { return 0; }
    var home = figures.home;
    if (!item.rates.length) {
      if (item.shipping === "domestic") { return country === home ? item.fee : null; }
      return item.fee;
    }
    var table = {};
    item.rates.forEach(function (rate) { table[rate.to] = rate.fee; });
    function allowed(fee) { return item.shipping === "domestic" && country !== home ? null : fee; }
    if (Object.prototype.hasOwnProperty.call(table, country)) { return allowed(table[country]); }
    if (country === home && Object.prototype.hasOwnProperty.call(table, "domestic")) { return table.domestic; }
    var regions = Object.keys(figures.regions);
    for (var i = 0; i < regions.length; i++) {
      if (Object.prototype.hasOwnProperty.call(table, regions[i]) && figures.regions[regions[i]].indexOf(country) !== -1) {
        return allowed(table[regions[i]]);
      }
    }
    if (Object.prototype.hasOwnProperty.call(table, "rest_of_world")) { return allowed(table.rest_of_world); }
    return null;
  }

  function value(name) { var field = form.elements[name]; return field ? field.value : ""; }

  function show(selector, visible) {
    form.querySelectorAll(selector).forEach(function (element) { element.hidden = !visible; });
  }

  function setTotal(key, minor) {
    var cell = form.querySelector('[data-total="' + key + '"]');
    if (!cell) { return; }
    cell.textContent = minor === null ? "—" : format(minor);
    if (minor === null) { cell.removeAttribute("data-minor"); } else { cell.setAttribute("data-minor", String(minor)); }
  }

  function update() {
    var picked = form.querySelector('input[name="tier_id"]:checked');
    var chosen = picked ? picked.value : "";
    var tier = chosen && chosen !== "none" ? figures.tiers[chosen] : null;
    var addOns = [], summary = [];
    if (tier) {
      summary.push(picked.closest("label").querySelector("strong").textContent + " × " + (parseInt(value("quantity"), 10) || 1));
      Object.keys(figures.add_ons).forEach(function (id) {
        var units = parseInt(value("add_on-" + id), 10) || 0;
        if (units > 0) {
          addOns.push({ item: figures.add_ons[id], units: units });
          summary.push(form.querySelector('label[for="add_on-' + id + '"]').textContent.split(" · ")[0] + " × " + units);
        }
      });
    }
    var shipped = [];
    if (tier && tier.shipping !== "none") { shipped.push(tier); }
    addOns.forEach(function (line) { if (line.item.shipping !== "none") { shipped.push(line.item); } });

    show('[data-show="chosen"]', Boolean(chosen));
    show('[data-show="tier"]', Boolean(tier));
    show('[data-show="none"]', chosen === "none");
    show('[data-show="ships"]', shipped.length > 0);

    var note = form.querySelector('[data-total="note"]');
    var summaryLine = form.querySelector('[data-total="summary"]');
    if (!chosen) {
      ["reward", "add_ons", "shipping", "extra", "total"].forEach(function (key) { setTotal(key, null); });
      return;
    }
    var extra = minorOf(value("extra"));
    var reward = tier ? tier.price * Math.max(parseInt(value("quantity"), 10) || 1, 1) : minorOf(value("amount"));
    var addOnsAmount = addOns.reduce(function (sum, line) { return sum + line.item.price * line.units; }, 0);
    var shipping = 0, message = "";
    if (shipped.length) {
      var country = value("shipping_country").toUpperCase();
      if (!country) {
        shipping = null;
        message = note.getAttribute("data-choose-country");
      } else {
        shipped.forEach(function (item) {
          var fee = feeFor(item, country);
          if (fee === null) { shipping = null; message = note.getAttribute("data-does-not-ship"); }
          else if (shipping !== null) { shipping += fee; }
        });
      }
    }
    setTotal("reward", reward);
    setTotal("add_ons", addOnsAmount);
    setTotal("shipping", shipping);
    setTotal("extra", extra);
    setTotal("total", shipping === null ? null : reward + addOnsAmount + shipping + extra);
    note.textContent = message;
    summaryLine.textContent = tier ? summary.join(", ") : summaryLine.getAttribute("data-no-reward");
  }

  var button = form.querySelector("[data-quote-button]");
  if (button) { button.hidden = true; }  // the total follows the form as it changes
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
