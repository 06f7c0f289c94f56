"""The sandbox's test payment methods, named like Stripe's: which succeed, which are declined
and why, which wait for the backer on the sandbox's own page (3-D Secure, Alipay, WeChat
Pay), and the cards the pledge form offers in the sandbox."""

from .sandbox_disputes import DISPUTE_METHOD

# Test payment methods, named like Stripe's.
SUCCEEDING_METHODS = {
    "pm_card_visa",
    "pm_card_mastercard",
    "pm_card_amex",
    "pm_card_unionpay",
    "pm_card_visa_debit",
    DISPUTE_METHOD,
}
DECLINES = {
    "pm_card_chargeDeclined": ("card_declined", "Your card was declined."),
    "pm_card_insufficientFunds": ("insufficient_funds", "Your card has insufficient funds."),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "Your card has expired."),
}
# Methods the backer must finish on the sandbox's page first -> Stripe's `next_action.type`.
ACTION_METHODS = {
    "pm_card_threeDSecure2Required": "redirect_to_url",  # 3-D Secure
    "pm_card_authenticationRequired": "redirect_to_url",  # 3-D Secure
    "pm_alipay": "redirect_to_url",  # Alipay's own page
    "pm_wechat_pay": "wechat_pay_display_qr_code",  # a QR code to scan with WeChat
}
WALLETS = {"pm_alipay", "pm_wechat_pay"}
# Why a payment that waited for the backer did not go through (decline_code -> message).
ACTION_FAILURES = {
    "authentication_failed": "The bank could not authenticate this payment.",
    "payment_failed": "The payment was not completed in the wallet.",
    "canceled": "The payment was canceled before it was completed.",
}
TEST_CARDS = [
    ("pm_card_visa", "Visa •••• 4242 (succeeds)"),
    ("pm_card_mastercard", "Mastercard •••• 4444 (succeeds)"),
    ("pm_card_unionpay", "UnionPay •••• 0005 (succeeds)"),
    ("pm_card_chargeDeclined", "Visa •••• 0002 (declined)"),
    ("pm_card_insufficientFunds", "Visa •••• 9995 (insufficient funds)"),
    ("pm_card_threeDSecure2Required", "Visa •••• 3220 (asks for 3-D Secure)"),
    ("pm_card_authenticationRequired", "Visa •••• 3184 (bank asks to confirm)"),
    (DISPUTE_METHOD, "Visa •••• 0259 (succeeds, then the backer disputes it)"),
    ("pm_alipay", "Alipay (redirects)"),
    ("pm_wechat_pay", "WeChat Pay (QR code)"),
]
