// Stripe Elements for the pledge form (loaded only when Stripe is the payment gateway).
// The card fields live in Stripe's own frame: the card number goes from the browser to
// Stripe and never reaches our server. On submit we ask Stripe for a PaymentMethod and post
// only its id (pm_...) in the hidden payment field; the server then charges it.
// The markup comes from templates/payments/_stripe_card.html and _stripe_next_action.html.
(function () {
  "use strict";

  function showError(box, message) {
    var errors = box.querySelector("[data-stripe-card-errors]");
    if (errors) { errors.textContent = message || ""; }
  }

  function setUpCard(box) {
    var key = box.getAttribute("data-publishable-key");
    var form = box.closest("form");
    var input = document.getElementById(box.getAttribute("data-payment-field"));
    if (!key || !window.Stripe || !form || !input) {
      showError(box, box.getAttribute("data-missing-message"));
      return;
    }
    var stripe = window.Stripe(key, { locale: box.getAttribute("data-locale") || "auto" });
    var card = stripe.elements().create("card", { hidePostalCode: true });
    card.mount(box.querySelector("[data-stripe-card-element]"));
    card.on("change", function (event) {
      input.value = "";  // a changed card needs a new PaymentMethod
      showError(box, event.error ? event.error.message : "");
    });

    var busy = false;
    form.addEventListener("submit", function (event) {
      if (input.value) { return; }  // the PaymentMethod id is in place: let the form go
      event.preventDefault();
      if (busy) { return; }
      busy = true;
      var buttons = form.querySelectorAll("button[type=submit], input[type=submit]");
      buttons.forEach(function (button) { button.disabled = true; });
      showError(box, box.getAttribute("data-working-message"));
      stripe.createPaymentMethod({ type: "card", card: card }).then(function (result) {
        busy = false;
        buttons.forEach(function (button) { button.disabled = false; });
        if (result.error) {
          showError(box, result.error.message);
          return;
        }
        showError(box, "");
        input.value = result.paymentMethod.id;
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      });
    });
  }

  // 3-D Secure: the charge needs the backer's bank to confirm; Stripe.js shows the bank's page.
  function finishAction(box) {
    var key = box.getAttribute("data-publishable-key");
    if (!key || !window.Stripe) { return; }
    var stripe = window.Stripe(key);
    stripe.handleNextAction({ clientSecret: box.getAttribute("data-client-secret") }).then(function (result) {
      if (result.error) { showError(box, result.error.message); }
      var next = box.getAttribute("data-return-url");
      if (next) { window.location.assign(next); }
    });
  }

  function init() {
    document.querySelectorAll("[data-stripe-card]").forEach(setUpCard);
    document.querySelectorAll("[data-stripe-next-action]").forEach(finishAction);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
