// Stripe's Payment Element for the pledge form (loaded only when Stripe is the payment gateway).
// The payment fields live in Stripe's own frames: card numbers and wallet logins go from the
// browser to Stripe and never reach our server. On submit we ask Stripe for a PaymentMethod
// and post only its id (pm_...) in the hidden payment field; the server then creates and
// confirms the payment with a return URL (3-D Secure, Alipay and WeChat Pay come back there).
// The markup comes from templates/payments/_stripe_card.html and _stripe_next_action.html.
(function () {
  "use strict";

  function showError(box, message) {
    var errors = box.querySelector("[data-stripe-card-errors]");
    if (errors) { errors.textContent = message || ""; }
  }

  function setUpPayment(box) {
    var key = box.getAttribute("data-publishable-key");
    var currency = box.getAttribute("data-currency");
    var form = box.closest("form");
    var input = document.getElementById(box.getAttribute("data-payment-field"));
    if (!key || !currency || !window.Stripe || !form || !input) {
      showError(box, box.getAttribute("data-missing-message"));
      return;
    }
    // Stripe.js wants a positive amount in "payment" mode. The server charges the pledge's
    // own total whatever this says; it only shows in wallets, so those need the real one.
    var amount = parseInt(box.getAttribute("data-amount"), 10);
    var amountKnown = amount > 0;
    var stripe = window.Stripe(key, { locale: box.getAttribute("data-locale") || "auto" });
    var elements = stripe.elements({
      mode: "payment",
      amount: amountKnown ? amount : 1,
      currency: currency,
      // The same list the server allows, so nothing is offered that it would refuse.
      paymentMethodTypes: (box.getAttribute("data-payment-method-types") || "card").split(","),
      paymentMethodCreation: "manual"  // we create the PaymentMethod; the server confirms it
    });
    var payment = elements.create("payment", amountKnown ? {} : {
      wallets: { applePay: "never", googlePay: "never" }
    });
    payment.mount(box.querySelector("[data-stripe-card-element]"));
    payment.on("change", function () {
      input.value = "";  // changed details need a new PaymentMethod
      showError(box, "");
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

      function done(message) {
        busy = false;
        buttons.forEach(function (button) { button.disabled = false; });
        showError(box, message);
      }

      // submit() checks the fields and gathers what wallets need before a PaymentMethod is made.
      elements.submit().then(function (submitted) {
        if (submitted.error) { done(submitted.error.message); return null; }
        return stripe.createPaymentMethod({ elements: elements });
      }).then(function (result) {
        if (!result) { return; }
        if (result.error) { done(result.error.message); return; }
        done("");
        input.value = result.paymentMethod.id;
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      }, function () {
        done(box.getAttribute("data-missing-message"));  // Stripe.js could not be reached
      });
    });
  }

  // The payment waits for the backer: Stripe.js does what Stripe asked (the bank's 3-D Secure
  // page, a wallet redirect, the WeChat Pay QR code), then we go to the pledge's return page.
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
    document.querySelectorAll("[data-stripe-card]").forEach(setUpPayment);
    document.querySelectorAll("[data-stripe-next-action]").forEach(finishAction);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
